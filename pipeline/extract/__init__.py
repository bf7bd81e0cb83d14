"""Extraction: a converted document and its type → draft JSON → validated record + rule checks,
with each value's confidence and provenance.

- `context`: what the model reads (the prompt; of a long document, its opening and the
  passages its type's cues pick)
- decoding: `pipeline.slm` (JSON constrained by the type's schema, token by token)
- `validation`: the answer → a record, leniently, and the rules it breaks
- `provenance`: each value's confidence and where it is in the document
- `completion`: a copied date the line break cut from its year, completed from the document
- `focus`: fields a long document may hold on any page (a contract's clauses), each asked in
  a pass of its own over its own passages

The type's LoRA adapter is used when the runtime has one loaded for it; without one the base
model runs zero-shot with two crutches measured on the samples (a preference for the
document's own tokens inside values, a penalty on repeated words). An adapter is trained on
the exact answers, so it decodes plainly (its manifest's `decoding` says so).

The names below are the package's interface (`from pipeline.extract import extract`); the
runtime is only a type here, so importing this package does not load the model's libraries.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pipeline.doctypes import DocType
from pipeline.document import Document
from pipeline.extract.calibration import calibrate, from_manifest
from pipeline.extract.completion import complete_dates
from pipeline.extract.context import Context, build_prompt, context_for, prompt_for, truncated
from pipeline.extract.focus import answer, put
from pipeline.extract.provenance import FieldEvidence, evidence
from pipeline.extract.validation import low_confidence, parse_answer, validate
from pipeline.settings import Settings
from schemas.common import RuleViolation

if TYPE_CHECKING:
    from pipeline.slm.runtime import Generation, Runtime

__all__ = [
    "Context", "Extraction", "FieldEvidence", "adapter_for", "build_prompt", "context_for",
    "extract", "null_out", "prompt_for", "truncated",
]


@dataclass
class Extraction:
    document_type: str
    record: BaseModel | None
    violations: list[RuleViolation]
    generation: Generation  # the main pass
    fields: list[FieldEvidence] = field(default_factory=list)
    focused: list[Generation] = field(default_factory=list)  # the focused fields' passes

    @property
    def valid(self) -> bool:
        return self.record is not None and not self.violations

    @property
    def passes(self) -> list[Generation]:
        return [self.generation, *self.focused]


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
    focused = [focus.path for focus in doctype.focused]
    unlearned = runtime.adapters[adapter].manifest.get("unlearned", []) if adapter else []
    schema = null_out(doctype.json_schema(), [*unlearned, *focused])
    budget = settings.max_new_tokens or doctype.output_tokens
    generation = runtime.generate_json(
        prompt, schema, budget, allowed,
        repetition_penalty=decoding.get("repetition_penalty", settings.repetition_penalty),
        adapter=adapter, source_text=text,
    )
    fields = [item for item in evidence(document, generation.text, generation.token_texts,
                                        generation.token_logprobs)
              if not item.path.startswith(tuple(focused))]
    raw, violations = parse_answer(generation, budget)
    passes = []
    for focus in doctype.focused:
        found = answer(document, focus, runtime, adapter, decoding, settings.repetition_penalty)
        if isinstance(raw, dict):
            put(raw, focus.path, found.value)
        fields += found.fields
        passes += found.passes
    if adapter:
        fields = calibrate(fields, from_manifest(runtime.adapters[adapter].manifest))
    complete_dates(raw, fields, document, doctype.date_fields)
    record, broken = validate(doctype, raw, truncated=not generation.finished)
    violations += broken
    if record is not None:
        violations += low_confidence(fields, settings.confidence_threshold)
    return Extraction(doctype.name, record, violations, generation, fields, passes)
