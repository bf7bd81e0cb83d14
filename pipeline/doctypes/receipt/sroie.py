"""SROIE: scanned Malaysian till receipts labelled with company, address, date and total.

Splits are deterministic and shared by the router, the adapter and `docket eval`: ids sorted,
every 5th to dev. Scoring is SROIE's own: company and address exact after white-space
collapse (case-blind), date and total compared as values (the same day, the same amount).

SROIE labels no items, subtotal, tax, currency or payment; `labels/sroie_hand.jsonl` holds
those fields written by hand for some train and dev receipts (its README says how). Where a
receipt has them, they are training targets and they are scored; elsewhere they stay
unscored.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import (
    HAND,
    Dataset,
    Score,
    Source,
    alnum,
    read_hand_labels,
    score_items,
)
from pipeline.doctypes.receipt import synthetic
from schemas.common import normalize_currency, parse_date, parse_money

HAND_LABELS = Path(__file__).with_name("labels") / "sroie_hand.jsonl"
HAND_FIELDS = ("currency", "subtotal", "tax", "payment_method", "items")

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
        found = {k: [v] for k, v in labels.items() if v}
        if path.stem in hand_labels():
            found[HAND] = [json.dumps(hand_labels()[path.stem])]
        out.append(Source(
            "sroie", path.stem, "receipt", "dev" if i % DEV_EVERY == DEV_EVERY - 1 else "train",
            path, path.name, labels=found,
        ))
    return out


@functools.cache
def hand_labels() -> dict[str, dict[str, Any]]:
    """id → the hand-written fields (those of HAND_FIELDS) of that receipt."""
    return read_hand_labels(HAND_LABELS, "id", HAND_FIELDS)


def target(labels: dict[str, list[str]], context: str) -> tuple[dict[str, Any], set[str]]:
    """The four labelled fields; everything else is unscored (SROIE does not label it)."""
    first = {key: values[0] for key, values in labels.items()}
    draft = {
        "merchant_name": first.get("company"),
        "merchant_address": first.get("address"),
        "date": first.get("date"),
        "total": first.get("total"),
    }
    if HAND in labels:  # every field is known: nothing is left out of the loss
        return {**draft, **json.loads(labels[HAND][0])}, set()
    return draft, set(HAND_FIELDS)


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
        scored.loose[path] = right or (label_key in ("company", "address")
                                       and bool(gold) and alnum(predicted) == alnum(gold))
        if not right:
            scored.errors.append({"field": label_key, "predicted": predicted, "expected": gold})
    if HAND in labels:
        _score_hand(json.loads(labels[HAND][0]), record, scored)
    return scored


def _same_amount(a: Any, b: Any) -> bool:
    x, y = parse_money(a), parse_money(b)
    return x == y if x is not None and y is not None else x is None and y is None


def _score_hand(gold: dict[str, Any], record: dict[str, Any], scored: Score) -> None:
    """The hand-labelled fields: values compared as values (currency as its ISO code, money
    as amounts, payment as letters and digits); each labelled item is right when an item of
    the answer has its description (letters and digits) and amount, and each answer item that
    matches none is wrong (a runaway list costs)."""
    checks = {
        "currency": normalize_currency(gold["currency"]) == record.get("currency"),
        "subtotal": _same_amount(gold["subtotal"], record.get("subtotal")),
        "tax": _same_amount(gold["tax"], record.get("tax")),
        "payment_method": alnum(gold["payment_method"]) == alnum(record.get("payment_method")),
    }
    for name, right in checks.items():
        scored.correct[name] = right
        if not right:
            scored.errors.append({"field": name, "predicted": record.get(name),
                                  "expected": gold[name]})
    missed, extra = score_items(gold["items"] or [], record.get("items") or [], scored)
    if missed or extra:
        scored.errors.append({"field": "items", "predicted": len(record.get("items") or []),
                              "expected": len(gold["items"] or [])})


def summarize(scores: list[Score]) -> dict[str, Any]:
    """Per-field accuracy and their mean (the headline, strict), and the same compared on
    letters and digits only (loose)."""
    n = max(len(scores), 1)
    per_field = {key: sum(s.correct.get(path, False) for s in scores) / n
                 for key, path in FIELDS.items()}
    loose = {key: sum(s.loose.get(path, False) for s in scores) / n
             for key, path in FIELDS.items()}
    summary: dict[str, Any] = {
        "fields": {k: round(v, 4) for k, v in per_field.items()},
        "mean_accuracy": round(sum(per_field.values()) / len(per_field), 4),
        "fields_loose": {k: round(v, 4) for k, v in loose.items()},
        "mean_accuracy_loose": round(sum(loose.values()) / len(loose), 4)}
    hand = [s for s in scores if "currency" in s.correct]
    if hand:
        gold_items = [ok for s in hand for k, ok in s.correct.items() if k.startswith("items[")]
        extra = sum(k.startswith("extra item") for s in hand for k in s.correct)
        found = sum(gold_items)
        summary["hand_labelled"] = {
            "documents": len(hand),
            **{name: round(sum(s.correct[name] for s in hand) / len(hand), 4)
               for name in HAND_FIELDS if name != "items"},
            "items_recall": round(found / max(len(gold_items), 1), 4),
            "items_precision": round(found / max(found + extra, 1), 4),
        }
    return summary


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
