"""Focused fields (`DocType.focused`): a value a long document may hold on any page, asked in a
model pass of its own over the passages its own cues pick.

The main pass writes null at a focused field's path (its schema fixes it there); each focused
pass then reads its passages, writes its one-field answer, and the answer takes that path's
place in the draft, with its own confidence and provenance. A document none of the field's
cues matches has no passage, and the field is null without a pass.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import json_repair

from pipeline.doctypes.base import Focus
from pipeline.document import Document
from pipeline.extract.context import context_for
from pipeline.extract.provenance import FieldEvidence, evidence

if TYPE_CHECKING:
    from pipeline.slm.runtime import Generation, Runtime


def focus_context(document: Document, focus: Focus) -> str:
    """The passages the focus's cues pick ("" where none matches); a short document whole."""
    return context_for(document, focus.cues, focus.context_chars, head_chars=0,
                       following=focus.following).text


def empty(focus: Focus) -> Any:
    """What the focus's path holds without a passage: null, or [] for a list (a table)."""
    (spec,) = focus.answer_model.model_json_schema()["properties"].values()
    return [] if spec.get("type") == "array" else None


def focus_prompt(focus: Focus, text: str) -> str:
    return f"{focus.question}\n\nPassages:\n{text}\n\nJSON: "


@dataclass
class FocusedAnswer:
    value: Any  # what takes the focus's path in the draft
    fields: list[FieldEvidence]  # its evidence, under the focus's path
    passes: list[Generation]  # none without a passage; two where a null was asked again


def answer(document: Document, focus: Focus, runtime: Runtime, adapter: str | None,
           decoding: dict[str, Any], repetition_penalty: float) -> FocusedAnswer:
    """The focus's value from a pass over its passages (null without a passage).

    Where the model writes null but gave a value at least `decoding["present_at"]` of its
    probability (an adapter's manifest sets it from dev, where the model said null to many
    clauses it ranked as likely present), it is asked again with null ruled out; the value's
    confidence is then at most that probability, so a reviewer sees the doubt.
    """
    text = focus_context(document, focus)
    if not text.strip():
        nothing = empty(focus)  # an empty table has no field to show
        fields = [] if nothing == [] else [FieldEvidence(path=focus.path, value=None,
                                                          confidence=1.0)]
        return FocusedAnswer(nothing, fields, [])
    (key,) = focus.answer_model.model_fields
    schema = focus.answer_model.model_json_schema()
    value, fields, first = _ask(document, focus, text, schema, key, runtime, adapter, decoding,
                                repetition_penalty)
    present_at = decoding.get("present_at")
    p_value = 1.0 - fields[0].confidence if value is None and fields else 0.0
    if value is None and present_at is not None and p_value >= present_at:
        value, fields, again = _ask(document, focus, text, _required(schema, key), key,
                                    runtime, adapter, decoding, repetition_penalty)
        fields = [item.model_copy(update={"confidence": min(item.confidence, p_value)})
                  for item in fields]
        return FocusedAnswer(value, fields, [first, again])
    return FocusedAnswer(value, fields, [first])


def _ask(document: Document, focus: Focus, text: str, schema: dict[str, Any], key: str,
         runtime: Runtime, adapter: str | None, decoding: dict[str, Any],
         repetition_penalty: float) -> tuple[Any, list[FieldEvidence], Generation]:
    allowed = None
    if decoding.get("copy_preference", True):
        allowed = runtime.vocabulary_mask([text, "null"])
    generation = runtime.generate_json(
        focus_prompt(focus, text), schema, focus.output_tokens, allowed,
        repetition_penalty=decoding.get("repetition_penalty", repetition_penalty),
        adapter=adapter, source_text=text,
    )
    raw = json_repair.loads(generation.text) or {}
    value = raw.get(key) if isinstance(raw, dict) else None
    fields = [item.model_copy(update={"path": focus.path + item.path[len(key):]})
              for item in evidence(document, generation.text, generation.token_texts,
                                   generation.token_logprobs) if item.path.startswith(key)]
    return value, fields, generation


def _required(schema: dict[str, Any], key: str) -> dict[str, Any]:
    """The answer's schema with null ruled out for `key`."""
    schema = copy.deepcopy(schema)
    spec = schema["properties"][key]
    branches = [b for b in spec.get("anyOf", [spec]) if b.get("type") != "null"]
    schema["properties"][key] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    return schema


def put(draft: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path of the draft ("clauses.change_of_control")."""
    *parents, name = path.split(".")
    node = draft
    for parent in parents:
        node = node.setdefault(parent, {})
    node[name] = value


def get(draft: dict[str, Any], path: str) -> tuple[bool, Any]:
    """(whether the draft has the path, its value there)."""
    node: Any = draft
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node
