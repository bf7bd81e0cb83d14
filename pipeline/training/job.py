"""What one `docket adapters train` learns from: a dataset's train split, reviewers'
corrections, or both, and whether it continues the type's current adapter.

The CLI only parses options and shows progress; the decisions live here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.settings import Settings
from pipeline.slm.adapters import Adapter, available
from pipeline.storage.db import connect
from pipeline.training import datasets
from pipeline.training.targets import Target

Progress = Callable[[int, int], None]


@dataclass
class TrainingJob:
    doc_type: str
    targets: list[Target] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # the manifest's `training`
    init_adapter: Path | None = None  # continue this adapter instead of a new one


def plan(doc_type: str | None, data: list[str] | None, from_corrections: bool, resume: bool,
         synthetic: int | None, limit: int | None, settings: Settings,
         progress: Progress | None = None) -> TrainingJob:
    """Gather the targets (of each dataset in `data`, all of one type) and decide what the
    run starts from; ValueError says what is wrong (nothing to learn from, a dataset of
    another type, no adapter to continue)."""
    from pipeline.training.data import training_targets

    if not data and not from_corrections:
        raise ValueError("Nothing to learn from: give --data NAME (a registered dataset, or a "
                         "folder in one's layout), --from-corrections, or both.")
    resolved = [(*datasets.resolve(name), at_most) for name, at_most in map(_limited, data or [])]
    for dataset, _, _ in resolved:
        if doc_type is not None and dataset.doc_type != doc_type:
            raise ValueError(f"The dataset '{dataset.name}' labels {dataset.doc_type}s, "
                             f"not {doc_type}s.")
        doc_type = dataset.doc_type
    if doc_type is None:
        raise ValueError("Which type? Give --type with --from-corrections alone.")
    job = TrainingJob(doc_type)
    current = _current_adapter(doc_type, settings) if from_corrections or resume else None
    summaries = []
    for dataset, folder, at_most in resolved:
        n_synthetic = dataset.default_synthetic if synthetic is None else synthetic
        found, summary = training_targets(dataset, folder, settings, n_synthetic,
                                          at_most or limit, progress)
        job.targets += found
        summaries.append(summary)
    if len(summaries) == 1:
        job.summary = summaries[0]
    elif summaries:
        job.summary = {"datasets": summaries,
                       "documents": sum(s["documents"] for s in summaries),
                       "synthetic": sum(s["synthetic"] for s in summaries)}
    if from_corrections:
        from pipeline.training.corrections import correction_targets

        unlearned = current.manifest.get("unlearned", []) if current else []
        with connect() as conn:
            reviewed, reviewed_summary = correction_targets(conn, doc_type, settings, unlearned)
        job.targets += reviewed
        job.summary = {**job.summary, **reviewed_summary}
    if resume and current is None:
        raise ValueError(f"There is no {doc_type} adapter to continue; train one first "
                         "(drop --continue).")
    if current is not None and (resume or not data):
        job.init_adapter = current.path
        job.summary["continued_from"] = {
            "adapter": current.name, "version": current.manifest.get("version"),
            "created_at": current.manifest.get("created_at"),
            "training": {k: v for k, v in current.manifest.get("training", {}).items()
                         if k != "continued_from"},  # one generation back, not every one
        }
    return job


def _current_adapter(doc_type: str, settings: Settings) -> Adapter | None:
    """What "continue" starts from: the type's current version in Postgres (promoted, or the
    committed folder), or the committed folder when the database cannot be reached."""
    import psycopg

    from pipeline.slm.live_adapters import current_adapter

    try:
        with connect() as conn:
            return current_adapter(conn, doc_type,
                                   settings.model_cache_dir / "adapter-versions")
    except psycopg.OperationalError:
        return next((a for a in available() if a.name == doc_type), None)


def _limited(name: str) -> tuple[str, int | None]:
    """'kleister-nda:80' → ('kleister-nda', 80): a dataset with its own document limit."""
    base, _, count = name.rpartition(":")
    return (base, int(count)) if base and count.isdigit() else (name, None)
