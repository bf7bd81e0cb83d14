"""A registered dataset's train split → training targets, read through Docket's own conversion.

`--data` names a registered dataset (`docket adapters train --data sroie`) or a folder in one
dataset's layout. Only the train split is used; dev stays for `docket eval`. The dataset says
how its labels become a target draft (`Dataset.target`) and may add generated documents
(`Dataset.synthetic`) for fields its labels lack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import doctypes
from pipeline.doctypes import Dataset
from pipeline.extract import build_prompt, prompt_for
from pipeline.settings import Settings
from pipeline.training import targets
from pipeline.training.datasets import convert_source
from pipeline.training.targets import Target

Progress = Callable[[int, int], None]


def training_targets(data: Dataset, folder: Path, settings: Settings, synthetic: int,
                     limit: int | None = None, progress: Progress | None = None,
                     ) -> tuple[list[Target], dict[str, Any]]:
    """The train split as targets (plus `synthetic` generated ones), and a summary for the
    adapter's manifest."""
    doctype = doctypes.get(data.doc_type)
    sources = [s for s in data.sources(folder) if s.split == "train"][:limit]
    out: list[Target] = []
    refused = 0
    for n, source in enumerate(sources, start=1):
        document = convert_source(source, settings)
        if progress:
            progress(n, len(sources))
        if document is None:
            refused += 1
            continue
        prompt, context = prompt_for(document, doctype, settings)
        draft, unscored = data.target(source.labels, context)
        out += targets.document_targets(
            doctype, document, prompt, draft, unscored, source.key,
            functools.partial(data.target, source.labels))
    if synthetic and data.synthetic is None:
        raise ValueError(f"The dataset '{data.name}' has no generator of synthetic documents.")
    made = [data.synthetic(seed) for seed in range(synthetic)] if data.synthetic else []
    out += [targets.draft_target(doctype, m.labels, set(), m.key, build_prompt(doctype, m.text))
            for m in made]
    summary = {
        "dataset": data.name,
        "split": "train",
        "documents": len(sources) - refused,
        "focused_targets": sum(1 for t in out if t.focus),
        "refused_by_convert": refused,
        "synthetic": len(made),
        "text": "Docket's own convert() of each document (text layer, else OCR)",
    }
    return out, summary
