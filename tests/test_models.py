"""Both base models load from their PyPI packages, offline, and write schema-valid records."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline import doctypes
from pipeline.document import Document, Line, Page
from pipeline.extract import extract
from pipeline.slm.models import MODELS, prepare
from pipeline.slm.onnx_runtime import OnnxRuntime
from pipeline.slm.runtime import Runtime

RECEIPT_TEXT = """LARKSPUR BOOKS
55 Elm Street, Northampton, MA 01060
05/17/2025 16:05
The Overstory 18.99
SUBTOTAL 18.99
TAX 6.25% 1.19
TOTAL 20.18
VISA"""


def _document(text: str) -> Document:
    return Document(pages=[Page(number=1, lines=[Line(text=t) for t in text.splitlines()])],
                    converter="text", mime_type="text/plain")


def test_conversion_is_cached_by_content_hash(settings: Any) -> None:
    first = prepare("gemma-3-270m", settings.model_cache_dir)
    again = prepare("gemma-3-270m", settings.model_cache_dir)
    assert first.path == again.path and first.gguf_sha256[:16] in first.path.name
    assert (first.path / "model.safetensors").stat().st_size > 100_000_000


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_writes_a_schema_valid_receipt(name: str, settings: Any, runtime: Runtime) -> None:
    model = runtime if name == runtime.name else OnnxRuntime(
        prepare(name, settings.model_cache_dir))
    extraction = extract(_document(RECEIPT_TEXT), doctypes.get("receipt"), model, settings)
    generation = extraction.generation
    assert generation.output_tokens > 0 and generation.decode_tokens_per_s > 0
    if generation.finished:  # a complete answer parses by construction
        doctypes.get("receipt").draft_model.model_validate(json.loads(generation.text))
    assert extraction.record is not None
    assert 0 < generation.mean_probability <= 1


def test_unknown_model_is_refused_clearly(settings: Any) -> None:
    with pytest.raises(ValueError, match="choose one of"):
        prepare("gpt-9", settings.model_cache_dir)


def test_an_answer_that_reaches_its_budget_is_closed_not_cut(settings: Any,
                                                             runtime: Runtime) -> None:
    """A long receipt at a small budget: the JSON is closed before the budget ends, parses and
    fits the schema, keeps what was written, and the record says entries may be missing."""
    lines = [f"Item {n} widget {n}.00" for n in range(1, 25)]
    text = RECEIPT_TEXT.replace("The Overstory 18.99", "\n".join(lines))
    budgeted = settings.model_copy(update={"max_new_tokens": 90})
    extraction = extract(_document(text), doctypes.get("receipt"), runtime, budgeted)
    generation = extraction.generation
    assert generation.finished and generation.closed_early
    assert generation.output_tokens <= 90
    draft = doctypes.get("receipt").draft_model.model_validate(json.loads(generation.text))
    assert draft.merchant_name  # written before the close
    assert "output_closed_early" in {v.rule for v in extraction.violations}
    assert "output_truncated" not in {v.rule for v in extraction.violations}
    # With room to spare the same document is not closed early.
    roomy = extract(_document(RECEIPT_TEXT), doctypes.get("receipt"), runtime, settings)
    assert not roomy.generation.closed_early
