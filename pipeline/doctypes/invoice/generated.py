"""The generated invoice dataset: documents from `generator` rendered by `render`, with their
labels, split by seed (dev seeds never train), and its scorer.

The files are written once into `~/.cache/docket/generated/invoices-v<N>/` (or a folder a
user names: `python -m pipeline.doctypes.invoice.generated --out DIR`) and read back through
Docket's own `convert()` like any upload, so the adapter learns from the text production
sees: a PDF's text layer, or OCR of a scan.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import (
    Dataset,
    Score,
    Source,
    alnum,
    json_labels,
    record_of,
    score_items,
)
from pipeline.doctypes.invoice import generator, render
from schemas.common import normalize_currency, parse_date, parse_money

VERSION = 1  # bump when the generator or renderer changes what a seed makes
TRAIN, DEV = 300, 80
DEV_SEED = 100_000  # dev seeds start here: no dev invoice shares a seed with a train one
LABELS = "invoices.jsonl"
DEFAULT_DIR = Path.home() / ".cache" / "docket" / "generated" / f"invoices-v{VERSION}"

TEXT_FIELDS = ("invoice_number", "po_number", "seller_name", "seller_address", "seller_tax_id",
               "buyer_name", "buyer_address", "payment_terms", "bank_account")
DATE_FIELDS = ("issue_date", "due_date")
MONEY_FIELDS = ("net", "tax_rate", "tax", "total")
FIELDS = (*TEXT_FIELDS[:2], *DATE_FIELDS, *TEXT_FIELDS[2:], "currency", *MONEY_FIELDS)


def write(folder: Path, train: int = TRAIN, dev: int = DEV) -> Path:
    """Render `train` + `dev` invoices into `folder` with their labels (one JSON a line)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for split, seeds in (("train", range(train)), ("dev", range(DEV_SEED, DEV_SEED + dev))):
        for seed in seeds:
            data = generator.make(seed)
            content, ext = render.render(data, seed)
            name = f"invoice-{seed:06d}.{ext}"
            (folder / name).write_bytes(content)
            rows.append({"file": name, "split": split, "seed": seed,
                         "country": data.country.code, "layout": data.layout,
                         "labels": data.labels})
    tmp = folder / f"{LABELS}.tmp"
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    tmp.replace(folder / LABELS)  # last: a folder with labels is complete
    return folder


LOOKALIKES = {"purchase_order": 700_000, "quote": 800_000}  # kind → its first seed
LOOKALIKE_TRAIN, LOOKALIKE_DEV = 60, 20


def lookalike_sources(folder: Path = DEFAULT_DIR / "lookalikes") -> list[Source]:
    """Purchase orders and quotations in invoice layouts, labelled unknown (for the router),
    written on first use; every 4th to dev."""
    out = []
    for kind, first in LOOKALIKES.items():
        for n in range(LOOKALIKE_TRAIN + LOOKALIKE_DEV):
            seed = first + n
            data = generator.make(seed, kind)
            ext = "jpg" if data.scanned else "pdf"
            path = folder / f"{kind}-{seed}.{ext}"
            if not path.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                path.write_bytes(render.render(data, seed)[0])
            out.append(Source("invoice-lookalikes", path.stem, "unknown",
                              "dev" if n % 4 == 3 else "train", path, path.name))
    return out


def looks_like(folder: Path) -> bool:
    return (folder / LABELS).is_file()


def sources(folder: Path) -> list[Source]:
    """The generated invoices, written into `folder` on first use."""
    if not looks_like(folder):
        write(folder)
    out = []
    for line in (folder / LABELS).read_text().splitlines():
        row = json.loads(line)
        out.append(Source("invoice-gen", Path(row["file"]).stem, "invoice", row["split"],
                          folder / row["file"], row["file"],
                          labels=json_labels(row["labels"])))
    return out


def target(labels: dict[str, list[str]], context: str) -> tuple[dict[str, Any], set[str]]:
    """Every field is labelled: the draft as printed, nothing left out of the loss."""
    return record_of(labels), set()


def _same_money(gold: Any, predicted: Any) -> bool:
    a, b = parse_money(gold), None if predicted is None else Decimal(str(predicted))
    return a == b


def score(labels: dict[str, list[str]], record: dict[str, Any]) -> Score:
    """Each field against its label, null labels included (a value where the invoice prints
    none is wrong): text as letters and digits, dates and money as values, the currency as
    its ISO code; items as in receipts (description and amount), extra items count against."""
    gold = record_of(labels)
    currency = normalize_currency(gold["currency"])
    scored = Score()
    for name in FIELDS:
        predicted = record.get(name)
        if name in DATE_FIELDS:
            day = parse_date(gold[name], month_first=currency == "USD")
            right = (day.isoformat() if day else None) == predicted
            shown = record.get(f"{name}_text")
        elif name in MONEY_FIELDS:
            right, shown = _same_money(gold[name], predicted), predicted
        elif name == "currency":
            right, shown = currency == predicted, predicted
        else:
            right, shown = alnum(gold[name]) == alnum(predicted), predicted
        scored.correct[name] = right
        if not right:
            scored.errors.append({"field": name, "predicted": shown, "expected": gold[name]})
    missed, extra = score_items(gold["items"], record.get("items") or [], scored)
    if missed or extra:
        scored.errors.append({"field": "items", "predicted": len(record.get("items") or []),
                              "expected": len(gold["items"])})
    return scored


def summarize(scores: list[Score]) -> dict[str, Any]:
    """Per-field accuracy and their mean (the headline), items recall and precision, and the
    share of invoices with every field and item right."""
    n = max(len(scores), 1)
    per_field = {name: round(sum(s.correct.get(name, False) for s in scores) / n, 4)
                 for name in FIELDS}
    gold_items = [ok for s in scores for k, ok in s.correct.items() if k.startswith("items[")]
    extra = sum(k.startswith("extra item") for s in scores for k in s.correct)
    found = sum(gold_items)
    return {
        "fields": per_field,
        "mean_accuracy": round(sum(per_field.values()) / len(per_field), 4),
        "items_recall": round(found / max(len(gold_items), 1), 4),
        "items_precision": round(found / max(found + extra, 1), 4),
        "all_right": round(sum(all(s.correct.values()) for s in scores) / n, 4),
    }


def holds(key: str, value: str, text: str) -> bool:
    """Is the labelled value in the text, spacing and case aside (for items, every line's
    description and amount)? A null label is held trivially."""
    label = json.loads(value)
    flat = " ".join(text.split()).upper()
    if key == "items":
        wanted = [str(v) for item in label for v in (item["description"], item["amount"])]
    else:
        wanted = [str(label)] if label else []
    return all(" ".join(v.split()).upper() in flat for v in wanted)


DATASET = Dataset(
    name="invoice-gen",
    doc_type="invoice",
    folder="invoices-generated",
    description="generated invoices: 8 countries, 3 layouts, text PDFs and scans, every "
                "field labelled",
    looks_like=looks_like,
    sources=sources,
    target=target,
    score=score,
    summarize=summarize,
    headline="mean_accuracy",
    holds=holds,
    generated_in=DEFAULT_DIR,
)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write generated invoices with their labels.")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--train", type=int, default=TRAIN)
    parser.add_argument("--dev", type=int, default=DEV)
    args = parser.parse_args()
    folder = write(args.out, args.train, args.dev)
    print(f"{args.train + args.dev} invoices and their labels ({LABELS}) in {folder}")


if __name__ == "__main__":
    main()
