"""Reviewers' corrections: a person's fix of a record becomes a new run, an audit trail and a
training example, in one transaction.

A correction edits the *draft* (the values as printed, what the model writes), never the
typed record: the record is derived from the draft by the same `to_record` and rules as the
model's answers, so a corrected record is validated exactly like an extracted one, and the
corrected draft is what the model should have written (`docket adapters train
--from-corrections` learns from it). Saving without changes confirms the values: the review
run drops the model's `low_confidence` doubt, since a person has looked. A list entry the model
missed is added by filling `items[N]` past the list's end; clearing all of an entry's values
removes it (the audit trail then records the later entries' values moving up by path).

The database is reached only through `pipeline.storage`: API → this module → storage.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

import json_repair
from psycopg import Connection
from pydantic import BaseModel, ValidationError

from pipeline import doctypes
from pipeline.doctypes import DocType
from pipeline.document import Document
from pipeline.extract.provenance import FieldEvidence, line_offsets, place, value_spans
from pipeline.storage import documents, records, reviews, webhooks
from pipeline.storage.documents import Status
from pipeline.storage.keys import ApiKey
from pipeline.storage.reviews import Change
from schemas.common import RuleViolation, review_reason

REVIEWABLE = (Status.DONE, Status.NEEDS_REVIEW)
# What a correction reads of the run it corrects: the answer, and what the review run keeps.
CORRECTED_RUN = ("id", "document_type", "raw_output", "model", "model_sha256", "adapter",
                 "classifier", "classifier_confidence")
_PATH_PART = re.compile(r"\.?([A-Za-z_]\w*)|\[(\d+)\]")


class CorrectionError(ValueError):
    """Edits that cannot be saved; `problems` maps each bad field path to what is allowed."""

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


class NotReviewable(LookupError):
    """No such document, or nothing to correct yet (no run, or it is being processed)."""


class DocumentNotFound(NotReviewable):
    """No document with this id."""


class StaleEdit(RuntimeError):
    """The form was filled in against a run that is no longer the latest."""


@dataclass
class CorrectionResult:
    document_id: uuid.UUID
    run_id: int  # the review run written
    corrected_run_id: int  # the run it corrected
    status: Status
    error: str | None
    changes: list[Change] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)


def draft_from_output(doctype: DocType, raw_output: str) -> dict[str, Any]:
    """A run's answer as a complete draft dict: missing keys null / [] as `extract` fills them.

    A cut or invalid answer is parsed as far as it goes, so a reviewer can correct it.
    """
    try:
        raw: Any = json.loads(raw_output)
    except ValueError:
        raw = json_repair.loads(raw_output) or {}
    return _complete(doctype.draft_model, raw if isinstance(raw, dict) else {})


def _complete(model: type[BaseModel], raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = raw.get(name)
        if get_origin(info.annotation) is list:
            item = get_args(info.annotation)[0] if get_args(info.annotation) else None
            items = value if isinstance(value, list) else []
            if isinstance(item, type) and issubclass(item, BaseModel):
                items = [_complete(item, v) if isinstance(v, dict) else v for v in items]
            out[name] = items
        elif isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            out[name] = _complete(info.annotation, value if isinstance(value, dict) else {})
        else:
            out[name] = value
    return out


def leaves(draft: dict[str, Any]) -> dict[str, str | None]:
    """Every scalar in the draft by path ('total', 'items[0].amount'), as text."""
    return {s.path: None if s.value is None else str(s.value)
            for s in value_spans(json.dumps(draft, ensure_ascii=False))}


def _set(draft: dict[str, Any], path: str, value: str | None) -> None:
    parts = [name if name else int(index) for name, index in _PATH_PART.findall(path)]
    if not parts or "".join(m.group(0) for m in _PATH_PART.finditer(path)) != path:
        raise CorrectionError(f"'{path}' is not a field path.", {path: "not a field path"})
    node: Any = draft
    try:
        for part in parts[:-1]:
            node = node[part]
        current = node[parts[-1]]  # KeyError / IndexError / TypeError: no such field
    except (KeyError, IndexError, TypeError):
        raise CorrectionError(f"This record has no field '{path}'.",
                              {path: "no such field"}) from None
    if isinstance(current, dict | list):
        raise CorrectionError(f"'{path}' is a group of fields; correct its values one by one.",
                              {path: "not a single value"})
    node[parts[-1]] = value


_NEW_ENTRY = re.compile(r"^([A-Za-z_]\w*)\[(\d+)\]")


def entry_fields(doctype: DocType, list_field: str) -> list[str] | None:
    """The field names of one entry of a list field (None: entries are plain values)."""
    args = get_args(doctype.draft_model.model_fields[list_field].annotation)
    item = args[0] if args else None
    if isinstance(item, type) and issubclass(item, BaseModel):
        return list(item.model_fields)
    return None


def _add_entries(
    doctype: DocType, draft: dict[str, Any], edits: dict[str, str | None]
) -> dict[str, str | None]:
    """Append the list entries the edits fill in past a list's end (the form's blank "new
    item" rows); edits of a blank row left empty are dropped."""
    kept = dict(edits)
    new: dict[tuple[str, int], dict[str, str | None]] = {}
    for path, value in edits.items():
        found = _NEW_ENTRY.match(path)
        if found and isinstance(draft.get(found[1]), list) and int(found[2]) >= len(
            draft[found[1]]
        ):
            new.setdefault((found[1], int(found[2])), {})[path] = value
            del kept[path]
    for (name, index), values in sorted(new.items()):
        if all(v is None for v in values.values()):
            continue
        entries = draft[name]
        if index != len(entries):
            raise CorrectionError(f"Add entries to '{name}' one after another: there is no "
                                  f"{name}[{len(entries)}] yet.", {f"{name}[{index}]": "gap"})
        fields = entry_fields(doctype, name)
        entries.append(dict.fromkeys(fields) if fields is not None else None)
        kept.update(values)
    return kept


def _drop_empty_entries(draft: dict[str, Any]) -> None:
    """A list entry whose values were all cleared is removed."""
    for name, value in draft.items():
        if isinstance(value, list):
            draft[name] = [v for v in value if v is not None and not (
                isinstance(v, dict) and all(x is None for x in v.values()))]


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed(doctype: DocType, error: Any) -> str:
    """What a field accepts, in words, from a pydantic error (a pattern in the words of the
    type's `pattern_hints`)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return doctype.pattern_hints.get(pattern) or f"must match {pattern}"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind in ("string_type", "missing", "string_too_short") and error.get("input") in (None, ""):
        return "is required here and cannot be empty"
    if kind == "too_long":
        return f"has too many entries: at most {ctx.get('max_length')}"
    return str(error["msg"])


def validate_draft(doctype: DocType, draft: dict[str, Any]) -> BaseModel:
    """The draft as the type's draft model, or a CorrectionError naming every bad field."""
    try:
        return doctype.draft_model.model_validate(draft)
    except ValidationError as exc:
        problems = {_loc_path(e["loc"]): _allowed(doctype, e) for e in exc.errors()}
        described = "; ".join(f"{path} {why}" for path, why in problems.items())
        raise CorrectionError(f"Not saved: {described}.", problems) from None


def _clean(value: str | None) -> str | None:
    """Form text → draft value: surrounding blanks dropped, empty → null."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _place(item: FieldEvidence, document: Document | None) -> FieldEvidence:
    """Where a reviewer's value is in the document (page, boxes, span), if it is there."""
    if document is None or item.value is None:
        return item
    place(item, document.text(), line_offsets(document))
    return item


def _reason(violations: list[dict[str, Any]]) -> str | None:
    if not violations:
        return None
    return review_reason([RuleViolation.model_validate(v) for v in violations])


def apply_corrections(
    conn: Connection[Any],
    document_id: uuid.UUID,
    edits: Mapping[str, str | None],
    reviewer: ApiKey,
    expected_run_id: int | None = None,
) -> CorrectionResult:
    """Apply a reviewer's edits (path → new text; empty → null) to the document's latest run.

    Writes, atomically: a review run with the re-validated record, one `corrections` row
    per changed value, the training example, the document's new status. Raises
    CorrectionError (bad values: nothing written), NotReviewable, or StaleEdit when
    `expected_run_id` is given and is no longer the latest run.
    """
    with conn.transaction():
        current = documents.lock(conn, document_id)
        if current is None:
            raise DocumentNotFound(f"No document {document_id}.")
        run = records.latest_run(conn, document_id, CORRECTED_RUN)
        if run is None or current not in REVIEWABLE:
            raise NotReviewable(
                f"Document {document_id} is {current} and has nothing to correct "
                "yet; corrections apply to documents that are done or need review."
            )
        if expected_run_id is not None and run["id"] != expected_run_id:
            raise StaleEdit(
                "The document changed since this form was opened (it was corrected or "
                "processed again); reload it and make the change again."
            )
        doctype = doctypes.get(run["document_type"])
        draft = draft_from_output(doctype, run["raw_output"])
        before = leaves(draft)
        cleaned = _add_entries(doctype, draft, {path: _clean(v) for path, v in edits.items()})
        for path, value in cleaned.items():
            _set(draft, path, value)
        _drop_empty_entries(draft)
        corrected = validate_draft(doctype, draft)
        record = doctype.to_record(corrected)
        violations = [v.model_dump() for v in doctype.check_rules(record, None)]
        answer = corrected.model_dump(mode="json")
        after = leaves(answer)
        changes = [Change(path, before.get(path), after.get(path))
                   for path in [*after, *(p for p in before if p not in after)]
                   if before.get(path) != after.get(path)]

        document = documents.content(conn, document_id)
        previous = {f["path"]: f for f in records.run_fields(conn, run["id"])}
        changed = {c.path for c in changes}
        fields = []
        for path, value in after.items():
            if path in previous and path not in changed:
                fields.append(dict(previous[path]))
            else:
                item = _place(FieldEvidence(path=path, value=value, confidence=1.0), document)
                fields.append(item.model_dump(mode="json"))
        new_run = {
            **{k: run[k] for k in ("model", "model_sha256", "adapter", "classifier",
                                   "classifier_confidence")},
            "timings_ms": {}, "prompt_tokens": 0, "output_tokens": 0, "tokens_per_s": 0,
            "mean_token_prob": None, "finished": True,
            "raw_output": json.dumps(answer, ensure_ascii=False, separators=(",", ":")),
            "valid": not violations, "violations": violations,
            "source": "review", "reviewer": reviewer.name,
        }
        new_run_id = records.save_run(conn, document_id, doctype, new_run,
                                      record.model_dump(mode="json"), fields)
        reviews.save_corrections(conn, document_id, run["id"], new_run_id, changes, reviewer)
        reviews.save_training_example(conn, document_id, doctype.name, answer)
        status = Status.NEEDS_REVIEW if violations else Status.DONE
        documents.set_status(conn, document_id, status, _reason(violations),
                             webhooks.DOCUMENT_REVIEWED)
    return CorrectionResult(document_id, new_run_id, run["id"], status, _reason(violations),
                            changes, violations)

