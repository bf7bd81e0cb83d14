"""SROIE: scanned Malaysian till receipts labelled with company, address, date and total.

Splits are deterministic and shared by the router, the adapter and `docket eval`: ids sorted,
every 5th to dev. Scoring is SROIE's own: company and address exact after white-space
collapse (case-blind), date and total compared as values (the same day, the same amount).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import Dataset, Score, Source
from pipeline.doctypes.receipt import synthetic
from schemas.common import parse_date, parse_money

DEV_EVERY = 5  # every 5th id goes to dev
FIELDS = {"company": "merchant_name", "address": "merchant_address", "date": "date",
          "total": "total"}  # label key → record field


def looks_like(folder: Path) -> bool:
    return (folder / "labels").is_dir() and (folder / "images").is_dir()


def sources(folder: Path) -> list[Source]:
    """The receipt scans with their labels; every 5th to dev."""
    images = sorted((folder / "images").glob("*.jpg"))
    out = []
    for i, path in enumerate(images):
        label_path = folder / "labels" / f"{path.stem}.json"
        labels = json.loads(label_path.read_text()) if label_path.is_file() else {}
        out.append(Source(
            "sroie", path.stem, "receipt", "dev" if i % DEV_EVERY == DEV_EVERY - 1 else "train",
            path, path.name, labels={k: [v] for k, v in labels.items() if v},
        ))
    return out


def target(labels: dict[str, list[str]], context: str) -> tuple[dict[str, Any], set[str]]:
    """The four labelled fields; everything else is unscored (SROIE does not label it)."""
    first = {key: values[0] for key, values in labels.items()}
    draft = {
        "merchant_name": first.get("company"),
        "merchant_address": first.get("address"),
        "date": first.get("date"),
        "total": first.get("total"),
    }
    return draft, {"currency", "subtotal", "tax", "payment_method", "items"}


def score(labels: dict[str, list[str]], record: dict[str, Any]) -> Score:
    scored = Score()
    for label_key, path in FIELDS.items():
        gold = labels.get(label_key, [""])[0]
        if label_key == "date":
            gold_date = parse_date(gold)
            right = gold_date is not None and record.get("date") == gold_date.isoformat()
            predicted = record.get("date_text")
        elif label_key == "total":
            amount = parse_money(gold)
            right = record.get("total") is not None and amount is not None and \
                Decimal(str(record["total"])) == amount
            predicted = record.get("total")
        else:
            predicted = record.get(path)
            right = " ".join(str(predicted or "").split()).upper() == " ".join(gold.split()).upper()
        scored.correct[path] = right
        if not right:
            scored.errors.append({"field": label_key, "predicted": predicted, "expected": gold})
    return scored


def summarize(scores: list[Score]) -> dict[str, Any]:
    """Per-field accuracy and their mean (the headline)."""
    n = max(len(scores), 1)
    per_field = {key: sum(s.correct.get(path, False) for s in scores) / n
                 for key, path in FIELDS.items()}
    return {"fields": {k: round(v, 4) for k, v in per_field.items()},
            "mean_accuracy": round(sum(per_field.values()) / len(per_field), 4)}


def holds(key: str, value: str, text: str) -> bool:
    """Is the labelled value written in the text as the label has it (white space collapsed,
    case-blind)? What a perfect copier could get right."""
    return " ".join(value.split()).upper() in " ".join(text.split()).upper()


DATASET = Dataset(
    name="sroie",
    doc_type="receipt",
    folder="sroie",
    description="SROIE receipt scans (company, address, date, total)",
    looks_like=looks_like,
    sources=sources,
    target=target,
    score=score,
    summarize=summarize,
    headline="mean_accuracy",
    holds=holds,
    synthetic=synthetic.receipt,
    default_synthetic=150,
)
