"""OCR settings for receipt scans: how much labelled text the OCR reads, and how fast.

    .venv/bin/python -m bench.ocr_recall                      # the 83 SROIE dev receipts
    .venv/bin/python -m bench.ocr_recall --split train --limit 83 --unclip 1.6 2.0 2.3

For each box growth (`unclip_ratio`, ours: `pipeline.convert.ocr.UNCLIP_SCANS`; the reference:
RapidOCR's default 1.6), every receipt is OCR'd as the image route does (`ocr.ocr_image`) and the
share of SROIE's labelled values found in the text is printed: verbatim (the dataset's own
`holds`, as `docket eval`'s context recall judges: white space collapsed, case-blind) and
loose (letters and digits only, `doctypes.base.alnum`), with seconds per receipt (p50), and
the ratio to the reference. Nothing is cached. Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from typing import Any

from PIL import Image

from pipeline.convert import ocr
from pipeline.doctypes.base import alnum
from pipeline.doctypes.receipt.sroie import holds
from pipeline.training.datasets import labelled_sources

REFERENCE = ocr.UNCLIP_DEFAULT
KEYS = ("company", "address", "date", "total")


def measure(unclip: float, split: str, limit: int | None) -> dict[str, Any]:
    sources = [s for s in labelled_sources("sroie") if s.split == split][:limit]
    found: Counter[str] = Counter()
    loose: Counter[str] = Counter()
    total: Counter[str] = Counter()
    seconds = []
    for source in sources:
        started = time.perf_counter()
        with Image.open(source.path) as image:
            text = "\n".join(line.text for line in ocr.ocr_image(image, unclip_ratio=unclip))
        seconds.append(time.perf_counter() - started)
        for key in KEYS:
            for value in source.labels.get(key, []):
                total[key] += 1
                found[key] += holds(key, value, text)
                loose[key] += alnum(value) in alnum(text)
    return {"unclip": unclip, "receipts": len(sources),
            "verbatim": {k: round(found[k] / max(total[k], 1), 3) for k in KEYS},
            "loose": {k: round(loose[k] / max(total[k], 1), 3) for k in KEYS},
            "seconds_p50": round(statistics.median(seconds), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--unclip", type=float, nargs="+",
                        default=[REFERENCE, ocr.UNCLIP_SCANS])
    args = parser.parse_args()
    rows = [measure(u, args.split, args.limit) for u in args.unclip]
    reference = next((r for r in rows if r["unclip"] == REFERENCE), rows[0])
    for row in rows:
        ratio = {k: round(row["verbatim"][k] / max(reference["verbatim"][k], 1e-9), 2)
                 for k in KEYS}
        print(f"unclip {row['unclip']}: verbatim {row['verbatim']} loose {row['loose']} "
              f"{row['seconds_p50']} s  (ratio to {REFERENCE}: {ratio}, time "
              f"{row['seconds_p50'] / reference['seconds_p50']:.2f})")
    print(json.dumps({"split": args.split, "rows": rows}))


if __name__ == "__main__":
    main()
