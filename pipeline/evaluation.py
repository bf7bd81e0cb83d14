"""`docket eval`: the whole pipeline on a dataset's dev split, scored the dataset's own way.

Every document goes through what production runs: Docket's conversion (cached between runs,
as the bytes and settings decide it exactly), the router (no type hint), the extraction with
or without the type's adapter, the schema and the rules. Scoring:

- SROIE: per-field accuracy for company, address (exact after white-space collapse, case-blind),
  date and total (compared as values: the same day, the same amount), and their mean.
- Kleister-NDA: F1 over (key, value) pairs for party, jurisdiction, term and effective_date,
  values upper-cased and white space collapsed; commas are dropped on both sides, as the
  dataset's own labels drop them ("Nike Inc." for "NIKE, Inc.").

The report also gives router accuracy, schema-valid rate, per-document latency, calibration of
the confidence threshold (accuracy of scored fields above and below it), the most common
errors with examples, and for contracts how many labelled values the model's context holds
with passage selection vs a blind cut at the same budget.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline import datasets, doctypes, passages
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.process import Outcome, run_stages
from pipeline.settings import Settings
from pipeline.slm.runtime import Runtime
from pipeline.training.targets import as_stated, date_as_stated
from schemas.common import parse_date, parse_money

Progress = Callable[[str, int, int], None]
SROIE_FIELDS = {"company": "merchant_name", "address": "merchant_address", "date": "date",
                "total": "total"}
KLEISTER_KEYS = ("party", "jurisdiction", "term", "effective_date")


@dataclass
class Scored:
    """One document's outcome in one mode, with the fields scored against its labels."""

    key: str
    outcome: Outcome
    correct: dict[str, bool] = field(default_factory=dict)  # answer path → right?
    pairs: tuple[set[tuple[str, str]], set[tuple[str, str]]] = (set(), set())  # pred, gold
    errors: list[dict[str, Any]] = field(default_factory=list)


def norm(text: str | None) -> str:
    return " ".join(str(text or "").replace(",", " ").split()).upper()


def _cached_converter(data: bytes, filename: str, settings: Settings) -> Document:
    document = datasets.convert_cached(data, filename, settings)
    if document is None:
        raise DocumentError("convert() refused this file")
    return document


# --- scoring -------------------------------------------------------------------------------


def score_sroie(source: datasets.Source, outcome: Outcome) -> Scored:
    record = outcome.record_json() or {}
    scored = Scored(source.key, outcome)
    for label_key, path in SROIE_FIELDS.items():
        gold = source.labels.get(label_key, [""])[0]
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


def kleister_pairs(record: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = {("party", norm(p["name"])) for p in record.get("parties") or [] if p.get("name")}
    for key in ("jurisdiction", "term", "effective_date"):
        if record.get(key):
            pairs.add((key, norm(record[key])))
    return pairs


def score_kleister(source: datasets.Source, outcome: Outcome) -> Scored:
    record = outcome.record_json() or {}
    gold = {(key, norm(value)) for key, values in source.labels.items() for value in values}
    predicted = kleister_pairs(record)
    scored = Scored(source.key, outcome, pairs=(predicted, gold))
    for n, party in enumerate(record.get("parties") or []):
        scored.correct[f"parties[{n}].name"] = ("party", norm(party.get("name"))) in gold
    for key in ("jurisdiction", "term", "effective_date"):
        if record.get(key) or any(k == key for k, _ in gold):
            scored.correct[key] = (key, norm(record.get(key))) in gold
    for key in KLEISTER_KEYS:
        missed = sorted(v for k, v in gold - predicted if k == key)
        extra = sorted(v for k, v in predicted - gold if k == key)
        if missed or extra:
            scored.errors.append({"field": key, "predicted": extra, "expected": missed})
    return scored


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


# --- one mode over the documents -----------------------------------------------------------


def run_mode(dataset: str, sources: list[datasets.Source], runtime: Runtime, settings: Settings,
             progress: Progress | None = None, mode: str = "") -> list[Scored]:
    scorer = score_sroie if dataset == "sroie" else score_kleister
    out = []
    for n, source in enumerate(sources, start=1):
        outcome = run_stages(source.path.read_bytes(), source.filename, runtime, settings,
                             converter=_cached_converter)
        out.append(scorer(source, outcome))
        if progress:
            progress(mode, n, len(sources))
    return out


def summarize(dataset: str, label: str, scored: list[Scored], threshold: float) -> dict[str, Any]:
    """The dataset's headline figures and the diagnostics for one mode."""
    n = len(scored)
    summary: dict[str, Any] = {"documents": n}
    if dataset == "sroie":
        per_field = {key: sum(s.correct.get(path, False) for s in scored) / max(n, 1)
                     for key, path in SROIE_FIELDS.items()}
        summary["fields"] = {k: round(v, 4) for k, v in per_field.items()}
        summary["mean_accuracy"] = round(sum(per_field.values()) / len(per_field), 4)
    else:
        per_key = {}
        for key in KLEISTER_KEYS:
            tp = sum(len({p for p in s.pairs[0] & s.pairs[1] if p[0] == key}) for s in scored)
            fp = sum(len({p for p in s.pairs[0] - s.pairs[1] if p[0] == key}) for s in scored)
            fn = sum(len({p for p in s.pairs[1] - s.pairs[0] if p[0] == key}) for s in scored)
            per_key[key] = round(f1(tp, fp, fn), 4)
        tp = sum(len(s.pairs[0] & s.pairs[1]) for s in scored)
        fp = sum(len(s.pairs[0] - s.pairs[1]) for s in scored)
        fn = sum(len(s.pairs[1] - s.pairs[0]) for s in scored)
        summary["fields"] = per_key
        summary["f1"] = round(f1(tp, fp, fn), 4)
    outcomes = [s.outcome for s in scored]
    extracted = [o.extraction for o in outcomes if o.extraction is not None]
    summary["router_accuracy"] = round(
        sum(o.document_type == label for o in outcomes) / max(n, 1), 4)
    summary["schema_valid"] = round(sum(
        e.generation.finished and e.record is not None for e in extracted
    ) / max(len(extracted), 1), 4)
    summary["statuses"] = dict(Counter(o.status for o in outcomes))
    latency = [o.timings_ms.get("classify", 0) + o.timings_ms.get("extract", 0)
               for o in outcomes if o.extraction is not None]
    summary["seconds_per_document"] = round(statistics.mean(latency) / 1000, 2) if latency else None
    summary["output_tokens_mean"] = round(statistics.mean(
        e.generation.output_tokens for e in extracted), 1) if extracted else None
    summary["calibration"] = calibration(scored, threshold)
    kinds = Counter(e["field"] for s in scored for e in s.errors)
    summary["errors"] = {key: {"count": count, "examples": [
        {"document": s.key, **e} for s in scored for e in s.errors if e["field"] == key][:4]}
        for key, count in kinds.most_common()}
    return summary


def calibration(scored: list[Scored], threshold: float) -> dict[str, Any]:
    """Accuracy of scored fields whose confidence is at/above the threshold vs below it."""
    above: list[bool] = []
    below: list[bool] = []
    for s in scored:
        confidence = {f.path: f.confidence for f in (s.outcome.extraction.fields
                                                     if s.outcome.extraction else [])}
        for path, right in s.correct.items():
            if path in confidence:
                (above if confidence[path] >= threshold else below).append(right)
    return {
        "threshold": threshold,
        "fields_above": len(above),
        "accuracy_above": round(sum(above) / len(above), 4) if above else None,
        "fields_below": len(below),
        "accuracy_below": round(sum(below) / len(below), 4) if below else None,
    }


def context_recall(sources: list[datasets.Source], settings: Settings) -> dict[str, Any]:
    """Share of labelled contract values the model's context holds: selected passages vs the
    first characters, at the contract budget. An upper bound on what extraction can find."""
    budget = min(doctypes.CONTRACT.context_chars, settings.max_prompt_chars)
    found = {"selected": 0, "truncated": 0}
    total = 0
    for source in sources:
        document = datasets.convert_source(source, settings)
        if document is None:
            continue
        contexts = {"selected": passages.context_for(document, "contract", budget).text,
                    "truncated": passages.truncated(document, budget)}
        for key, values in source.labels.items():
            for value in values:
                total += 1
                for name, text in contexts.items():
                    found[name] += _holds(key, value, text)
    return {"budget_chars": budget, "values": total,
            **{name: round(hits / max(total, 1), 4) for name, hits in found.items()}}


def _holds(key: str, value: str, text: str) -> bool:
    if key == "effective_date":
        return date_as_stated(value, text) != value
    if key == "term":
        number, _, unit = value.partition(" ")
        return number in text and unit[:4].lower() in text.lower()
    return norm(as_stated(value, text)) == norm(value) and value.split()[0].strip(",").lower() \
        in text.lower()


# --- the command ---------------------------------------------------------------------------


def evaluate(dataset: str, runtime: Runtime, settings: Settings, limit: int | None,
             zero_shot_limit: int | None, progress: Progress | None = None) -> dict[str, Any]:
    """Adapter on the dev split (first `limit`), zero-shot on its first `zero_shot_limit`."""
    sources = [s for s in datasets.labelled_sources(dataset) if s.split == "dev"][:limit]
    label = sources[0].label if sources else ""
    doctype = doctypes.get(label) if sources else None
    zs_sources = sources[:zero_shot_limit]
    adapter = doctype.adapter if doctype and doctype.adapter in runtime.adapters else None
    modes: dict[str, list[Scored]] = {}
    if zs_sources:
        modes["zero-shot"] = run_mode(dataset, zs_sources, runtime,
                                      replace_settings(settings, use_adapters=False),
                                      progress, "zero-shot")
    if adapter:
        modes["adapter"] = run_mode(dataset, sources, runtime,
                                    replace_settings(settings, use_adapters=True),
                                    progress, "adapter")
    report: dict[str, Any] = {
        "dataset": dataset,
        "split": "dev",
        "model": runtime.name,
        "model_sha256": runtime.model_sha256,
        "runtime": runtime.kind,
        "adapter": adapter,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "modes": {mode: summarize(dataset, label, scored, settings.confidence_threshold)
                  for mode, scored in modes.items()},
    }
    if "adapter" in modes and zs_sources and len(zs_sources) < len(sources):
        report["modes"]["adapter (zero-shot's documents)"] = summarize(
            dataset, label, modes["adapter"][:len(zs_sources)], settings.confidence_threshold)
    if dataset == "kleister-nda":
        report["context_recall"] = context_recall(sources, settings)
    return report


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The one-line summary: the dataset's score per mode, router accuracy, validity."""
    key = "mean_accuracy" if report["dataset"] == "sroie" else "f1"
    out: dict[str, Any] = {"dataset": report["dataset"]}
    for mode, summary in report["modes"].items():
        name = mode.replace(" ", "_").replace("'", "").replace("(", "").replace(")", "")
        out[f"{name}_{key}"] = summary[key]
        out[f"{name}_documents"] = summary["documents"]
    best: dict[str, Any] = (report["modes"].get("adapter")
                            or next(iter(report["modes"].values()), {}))
    out["router_accuracy"] = best.get("router_accuracy")
    out["schema_valid"] = best.get("schema_valid")
    out["seconds_per_document"] = best.get("seconds_per_document")
    return out


def write_report(report: dict[str, Any], path: Path) -> None:
    import json

    datasets.write_atomic(path, (json.dumps(report, indent=1, default=str) + "\n").encode())

