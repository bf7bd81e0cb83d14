"""The serving tokenizer (`pipeline.slm.tokens`) against transformers' AutoTokenizer, which
training uses: an adapter is trained on one's ids and served on the other's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.settings import get_settings
from pipeline.slm.models import prepare
from pipeline.slm.tokens import Tokens

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "README.md"


@pytest.fixture(scope="module")
def model_dir() -> Path:
    settings = get_settings()
    return prepare(settings.model, settings.model_cache_dir).path


def test_the_serving_tokenizer_writes_the_ids_training_writes(model_dir: Path) -> None:
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(model_dir))
    tokens = Tokens.load(model_dir)
    text = SAMPLES.read_text()
    texts = [text, text[:700], "TOTAL RM 9.90\n\nJSON: {\"total\": \"9.90\"}", " Größe ½ – ✓ 日本"]
    for piece in texts:
        assert tokens.encode(piece) == reference(piece)["input_ids"]
        assert tokens.encode(piece, special=False) == \
            reference(piece, add_special_tokens=False)["input_ids"]
        ids = tokens.encode(piece)
        assert tokens.decode(ids) == reference.decode(ids, skip_special_tokens=True)
    assert tokens.encode_many(texts) == reference(texts, add_special_tokens=False)["input_ids"]
    assert (tokens.eos_token_id, tokens.pad_token_id) == \
        (reference.eos_token_id, reference.pad_token_id)
    assert tokens.get_vocab() == reference.get_vocab()


def test_the_grammar_sees_the_vocabulary_as_xgrammar_reads_transformers(model_dir: Path) -> None:
    import xgrammar
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(model_dir))
    size = len(reference.get_vocab())
    ours = Tokens.load(model_dir).grammar_info(size)
    theirs = xgrammar.TokenizerInfo.from_huggingface(
        reference, vocab_size=size, stop_token_ids=[reference.eos_token_id])
    assert ours.dump_metadata() == theirs.dump_metadata()
    assert ours.decoded_vocab == theirs.decoded_vocab


def test_a_serving_process_loads_no_torch() -> None:
    """The worker's runtime, with its adapters, routes and extracts a sample, and a DOCX is
    converted (docling), without torch."""
    code = """
import sys
from pipeline.settings import get_settings
from pipeline.slm.factory import get_runtime
from pipeline.convert import convert
from pipeline.classify import classify
from pipeline.extract import extract
from pipeline import doctypes
settings = get_settings()
runtime = get_runtime(settings)
document = convert(open("samples/documents/receipt-bookshop.pdf", "rb").read(), "r.pdf", settings)
routed = classify(document, runtime)
result = extract(document, doctypes.get(routed.document_type), runtime, settings)
docx = convert(open("samples/documents/contract-services.docx", "rb").read(), "c.docx", settings)
assert "SERVICES" in docx.text().upper(), docx.text()[:200]
print(routed.document_type, sorted(runtime.adapters), "torch" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, check=True)
    document_type, *_, torch_loaded = out.stdout.split()
    assert document_type == "receipt"
    assert torch_loaded == "False", out.stdout
