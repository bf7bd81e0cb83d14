"""`docket eval`: the whole pipeline on a dataset's dev split, scored the dataset's own way.

Every document goes through what production runs: Docket's conversion (cached between runs,
as the bytes and settings decide it exactly), the router (no type hint), the extraction with
or without the type's adapter, the schema and the rules. Each registered dataset scores the
answers its own way (`Dataset.score` / `Dataset.summarize`, in its type's package).

The report also gives router accuracy, schema-valid rate, per-document latency, calibration of
the confidence threshold (accuracy of scored fields above and below it), the most common
errors with examples, and for types that select passages of long documents how many labelled
values the model's context holds with selection vs a blind cut at the same budget.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import doctypes
from pipeline.doctypes import Dataset, Score, Source
from pipeline.doctypes.base import HAND
from pipeline.document import Document
from pipeline.errors import DocumentError
from pipeline.extract.context import context_for, truncated
from pipeline.extract.focus import focus_context
from pipeline.extract.provenance import FieldEvidence
from pipeline.extract.validation import low_confidence
from pipeline.process import Outcome, run_stages
from pipeline.settings import Settings
from pipeline.slm.runtime import Runtime
from pipeline.storage.documents import Status
from pipeline.training import datasets
from pipeline.training.calibration import Judged, cross_fitted, fit, observations

Progress = Callable[[str, int, int], None]


@dataclass
class Scored:
    """One document's outcome in one mode, with the fields scored against its labels."""

    key: str
    outcome: Outcome
    score: Score = field(default_factory=Score)


def _cached_converter(data: bytes, filename: str, settings: Settings) -> Document:
    document = datasets.convert_cached(data, filename, settings)
    if document is None:
        raise DocumentError("convert() refused this file")
    return document


# --- one mode over the documents -----------------------------------------------------------


def run_mode(data: Dataset, sources: list[Source], runtime: Runtime, settings: Settings,
             progress: Progress | None = None, mode: str = "") -> list[Scored]:
    out = []
    for n, source in enumerate(sources, start=1):
        outcome = run_stages(source.path.read_bytes(), source.filename, runtime, settings,
                             converter=_cached_converter)
        out.append(Scored(source.key, outcome, data.score(source.labels,
                                                          outcome.record_json() or {})))
        if progress:
            progress(mode, n, len(sources))
    return out


def summarize(data: Dataset, scored: list[Scored], threshold: float) -> dict[str, Any]:
    """The dataset's headline figures and the diagnostics for one mode."""
    n = len(scored)
    summary: dict[str, Any] = {"documents": n, **data.summarize([s.score for s in scored])}
    outcomes = [s.outcome for s in scored]
    extracted = [o.extraction for o in outcomes if o.extraction is not None]
    summary["router_accuracy"] = round(
        sum(o.document_type == data.doc_type for o in outcomes) / max(n, 1), 4)
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
    summary["straight_through"] = straight_through(scored, threshold)
    errors = [(s.key, e) for s in scored for e in s.score.errors]
    kinds = Counter(e["field"] for _, e in errors)
    summary["errors"] = {kind: {"count": count, "examples": [
        {"document": key, **e} for key, e in errors if e["field"] == kind][:4]}
        for kind, count in kinds.most_common()}
    return summary


def calibration(scored: list[Scored], threshold: float) -> dict[str, Any]:
    """Accuracy of scored fields whose confidence is at/above the threshold vs below it."""
    above: list[bool] = []
    below: list[bool] = []
    for s in scored:
        confidence = {f.path: f.confidence for f in (s.outcome.extraction.fields
                                                     if s.outcome.extraction else [])}
        for path, right in s.score.correct.items():
            if path in confidence:
                (above if confidence[path] >= threshold else below).append(right)
    return {
        "threshold": threshold,
        "fields_above": len(above),
        "accuracy_above": round(sum(above) / len(above), 4) if above else None,
        "fields_below": len(below),
        "accuracy_below": round(sum(below) / len(below), 4) if below else None,
    }


THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def as_judged(scored: list[Scored]) -> list[Judged]:
    """What calibration fits on: each document's values and which labelled paths were right."""
    return [(s.outcome.extraction.fields if s.outcome.extraction else [], s.score.correct)
            for s in scored]


def _done_at(outcome: Outcome, threshold: float,
             fields: list[FieldEvidence] | None = None) -> bool:
    """Would the document end `done` with this confidence threshold (and these confidences,
    if given)? Every other rule as it is: a record, no broken rule but `low_confidence`, every
    written value this sure."""
    extraction = outcome.extraction
    if extraction is None or extraction.record is None:
        return False
    if any(v.rule != "low_confidence" for v in extraction.violations):
        return False
    return not low_confidence(extraction.fields if fields is None else fields,
                              threshold)  # the rule itself, re-judged


def straight_through(scored: list[Scored], threshold: float) -> dict[str, Any]:
    """How many documents end `done` and how right their labelled fields are: at the
    configured threshold (what the pipeline did), and the curve over other thresholds
    (threshold → share done → accuracy of done), the same answers re-judged: with the
    confidences as the run had them, and with per-field maps cross-fitted on the dev split
    (`training.calibration`: each half judged by maps fitted on the other)."""
    n = max(len(scored), 1)

    def judged(done: list[Scored]) -> dict[str, Any]:
        fields = [ok for s in done for ok in s.score.correct.values()]
        return {"done_share": round(len(done) / n, 4), "done_documents": len(done),
                "done_fields": len(fields),
                "done_field_accuracy": round(sum(fields) / len(fields), 4) if fields else None}

    crossed = cross_fitted(as_judged(scored))
    return {
        "threshold": threshold,
        **judged([s for s in scored if s.outcome.status == Status.DONE]),
        "curve": [{"threshold": t, **judged([s for s in scored if _done_at(s.outcome, t)])}
                  for t in THRESHOLDS],
        "cross_fitted_curve": [{"threshold": t, **judged([
            s for s, fields in zip(scored, crossed, strict=True)
            if _done_at(s.outcome, t, fields)])} for t in THRESHOLDS],
    }


def context_recall(data: Dataset, sources: list[Source], settings: Settings) -> dict[str, Any]:
    """Share of labelled values the model's context holds, as the dataset's `holds` judges:
    an upper bound on what extraction can copy right (for scans, what the OCR read). For a
    type that selects passages of long documents: selected passages vs a blind cut at the
    same budget."""
    doctype = doctypes.get(data.doc_type)
    assert data.holds is not None
    budget = min(doctype.context_chars, settings.max_prompt_chars)
    found: Counter[str] = Counter()
    per_key: Counter[str] = Counter()
    per_key_found: Counter[str] = Counter()
    total = 0
    for source in sources:
        document = datasets.convert_source(source, settings)
        if document is None:
            continue
        selected = context_for(document, doctype.cues, budget, doctype.head_chars).text
        contexts = ({"selected": selected, "truncated": truncated(document, budget)}
                    if doctype.cues else {"context": selected})
        # A focused field's label is looked for in its own passages (labels named as it is).
        passages = {focus.name: focus_context(document, focus) for focus in doctype.focused}
        for key, values in source.labels.items():
            if key == HAND:
                continue
            for value in values:
                total += 1
                per_key[key] += 1
                for name, text in contexts.items():
                    if key in passages and name != "truncated":
                        text = passages[key]
                    hit = data.holds(key, value, text)
                    found[name] += hit
                    per_key_found[key] += hit and name in ("selected", "context")
    return {"budget_chars": budget, "values": total,
            **{name: round(hits / max(total, 1), 4) for name, hits in found.items()},
            "by_key": {key: round(per_key_found[key] / n, 4) for key, n in per_key.items()}}


# --- the command ---------------------------------------------------------------------------


def evaluate(name: str, runtime: Runtime, settings: Settings, limit: int | None,
             zero_shot_limit: int | None, progress: Progress | None = None) -> dict[str, Any]:
    """Adapter on the dev split (first `limit`), zero-shot on its first `zero_shot_limit`."""
    data = doctypes.dataset(name)
    sources = [s for s in datasets.labelled_sources(name) if s.split == "dev"][:limit]
    doctype = doctypes.get(data.doc_type)
    zs_sources = sources[:zero_shot_limit]
    adapter = doctype.adapter if doctype.adapter in runtime.adapters else None
    modes: dict[str, list[Scored]] = {}
    if zs_sources:
        modes["zero-shot"] = run_mode(data, zs_sources, runtime,
                                      replace_settings(settings, use_adapters=False),
                                      progress, "zero-shot")
    if adapter:
        modes["adapter"] = run_mode(data, sources, runtime,
                                    replace_settings(settings, use_adapters=True),
                                    progress, "adapter")
    threshold = settings.confidence_threshold
    report: dict[str, Any] = {
        "dataset": name,
        "headline": data.headline,
        "split": "dev",
        "model": runtime.name,
        "model_sha256": runtime.model_sha256,
        "runtime": runtime.kind,
        "adapter": adapter,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "modes": {mode: summarize(data, scored, threshold) for mode, scored in modes.items()},
    }
    if "adapter" in modes and zs_sources and len(zs_sources) < len(sources):
        report["modes"]["adapter (zero-shot's documents)"] = summarize(
            data, modes["adapter"][:len(zs_sources)], threshold)
    report["answers"] = {mode: [answer(s) for s in scored] for mode, scored in modes.items()}
    if "adapter" in modes:
        report["calibration_fit"] = fit(observations(as_judged(modes["adapter"])))
    if data.holds is not None:
        report["context_recall"] = context_recall(data, sources, settings)
    return report


def answer(scored: Scored) -> dict[str, Any]:
    """One document's answer in the report, for error analysis and re-scoring offline: its
    status, the rules it broke, the record, each value's confidence, what was right."""
    outcome = scored.outcome
    return {"key": scored.key, "status": outcome.status, "error": outcome.error,
            "rules": [v.rule for v in (outcome.extraction.violations if outcome.extraction
                                       else [])],
            "record": outcome.record_json(),
            "fields": [{"path": f["path"], "value": f["value"], "confidence": f["confidence"],
                        "raw_confidence": f.get("raw_confidence")}
                       for f in outcome.fields_json()],
            "correct": scored.score.correct}


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The one-line summary: the dataset's score per mode, router accuracy, validity."""
    key = report["headline"]
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


def record_in_manifest(report: dict[str, Any]) -> None:
    """A full dev-split run's figures become the adapter's own (its manifest's `eval`, and
    `evals` by dataset). A type scored on several datasets (contracts: Kleister and CUAD)
    keeps each dataset's figures and calibrated fields while they were measured on these
    same weights (after the adapter's `created_at`); a retrained adapter starts afresh."""
    if not report["adapter"]:
        return
    from pipeline.slm.adapters import find
    from pipeline.training.lora import write_manifest

    adapter = find(report["adapter"])
    manifest = adapter.manifest
    trained = str(manifest.get("created_at", ""))

    def current(section: dict[str, Any] | None) -> bool:
        return section is not None and str(section.get("created_at", "")) >= trained

    figures = {"dataset": report["dataset"], "split": "dev", "headline": headline(report),
               "adapter": report["modes"]["adapter"], "created_at": report["created_at"]}
    # Each full run writes its figures and its calibrated fields together, so the datasets
    # still current in `evals` are those the kept fields were fitted on.
    earlier = manifest.get("evals") or ({manifest["eval"]["dataset"]: manifest["eval"]}
                                        if manifest.get("eval") else {})
    evals = {name: e for name, e in earlier.items() if current(e)}
    evals[report["dataset"]] = figures
    previous = manifest.get("calibration")
    fields = dict(previous["fields"]) if previous and current(previous) else {}
    fields.update(report.get("calibration_fit", {}))
    write_manifest(adapter.path, {
        **manifest, "eval": figures, "evals": evals,
        "calibration": {"fitted_on": ", ".join(f"{name} dev" for name in evals),
                        "method": "isotonic", "created_at": report["created_at"],
                        "fields": fields}})


def write_report(report: dict[str, Any], path: Path) -> None:
    import json

    datasets.write_atomic(path, (json.dumps(report, indent=1, default=str) + "\n").encode())

