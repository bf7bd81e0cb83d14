"""The gate in front of a new adapter version: promoted only if no labelled field got worse.

`docket adapters promote TYPE VERSION` evaluates the current version and the candidate on the
same documents, in one process with the base model loaded once: the first dev documents of
every dataset of the type, and the type's frozen regression set (reviewed documents set aside
by `docket adapters freeze`, never trained on). It compares each field's accuracy: a field worse
by more than `margin` on either refuses the candidate. Either way the decision, with both sets
of figures, is logged in `adapter_promotions`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import Connection

from pipeline import doctypes
from pipeline.document import Document
from pipeline.extract import extract
from pipeline.settings import Settings
from pipeline.slm import adapters as adapter_store
from pipeline.slm.live_adapters import loaded_version
from pipeline.slm.runtime import Runtime
from pipeline.storage import adapter_versions
from pipeline.training.evaluation import Progress, evaluate

NOTHING_TO_COMPARE = (
    "nothing to compare on: none of the type's dev documents are on this machine (the "
    "datasets folder beside the repository) and its regression set is empty; set reviewed "
    "documents aside with `docket adapters freeze {name}`")


@dataclass
class Decision:
    adapter: str
    version: int
    promoted: bool
    reason: str
    comparison: dict[str, Any] = field(default_factory=dict)


def field_figures(conn: Connection[Any], name: str, runtime: Runtime, settings: Settings,
                  limit: int, progress: Progress | None = None) -> dict[str, float]:
    """Each labelled field's accuracy, with the adapter the runtime holds now, on the first
    `limit` dev documents of every dataset of the adapter's type (`dataset:field`) and on the
    type's frozen regression set of reviewed documents (`regression:field`)."""
    figures: dict[str, float] = {}
    doc_types = set(doctypes.types_of(name))
    for data in doctypes.DATASETS.values():
        if data.doc_type not in doc_types:
            continue
        def step(_mode: str, n: int, total: int, dataset: str = data.name) -> None:
            if progress:
                progress(dataset, n, total)

        report = evaluate(data.name, runtime, settings, limit, zero_shot_limit=0,
                          progress=step)
        if not report["modes"]["adapter"]["documents"]:  # the dataset is not on this machine
            continue
        for key, value in report["modes"]["adapter"]["fields"].items():
            figures[f"{data.name}:{key}"] = float(value)
    for doc_type in sorted(doc_types):
        figures.update(regression_figures(conn, doc_type, runtime, settings))
    return figures


def regression_figures(conn: Connection[Any], doc_type: str, runtime: Runtime,
                       settings: Settings) -> dict[str, float]:
    """Each field's share of the frozen documents where the extracted value equals the
    reviewed one (a field the reviewer left empty is not counted)."""
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    doctype = doctypes.get(doc_type)
    for row in adapter_versions.regression_set(conn, doc_type):
        extraction = extract(Document.model_validate(row["content"]), doctype, runtime,
                             settings)
        got = extraction.record.model_dump(mode="json") if extraction.record else {}
        for key, expected in row["expected"].items():
            if expected in (None, "", [], {}):
                continue
            seen[key] += 1
            right[key] += _same(expected, got.get(key))
    return {f"regression:{key}": right[key] / n for key, n in seen.items()}


def _same(expected: Any, got: Any) -> bool:
    """Equal as values: case, spacing and key order aside."""
    def norm(value: Any) -> str:
        return " ".join(json.dumps(value, sort_keys=True, ensure_ascii=False).casefold().split())
    return norm(expected) == norm(got)


def compare(current: dict[str, float], candidate: dict[str, float], margin: float
            ) -> tuple[list[str], dict[str, Any]]:
    """The fields the candidate is worse on by more than `margin`, and the table of both."""
    worse = [key for key in current if candidate.get(key, 0.0) < current[key] - margin]
    table = {key: {"current": current[key], "candidate": candidate.get(key)}
             for key in sorted(current)}
    return worse, table


def promote(conn: Connection[Any], name: str, version: int, runtime: Runtime,
            settings: Settings, cache_dir: Path, limit: int, margin: float,
            decided_by: str, progress: Progress | None = None) -> Decision:
    """Evaluate, compare and decide; the runtime ends holding the current version again.
    `progress` hears ('candidate: DATASET' or 'current: DATASET', documents done, total)."""
    row = adapter_versions.get(conn, name, version)
    if row is None:
        raise LookupError(f"No version {version} of adapter '{name}'; see `docket adapters "
                          f"versions {name}`.")
    holding = runtime.adapters.get(name)
    if holding is None or loaded_version(runtime, name) != _current_version(conn, name):
        raise RuntimeError("The runtime does not hold the current version of "
                           f"'{name}'; sync it first (pipeline.slm.live_adapters.sync).")
    folder = adapter_versions.materialize(conn, row["id"], cache_dir)
    candidate_adapter = adapter_store.Adapter(
        name, folder, json.loads((folder / adapter_versions.MANIFEST).read_text()))
    unusable, candidate = None, {}
    if candidate_adapter.manifest.get("base_model_sha256") != runtime.model_sha256:
        unusable = "it was trained on other base weights than the workers run"
    else:
        try:
            try:  # what a worker would do with it: fail here, not on every document
                runtime.load_adapter(candidate_adapter)
            except (ValueError, OSError) as exc:
                unusable = f"it cannot be loaded ({exc})"
            else:
                candidate = field_figures(conn, name, runtime, settings, limit,
                                          _labelled(progress, "candidate"))
        finally:
            runtime.load_adapter(holding)
    if unusable:
        adapter_versions.decide(conn, name, row["id"], "refuse", decided_by, unusable)
        return Decision(name, version, False, unusable)
    current = field_figures(conn, name, runtime, settings, limit,
                            _labelled(progress, "current"))
    if not current:  # an untested version never serves
        reason = NOTHING_TO_COMPARE.format(name=name)
        adapter_versions.decide(conn, name, row["id"], "refuse", decided_by, reason)
        return Decision(name, version, False, reason)
    worse, table = compare(current, candidate, margin)
    comparison = {"documents_per_dataset": limit, "margin": margin, "fields": table}
    if worse:
        reason = (f"worse than the current version by more than {margin:.2f} on: "
                  + ", ".join(f"{k} {table[k]['current']:.3f} → {table[k]['candidate']:.3f}"
                              for k in worse))
        adapter_versions.decide(conn, name, row["id"], "refuse", decided_by, reason, comparison)
        return Decision(name, version, False, reason, comparison)
    reason = f"no field worse by more than {margin:.2f}"
    adapter_versions.decide(conn, name, row["id"], "promote", decided_by, reason, comparison)
    return Decision(name, version, True, reason, comparison)


def _labelled(progress: Progress | None, which: str) -> Progress | None:
    if progress is None:
        return None
    return lambda dataset, n, total: progress(f"{which}: {dataset}", n, total)


def _current_version(conn: Connection[Any], name: str) -> int | None:
    current = adapter_versions.current(conn).get(name)
    return current.version if current else None
