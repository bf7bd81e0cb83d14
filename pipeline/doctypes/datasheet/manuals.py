"""Arduino product datasheets (`../shared/datasets/manuals`): each product as Markdown and as
a PDF rendered from it, with a labelled record; its splits and its scorer.

Both forms of a product are documents of the same split (a user uploads either), so the
adapter learns from docling's Markdown tables and from the PDF text layer's rows alike, and
dev scores both. The labels' specifications come from Arduino's tech-specs.yml and are kept
only where the datasheet prints the value; a product's list is therefore a subset of what a
datasheet states, and an answer's extra specifications are not all wrong: the scorer reports
specification recall beside a precision that is a lower bound.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import Dataset, Score, Source, alnum, json_labels, record_of

SCALARS = ("product_name", "manufacturer", "document_revision", "document_revision_date",
           "microcontroller")
TABLES = ("operating_conditions", "absolute_maximum_ratings")
LISTS = ("model_numbers", *TABLES, "specifications")
CONDITION_KEYS = ("parameter", "symbol", "min", "typ", "max", "unit")
PRINTED_DATE = "document_revision_date_as_printed"  # beside the ISO label: what the model copies


def looks_like(folder: Path) -> bool:
    return (folder / "splits.json").is_file() and (folder / "labels").is_dir() \
        and (folder / "documents").is_dir() and (folder / "raw").is_dir()


@functools.cache
def _splits(folder: Path) -> dict[str, str]:
    splits = json.loads((folder / "splits.json").read_text())
    return {key: split for split in ("train", "dev") for key in splits[split]}


def sources(folder: Path) -> list[Source]:
    """Every product of the train and dev splits, once as Markdown and once as PDF."""
    out = []
    for key, split in sorted(_splits(folder).items()):
        record = json.loads((folder / "labels" / f"{key}.json").read_text())
        label = json_labels({**{name: record[name] for name in (*SCALARS, *LISTS)},
                             PRINTED_DATE: printed_date(record)})
        for ext in ("md", "pdf"):
            path = folder / "documents" / f"{key}.{ext}"
            if path.is_file():
                out.append(Source("manuals", f"{key}.{ext}", "datasheet", split, path,
                                  path.name, labels=label))
    return out


def _in(value: Any, flat: str) -> bool:
    return bool(value) and alnum(value) in flat


def target(labels: dict[str, list[str]], context: str) -> tuple[dict[str, Any], set[str]]:
    """The labelled record as the draft, keeping list entries whose values the context holds
    (an entry the model cannot see would teach it to invent one); a scalar the context lacks
    is left out of the loss."""
    record = record_of(labels)
    flat = alnum(context)
    draft: dict[str, Any] = {name: record[name] for name in SCALARS}
    draft["model_numbers"] = [n for n in record["model_numbers"] if _in(n, flat)]
    for table in TABLES:
        draft[table] = [{key: row.get(key) for key in CONDITION_KEYS} for row in record[table]
                        if all(_in(row.get(k), flat) or not row.get(k)
                               for k in ("min", "typ", "max"))
                        and (_in(row.get("parameter"), flat) or _in(row.get("symbol"), flat))]
    draft["specifications"] = [
        {"group": s["group"], "name": s["name"], "value": s["value"], "unit": s["unit"]}
        for s in record["specifications"] if _in(s["value"], flat)]
    missing = {name for name in SCALARS if name != "document_revision_date"
               and record[name] and not _in(record[name], flat)}
    if record["document_revision_date"] and not _date_printed(record, flat):
        missing.add("document_revision_date")
    if draft["document_revision_date"]:  # the model copies the date as printed
        draft["document_revision_date"] = printed_date(record) or record["document_revision_date"]
    return draft, missing


def printed_date(record: dict[str, Any]) -> str | None:
    """The labelled revision date as the datasheet prints it (the label itself is ISO)."""
    if PRINTED_DATE in record:
        return record[PRINTED_DATE]
    history = (record.get("provenance") or {}).get("revision_history") or {}
    printed: str | None = history.get("date_as_printed")
    return printed


def _date_printed(record: dict[str, Any], flat: str) -> bool:
    return _in(printed_date(record), flat)


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(alnum(row.get(k)) for k in ("min", "typ", "max", "unit"))


def score(labels: dict[str, list[str]], record: dict[str, Any]) -> Score:
    """Scalars: text as letters and digits, the revision date as a date, null labels
    included. Lists, entry by entry: a SKU by its letters and digits; a condition row by its
    min, typ, max and unit (parameter names vary); a specification by value and unit. Each
    gold entry found is a true positive (`pairs`), each answer entry matching none a false
    one."""
    gold = record_of(labels)
    scored = Score()
    for name in SCALARS:
        predicted = record.get(name)
        if name == "document_revision_date":
            right = (gold[name] or None) == predicted
            shown = record.get("document_revision_date_text")
        else:
            right = alnum(gold[name]) == alnum(predicted)
            shown = predicted
        scored.correct[name] = right
        if not right:
            scored.errors.append({"field": name, "predicted": shown, "expected": gold[name]})
    keys = {
        "model_numbers": (lambda n: (alnum(n),)),
        "operating_conditions": _row_key, "absolute_maximum_ratings": _row_key,
        "specifications": lambda s: (alnum(s.get("value")), alnum(s.get("unit"))),
    }
    pred_pairs, gold_pairs = set(), set()
    for name, key in keys.items():
        left = [key(x) for x in record.get(name) or []]
        want = [key(x) for x in gold[name]]
        for n, k in enumerate(want):
            found = k in left
            if found:
                left.remove(k)
                pred_pairs.add((name, f"{n}"))
            gold_pairs.add((name, f"{n}"))
        for n, _ in enumerate(left):
            pred_pairs.add((name, f"extra {n}"))
        scored.correct[name] = not left and len(want) == sum(
            1 for p in pred_pairs if p[0] == name and not p[1].startswith("extra"))
        if not scored.correct[name]:
            scored.errors.append({"field": name, "predicted": len(record.get(name) or []),
                                  "expected": len(gold[name]), "missed": len(want) - sum(
                                      1 for p in pred_pairs if p[0] == name
                                      and not p[1].startswith("extra")), "extra": len(left)})
    scored.pairs = (pred_pairs, gold_pairs)
    return scored


def summarize(scores: list[Score]) -> dict[str, Any]:
    """Scalar accuracies; for each list its recall and precision over all entries (a
    specification's precision is a lower bound: labels keep only some of a datasheet's
    specifications); the headline is the mean of scalar accuracies and list F1s."""
    n = max(len(scores), 1)
    fields: dict[str, float] = {name: round(sum(s.correct.get(name, False) for s in scores) / n,
                                            4) for name in SCALARS}
    lists: dict[str, dict[str, float]] = {}
    for name in LISTS:
        gold = sum(1 for s in scores for p in s.pairs[1] if p[0] == name)
        found = sum(1 for s in scores for p in s.pairs[0]
                    if p[0] == name and not p[1].startswith("extra"))
        extra = sum(1 for s in scores for p in s.pairs[0]
                    if p[0] == name and p[1].startswith("extra"))
        recall = found / gold if gold else 1.0
        precision = found / (found + extra) if found + extra else (1.0 if not gold else 0.0)
        f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
        lists[name] = {"recall": round(recall, 4), "precision": round(precision, 4),
                       "f1": round(f1, 4), "entries": gold}
        fields[name] = round(f1, 4)
    return {"fields": fields, "lists": lists,
            "mean_score": round(sum(fields.values()) / len(fields), 4)}


def holds(key: str, value: str, text: str) -> bool:
    """Does the text hold the labelled value (letters and digits, spacing aside)? A table:
    every row's min, typ and max; specifications: every value; the revision date is ISO in
    the label, so it is held trivially; provenance and notes are not values."""
    label = json.loads(value)
    flat = alnum(text)
    if key in TABLES:
        wanted = [row.get(k) for row in label for k in ("min", "typ", "max") if row.get(k)]
    elif key == "specifications":
        wanted = [spec["value"] for spec in label]
    elif key == "model_numbers":
        wanted = label
    elif (key in SCALARS and key != "document_revision_date") or key == PRINTED_DATE:
        wanted = [label] if label else []
    else:
        wanted = []
    return all(_in(v, flat) for v in wanted)


DATASET = Dataset(
    name="manuals",
    doc_type="datasheet",
    folder="manuals",
    description="Arduino product datasheets, Markdown and PDF (product, SKUs, revision, "
                "microcontroller, specifications, operating conditions, maximum ratings)",
    looks_like=looks_like,
    sources=sources,
    target=target,
    score=score,
    summarize=summarize,
    headline="mean_score",
    holds=holds,
)

