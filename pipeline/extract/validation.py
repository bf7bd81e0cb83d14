"""The model's answer → a record, leniently, and the rules it breaks.

- A complete answer is JSON (the grammar saw to it); one the token budget cut is mended
  (`json_repair`) to what was complete, and a violation says so either way.
- Validation is lenient: in a complete answer a value the draft model refuses is left empty
  and named (`value_invalid`) instead of costing the whole record; in a cut one, the values
  the cut left malformed are dropped.
- Then the type's own rules (`DocType.check_rules`) and the values the model was unsure of
  (`low_confidence`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, get_origin

import json_repair
from pydantic import BaseModel, ValidationError

from pipeline.doctypes import DocType
from pipeline.extract.provenance import FieldEvidence
from schemas.common import RuleViolation

if TYPE_CHECKING:
    from pipeline.slm.decoding import Generation


def parse_answer(generation: Generation, max_new_tokens: int) -> tuple[Any, list[RuleViolation]]:
    """The answer as JSON, and a violation if the token budget closed or cut it."""
    if generation.finished:
        raw: Any = json.loads(generation.text)
        if generation.closed_early:
            return raw, [RuleViolation(
                rule="output_closed_early",
                message=f"The model's answer reached its {max_new_tokens}-token "
                "budget and was closed there; list entries after that point are missing "
                "(DOCKET_MAX_NEW_TOKENS raises the budget).",
            )]
        return raw, []
    # The token budget ran out mid-JSON: keep what was complete and say so.
    return json_repair.loads(generation.text) or {}, [RuleViolation(
        rule="output_truncated",
        message=f"The model's answer was cut at {generation.output_tokens} tokens; "
        "fields after the cut are missing.",
    )]


def validate(doctype: DocType, raw: Any, truncated: bool,
             ) -> tuple[BaseModel | None, list[RuleViolation]]:
    """The record and the rules it breaks; no record if the answer does not fit the schema
    even leniently (`output_invalid`)."""
    draft_fields = doctype.draft_model.model_fields
    if isinstance(raw, dict):
        raw = {name: raw.get(name, [] if _is_list(info.annotation) else None)
               for name, info in draft_fields.items()}
    try:
        draft, refused = validate_leniently(doctype, raw, truncated)
    except ValidationError as exc:
        return None, [RuleViolation(
            rule="output_invalid",
            message=f"The model's answer does not fit the {doctype.name} schema: "
            f"{exc.errors()[0]['msg']}",
        )]
    violations: list[RuleViolation] = []
    if refused:
        violations.append(RuleViolation(
            rule="value_invalid",
            message="The model wrote values that break the schema, left empty: "
            + "; ".join(f"{path} = '{value}'" for path, value in refused)
            + ". Check them against the document.",
            fields=[path for path, _ in refused],
        ))
    record = doctype.to_record(draft)
    violations += doctype.check_rules(record, None)
    return record, violations


def low_confidence(fields: list[FieldEvidence], threshold: float) -> list[RuleViolation]:
    """A violation naming the values whose confidence is under the threshold, if any."""
    unsure = [f.path for f in fields if f.value is not None and f.confidence < threshold]
    if not unsure:
        return []
    return [RuleViolation(
        rule="low_confidence",
        message=f"The model was unsure of {', '.join(unsure)} (confidence under "
        f"{threshold}); check them against the document.",
        fields=unsure,
    )]


def refuse_invalid_values(doctype: DocType, raw: Any) -> list[tuple[str, Any]]:
    """Set to null, in place, each string value the draft model refuses; return (path, value).

    xgrammar's regex grammar is looser than pydantic's in places (a unit price '955629630'
    passed the grammar of a 1–7 digit amount), and one bad value must not cost the whole
    record (the README has how many answers this saved).
    """
    if not isinstance(raw, dict):
        return []
    try:
        doctype.draft_model.model_validate(raw)
        return []
    except ValidationError as exc:
        refused = []
        for error in exc.errors():
            *parents, last = error["loc"]
            node: Any = raw
            for key in parents:
                node = node[key]
            try:
                value = node[last]
            except (KeyError, IndexError, TypeError):
                continue
            if isinstance(value, str):
                path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}"
                               for k in error["loc"]).lstrip(".")
                refused.append((path, value))
                node[last] = None
        return refused


def validate_leniently(doctype: DocType, raw: Any, truncated: bool,
                       ) -> tuple[BaseModel, list[tuple[str, Any]]]:
    """Validate the draft, mending what the model could not help: for a complete answer,
    the values the schema refuses are left empty (`refuse_invalid_values`, returned as
    (path, value)); for a truncated one, the values the cut left malformed are dropped."""
    try:
        return doctype.draft_model.model_validate(raw), []
    except ValidationError as exc:
        if not isinstance(raw, dict):
            raise
        if not truncated:
            refused = refuse_invalid_values(doctype, raw)
            return doctype.draft_model.model_validate(raw), refused
        for error in exc.errors():
            loc = error["loc"]
            if len(loc) >= 2 and isinstance(raw.get(loc[0]), list) and isinstance(loc[1], int):
                raw[loc[0]][loc[1]] = None  # a broken list element: removed below
            elif loc and loc[0] in raw:
                raw[loc[0]] = [] if isinstance(raw[loc[0]], list) else None
        for key, value in raw.items():
            if isinstance(value, list):
                raw[key] = [item for item in value if item is not None]
        return doctype.draft_model.model_validate(raw), []


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list
