"""Extraction: a converted document and its type → draft JSON → validated record + rule checks,
with each value's confidence and provenance (`pipeline.provenance`).

The type's LoRA adapter is used when the runtime has one loaded for it; without one the base
model runs zero-shot with two crutches measured on the samples (a preference for the
document's own tokens inside values, a penalty on repeated words). An adapter is trained on
the exact answers, so it decodes plainly (its manifest's `decoding` says so).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, get_origin

import json_repair
from pydantic import BaseModel, ValidationError

from pipeline.doctypes import DocType
from pipeline.document import Document
from pipeline.passages import context_for, truncated
from pipeline.provenance import FieldEvidence, evidence
from pipeline.settings import Settings
from pipeline.slm.runtime import Generation, Runtime
from schemas.common import RuleViolation


@dataclass
class Extraction:
    document_type: str
    record: BaseModel | None
    violations: list[RuleViolation]
    generation: Generation
    fields: list[FieldEvidence] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.record is not None and not self.violations


def build_prompt(doctype: DocType, text: str) -> str:
    """Instruction, then the document. No worked example: measured on the samples, the base
    model copies an example's values into its answer (see the issue notes)."""
    return f"{doctype.instruction}\n\n{doctype.name.capitalize()}:\n{text}\n\nJSON: "


def prompt_for(document: Document, doctype: DocType, settings: Settings) -> tuple[str, str]:
    """The prompt and the document text in it: all of it if it fits the type's budget,
    else its opening and the passages that matter (`pipeline.passages`)."""
    budget = min(doctype.context_chars, settings.max_prompt_chars)
    if settings.select_passages:
        text = context_for(document, doctype.cues, budget).text
    else:
        text = truncated(document, budget)
    return build_prompt(doctype, text), text


def adapter_for(doctype: DocType, runtime: Runtime, settings: Settings) -> str | None:
    """The type's adapter if the runtime has it loaded and adapters are not switched off."""
    if settings.use_adapters and doctype.adapter in runtime.adapters:
        return doctype.adapter
    return None


def null_out(schema: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """The schema with the fields at `paths` ("title", "parties.role") fixed to null / [].

    An adapter trained without labels for a field (Kleister has no titles, roles, notice or
    signatories) only ever saw null there in training; measured on the NDA sample, letting it
    write such a field anyway (a role) threw it off the distribution it learned, and it went
    on inventing parties. Fixing those fields keeps decoding on what the adapter knows.
    """
    schema = copy.deepcopy(schema)
    defs = schema.get("$defs", {})
    for path in paths:
        node = schema
        *parents, name = path.split(".")
        for parent in parents:
            child = node["properties"][parent]
            child = child.get("items", child)
            node = defs[child["$ref"].rsplit("/", 1)[1]] if "$ref" in child else child
        spec = node["properties"][name]
        is_list = spec.get("type") == "array"
        node["properties"][name] = {"type": "array", "maxItems": 0} if is_list else {"type": "null"}
    return schema


def extract(
    document: Document, doctype: DocType, runtime: Runtime, settings: Settings
) -> Extraction:
    prompt, text = prompt_for(document, doctype, settings)
    adapter = adapter_for(doctype, runtime, settings)
    decoding = runtime.adapters[adapter].decoding if adapter else {}
    allowed = None
    if decoding.get("copy_preference", True):  # an adapter learns to copy by itself
        # Values are copied from the document: prefer its tokens inside JSON strings.
        allowed = runtime.vocabulary_mask([text, "null"])
    schema = doctype.json_schema()
    if adapter:
        schema = null_out(schema, runtime.adapters[adapter].manifest.get("unlearned", []))
    generation = runtime.generate_json(
        prompt, schema, settings.max_new_tokens, allowed,
        repetition_penalty=decoding.get("repetition_penalty", settings.repetition_penalty),
        adapter=adapter, source_text=text,
    )
    fields = evidence(document, generation.text, generation.token_texts,
                      generation.token_logprobs)
    violations: list[RuleViolation] = []
    if generation.finished:
        raw: Any = json.loads(generation.text)
        if generation.closed_early:
            violations.append(RuleViolation(
                rule="output_closed_early",
                message=f"The model's answer reached its {settings.max_new_tokens}-token "
                "budget and was closed there; list entries after that point are missing "
                "(DOCKET_MAX_NEW_TOKENS raises the budget).",
            ))
    else:
        # The token budget ran out mid-JSON: keep what was complete and say so.
        raw = json_repair.loads(generation.text) or {}
        violations.append(RuleViolation(
            rule="output_truncated",
            message=f"The model's answer was cut at {generation.output_tokens} tokens; "
            "fields after the cut are missing.",
        ))
    draft_fields = doctype.draft_model.model_fields
    if isinstance(raw, dict):
        raw = {name: raw.get(name, [] if _is_list(info.annotation) else None)
               for name, info in draft_fields.items()}
    try:
        draft, refused = _validate_leniently(doctype, raw, truncated=not generation.finished)
    except ValidationError as exc:
        violations.append(RuleViolation(
            rule="output_invalid",
            message=f"The model's answer does not fit the {doctype.name} schema: "
            f"{exc.errors()[0]['msg']}",
        ))
        return Extraction(doctype.name, None, violations, generation, fields)
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
    unsure = [f.path for f in fields
              if f.value is not None and f.confidence < settings.confidence_threshold]
    if unsure:
        violations.append(RuleViolation(
            rule="low_confidence",
            message=f"The model was unsure of {', '.join(unsure)} (confidence under "
            f"{settings.confidence_threshold}); check them against the document.",
            fields=unsure,
        ))
    return Extraction(doctype.name, record, violations, generation, fields)


def _refuse_invalid_values(doctype: DocType, raw: Any) -> list[tuple[str, Any]]:
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


def _validate_leniently(doctype: DocType, raw: Any, truncated: bool,
                        ) -> tuple[BaseModel, list[tuple[str, Any]]]:
    """Validate the draft, mending what the model could not help: for a complete answer,
    the values the schema refuses are left empty (`_refuse_invalid_values`, returned as
    (path, value)); for a truncated one, the values the cut left malformed are dropped."""
    try:
        return doctype.draft_model.model_validate(raw), []
    except ValidationError as exc:
        if not isinstance(raw, dict):
            raise
        if not truncated:
            refused = _refuse_invalid_values(doctype, raw)
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
