"""A labelled dataset folder → training targets, read through Docket's own conversion.

`--data` names a dataset folder in one of the two layouts Docket reads: SROIE's (images/,
labels/) for receipts and Kleister-NDA's (documents/, train/, dev-0/) for contracts. Only the
train split is used; dev stays for `docket eval`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import datasets, doctypes
from pipeline.extract import build_prompt, prompt_for
from pipeline.settings import Settings
from pipeline.training import synthetic, targets
from pipeline.training.targets import Target

Progress = Callable[[int, int], None]


def dataset_of(data_dir: Path) -> str:
    """Which layout the folder has: 'sroie' or 'kleister-nda'."""
    if (data_dir / "labels").is_dir() and (data_dir / "images").is_dir():
        return "sroie"
    if (data_dir / "documents").is_dir() and (data_dir / "train").is_dir():
        return "kleister-nda"
    raise ValueError(
        f"{data_dir} is neither a SROIE folder (images/, labels/) nor a Kleister-NDA folder "
        "(documents/, train/, dev-0/); see ../shared/datasets/README.md for both layouts."
    )


DATASET_TYPE = {"sroie": "receipt", "kleister-nda": "contract"}


def training_targets(doc_type: str, data_dir: Path, settings: Settings, synthetic_receipts: int,
                     limit: int | None = None, progress: Progress | None = None,
                     ) -> tuple[list[Target], dict[str, Any]]:
    """The train split as targets, plus a summary for the adapter's manifest."""
    dataset = dataset_of(data_dir)
    if DATASET_TYPE[dataset] != doc_type:
        raise ValueError(f"{data_dir} holds {DATASET_TYPE[dataset]}s, not {doc_type}s")
    doctype = doctypes.get(doc_type)
    sources = [s for s in datasets.labelled_sources(dataset, data_dir.parent)
               if s.split == "train"][:limit]
    out: list[Target] = []
    refused = 0
    for n, source in enumerate(sources, start=1):
        document = datasets.convert_source(source, settings)
        if progress:
            progress(n, len(sources))
        if document is None:
            refused += 1
            continue
        prompt, context = prompt_for(document, doctype, settings)
        if dataset == "sroie":
            draft, unscored = targets.sroie_draft(source.labels)
        else:
            draft, unscored = targets.kleister_draft(source.labels, context)
        out.append(targets.draft_target(doctype, draft, unscored, source.key, prompt))
    made = [synthetic.receipt(seed) for seed in range(synthetic_receipts)]
    out += [targets.draft_target(doctype, r.labels, set(), r.key,
                                 build_prompt(doctype, r.text)) for r in made]
    summary = {
        "dataset": dataset,
        "data_dir": str(data_dir),
        "split": "train",
        "documents": len(sources) - refused,
        "refused_by_convert": refused,
        "synthetic": len(made),
        "text": "Docket's own convert(): RapidOCR for SROIE scans, pdfium (OCR for pages "
                "without text) for Kleister PDFs",
    }
    return out, summary

