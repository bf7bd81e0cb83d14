"""Reviewers' corrections → training targets (`docket adapters train --from-corrections`).

Each saved correction leaves a `training_examples` row: the draft the model should have
written for that document. The prompt is rebuilt from the document's stored conversion exactly
as extraction builds it, so the adapter learns on what it sees in production.

Every value a reviewer saw is a lesson, with one exception: a field the current adapter never
learned is fixed to null at inference (its manifest's `unlearned`), so a null there says only
that nobody filled it in; it carries no loss.

Before anything trains on a reviewed document, the personal data in it that is not a field of
its record is replaced by consistent surrogates, in the prompts and the targets alike
(`pipeline.training.scrub`); the originals stay only in the document and its record.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Iterator
from typing import Any

from psycopg import Connection

from pipeline import doctypes
from pipeline.doctypes import DocType
from pipeline.doctypes.base import alnum
from pipeline.document import Document
from pipeline.extract import prompt_for
from pipeline.extract.focus import get
from pipeline.settings import Settings
from pipeline.storage import reviews
from pipeline.training.scrub import Scrubber
from pipeline.training.targets import Piece, Target, document_targets


class NoCorrections(ValueError):
    """Nothing reviewed yet for this type."""


def correction_targets(conn: Connection[Any], doc_type: str, settings: Settings,
                       unlearned: list[str]) -> tuple[list[Target], dict[str, Any]]:
    """The reviewed drafts of `doc_type` as targets, plus a summary for the manifest."""
    doctype = doctypes.get(doc_type)
    rows = reviews.training_examples(conn, doc_type)
    if not rows:
        raise NoCorrections(
            f"No reviewed {doc_type}s in the database yet: correct some on the review page "
            "(/review on the API server) or with POST /v1/documents/{id}/corrections first."
        )
    out = []
    scrubber = Scrubber(settings.scrub_key.encode() if settings.scrub_key else None)
    scrubbed: Counter[str] = Counter()
    for row in rows:
        document = Document.model_validate(row["content"])
        prompt, _ = prompt_for(document, doctype, settings)
        draft: dict[str, Any] = row["draft"]
        unscored = {path for path in unlearned if _all_null(draft, path)}
        targets = document_targets(doctype, document, prompt, draft, unscored,
                                   f"correction:{row['document_id']}",
                                   functools.partial(_against, doctype, draft))
        out += [scrub_target(scrubber, target, list(record_strings(draft)), scrubbed)
                for target in targets]
    summary = {
        "corrections": len(out),
        "corrected_from": rows[0]["updated_at"].isoformat(timespec="seconds"),
        "corrected_to": rows[-1]["updated_at"].isoformat(),  # full precision: "newer than"
        "scrubbed": dict(sorted(scrubbed.items())),
    }
    return out, summary


def scrub_target(scrubber: Scrubber, target: Target, record_values: list[str],
                 counts: Counter[str]) -> Target:
    """The target with the personal data of its prompt replaced, and the same originals
    replaced in its answer (the record's own values are protected, so they stay)."""
    result = scrubber.scrub(target.prompt, protected=record_values)
    counts.update(f.kind for f in result.findings)
    if not result.findings:
        return target
    pieces = [Piece(scrubber.apply(piece.text, result.surrogates), piece.scored)
              for piece in target.pieces]
    return dataclasses.replace(target, prompt=result.text, pieces=pieces)


def record_strings(value: Any) -> Iterator[str]:
    """Every string value of a record, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from record_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from record_strings(item)


def _against(doctype: DocType, draft: dict[str, Any],
             passages: str) -> tuple[dict[str, Any], set[str]]:
    """The reviewed draft as a focused pass's target over its passages: a value the
    passages do not show (the reviewer found it elsewhere) is not taught there."""
    shown = alnum(passages)
    return draft, {focus.path for focus in doctype.focused
                   if (value := get(draft, focus.path)[1]) and alnum(value)[:80] not in shown}


def _all_null(draft: dict[str, Any], path: str) -> bool:
    """Whether every value at `path` ('title', 'parties.role': list indices dropped) is empty."""
    head, _, rest = path.partition(".")
    value = draft.get(head)
    if not rest:
        return value in (None, [])
    return all(_all_null(item, rest) for item in value or [] if isinstance(item, dict))
