"""The router: which document type is this? Decided by the SLM, constrained to known types."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline import doctypes
from pipeline.document import Document
from pipeline.slm.runtime import Runtime

_ROUTER_CHARS = 1500  # the first page says what a document is; more only costs prefill


@dataclass
class Classification:
    document_type: str  # a registry name or doctypes.UNKNOWN
    confidence: float
    method: str  # "hint" or "slm"
    seconds: float = 0.0


def classify(document: Document, runtime: Runtime, hint: str | None = None) -> Classification:
    if hint:
        doctypes.get(hint)  # an unknown hint is a caller error, said clearly
        return Classification(hint, 1.0, "hint")
    names = [*doctypes.REGISTRY, doctypes.UNKNOWN]
    kinds = "\n".join(f"- {t.name}: {t.description}" for t in doctypes.REGISTRY.values())
    prompt = (
        f"Classify the document. Types:\n{kinds}\n- unknown: anything else\n\n"
        f"Document:\n{document.text(max_chars=_ROUTER_CHARS)}\n\n"
        f"Type ({', '.join(names)}): "
    )
    generation = runtime.generate_json(prompt, {"enum": names}, max_new_tokens=8)
    label = generation.text.strip().strip('"')
    confidence = math.exp(sum(generation.token_logprobs))
    return Classification(
        label, confidence, "slm", seconds=generation.prefill_s + generation.decode_s
    )
