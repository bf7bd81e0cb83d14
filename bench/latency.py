"""Seconds from a document's bytes to its validated record, as a worker runs it, p50 and p95.

    .venv/bin/python -m bench.latency                # 50 SROIE dev receipts, 10 contracts
    .venv/bin/python -m bench.latency --receipts 10 --contracts 3 --no-reference   # a quick look

Documents: the receipt samples (PDF and scans) and the first `--receipts` SROIE dev receipt
scans; the first `--contracts` Kleister-NDA dev contracts. Each goes through `run_stages`
(convert with OCR, route, extract with the type's adapter, validate), nothing cached, after
one warm-up document. Reference: the same run with one model pass a token
(`DOCKET_SPECULATIVE=0`, the decoding before issue 16), in the same process. Printed: p50 and
p95 of the total and of each stage, ours beside the reference, and the ratio. Last line: one
JSON object (`receipt_p50_ms`, `receipt_p95_ms`, `contract_p50_ms`, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from pipeline.process import run_stages  # noqa: E402
from pipeline.settings import get_settings  # noqa: E402
from pipeline.slm.factory import get_runtime  # noqa: E402
from pipeline.slm.runtime import Runtime  # noqa: E402
from pipeline.training.datasets import labelled_sources  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
STAGES = ("convert", "classify", "prefill", "decode")


def documents(receipts: int, contracts: int) -> dict[str, list[tuple[str, bytes]]]:
    """The receipts and contracts measured: (name, bytes)."""
    samples = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("receipt-"))
    sroie = [s for s in labelled_sources("sroie") if s.split == "dev"][:receipts]
    kleister = [s for s in labelled_sources("kleister-nda") if s.split == "dev"][:contracts]
    return {
        "receipt": [(p.name, p.read_bytes()) for p in samples]
        + [(s.path.name, s.path.read_bytes()) for s in sroie],
        "contract": [(s.path.name, s.path.read_bytes()) for s in kleister],
    }


def measure(runtime: Runtime, items: list[tuple[str, bytes]],
            speculative: bool) -> list[dict[str, float]]:
    """Milliseconds of each document, in total and by stage."""
    settings = get_settings()
    runtime.speculative = speculative
    rows = []
    for name, data in items:
        started = time.perf_counter()
        outcome = run_stages(data, name, runtime, settings)
        total = (time.perf_counter() - started) * 1000
        rows.append({"total": total, **{s: outcome.timings_ms.get(s, 0.0) for s in STAGES},
                     "done": float(outcome.status == "done")})
    return rows


def percentiles(rows: list[dict[str, float]], key: str) -> tuple[float, float]:
    values = [r[key] for r in rows]
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=50, help="SROIE dev receipts")
    parser.add_argument("--contracts", type=int, default=10, help="Kleister-NDA dev contracts")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the one-pass-a-token reference run")
    args = parser.parse_args()
    runtime = get_runtime(get_settings())
    sets = documents(args.receipts, args.contracts)
    warm = sets["receipt"][0]
    measure(runtime, [warm], True)  # OCR and grammar caches, first-touch pages
    summary: dict[str, Any] = {}
    print(f"{'':22} {'ours p50':>9} {'p95':>7} {'ref p50':>8} {'p95':>7} {'p50 ratio':>9}")
    for kind, items in sets.items():
        if not items:
            continue
        ours = measure(runtime, items, True)
        reference = [] if args.no_reference else measure(runtime, items, False)
        print(f"{kind}s ({len(items)} documents)")
        for key in ("total", *STAGES):
            p50, p95 = percentiles(ours, key)
            r50, r95 = percentiles(reference, key) if reference else (0.0, 0.0)
            ratio = f"{r50 / p50:8.2f}×" if reference and p50 else ""
            print(f"  {key + ' ms':20} {p50:9.0f} {p95:7.0f} {r50:8.0f} {r95:7.0f} {ratio:>9}")
            if key == "total":
                summary[f"{kind}_p50_ms"], summary[f"{kind}_p95_ms"] = round(p50), round(p95)
                if reference:
                    summary[f"{kind}_p50_ms_reference"] = round(r50)
                    summary[f"{kind}_p95_ms_reference"] = round(r95)
            else:
                summary[f"{kind}_{key}_p50_ms"] = round(p50)
        summary[f"{kind}_done_share"] = round(sum(r["done"] for r in ours) / len(ours), 3)
    runtime.speculative = get_settings().speculative
    print(json.dumps({"threads": get_settings().model_threads or os.cpu_count(), **summary}))


if __name__ == "__main__":
    main()
