"""The ONNX Runtime serving path against the PyTorch reference, on the real Gemma weights."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
import torch

from pipeline import doctypes
from pipeline.document import Document, Line, Page
from pipeline.extract import null_out, prompt_for
from pipeline.slm import adapters as adapter_store
from pipeline.slm import onnx_adapters
from pipeline.slm.models import prepare
from pipeline.slm.onnx_export import export
from pipeline.slm.onnx_runtime import OnnxRuntime
from pipeline.slm.torch_runtime import TorchRuntime

RECEIPT = """KOPI KAKI CAFE
12 JALAN TELAWI 3, BANGSAR 59100 KUALA LUMPUR
Date: 14/03/2025
Nasi Lemak Special 1 x 15.90 15.90
Kaya Toast Set 2 x 8.50 17.00
SUBTOTAL 32.90
SST 6% 1.97
TOTAL RM 34.87
"""


@pytest.fixture(scope="module")
def onnx(runtime: Any) -> OnnxRuntime:
    assert isinstance(runtime, OnnxRuntime), "the default runtime is ONNX Runtime"
    return runtime


@pytest.fixture(scope="module")
def reference(settings: Any) -> TorchRuntime:
    return TorchRuntime(prepare(settings.model, settings.model_cache_dir))


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1))


def test_export_is_cached_by_weights_and_options(settings: Any, onnx: OnnxRuntime) -> None:
    prepared = prepare(settings.model, settings.model_cache_dir)
    exported = export(prepared)
    assert exported.path == onnx.export.path  # a cache hit, not a second export
    assert prepared.gguf_sha256[:16] in exported.path.name
    assert exported.info["bits"] == 8 and exported.info["gguf_sha256"] == prepared.gguf_sha256
    # one A and one B slot for each of 7 projections in each adapted layer (6-17)
    assert len(exported.lora_inputs) == 2 * 7 * 12
    assert exported.model_file.stat().st_size + (exported.path / "model.onnx.data").stat(
    ).st_size < 250 * 2**20  # int8 body, without the 262k-row embedding and head


@pytest.mark.parametrize("adapter", [None, "receipt"])
def test_hidden_states_match_the_pytorch_reference(onnx: OnnxRuntime, reference: TorchRuntime,
                                                   adapter: str | None) -> None:
    ids = onnx.encode(RECEIPT)
    with torch.inference_mode(), reference.using(adapter):
        out = reference.model(input_ids=torch.tensor([ids]), output_hidden_states=True)
    expected = out.hidden_states[-1][0].numpy()
    got = onnx.hidden_states(ids, adapter)
    cosine = _cosine(expected, got)
    assert cosine.min() > 0.98 and cosine.mean() > 0.995, (cosine.min(), cosine.mean())
    with onnx.using(adapter):  # decoding's passes (prompt, several tokens, one token) too
        stepper = onnx._stepper()
        fed = np.concatenate([stepper.feed(ids[:-8], True), stepper.feed(ids[-8:-4], True),
                              *(stepper.feed([token], True) for token in ids[-4:])])
    cosine = _cosine(expected, fed)
    assert cosine.min() > 0.98 and cosine.mean() > 0.995, (cosine.min(), cosine.mean())


def test_adapters_switch_per_run_without_touching_the_base(onnx: OnnxRuntime) -> None:
    ids = onnx.encode(RECEIPT)
    session = onnx.session
    plain = onnx.hidden_states(ids)
    adapted = onnx.hidden_states(ids, "receipt")
    other = onnx.hidden_states(ids, "contract")
    assert not np.allclose(plain, adapted) and not np.allclose(adapted, other)
    np.testing.assert_array_equal(onnx.hidden_states(ids), plain)  # base comes back exactly
    assert onnx.session is session  # one session: the base was neither reloaded nor copied
    started = time.perf_counter()
    for _ in range(100):
        with onnx.using("receipt"):
            pass
    assert (time.perf_counter() - started) / 100 < 0.005  # a switch is choosing run options
    with pytest.raises(ValueError, match="No adapter 'legal'"), onnx.using("legal"):
        pass


def test_candidate_logits_agree_with_the_full_vocabulary(onnx: OnnxRuntime,
                                                         settings: Any) -> None:
    """The candidate set (document + JSON + schema tokens) holds the greedy pick.

    Every token decoding over the whole vocabulary writes is a candidate. (The two runs are
    not compared text for text: the whole vocabulary is scored by the int8 LM head, the
    candidates by the fp16 table, and a close call between two candidates can go either way
    with the CPU's int8 kernels.)"""
    document = Document(pages=[Page(number=1, lines=[Line(text=t) for t in RECEIPT.splitlines()])],
                        converter="text", mime_type="text/plain")
    prompt, text = prompt_for(document, doctypes.get("receipt"), settings)
    schema = null_out(doctypes.get("receipt").json_schema(),
                      adapter_store.find("receipt").manifest.get("unlearned", []))
    fast = onnx.generate_json(prompt, schema, 200, None, 1.0, "receipt", text)
    full = onnx.generate_json(prompt, schema, 200, None, 1.0, "receipt", None)
    candidates = set(onnx._candidates(text, json.dumps(schema)).tolist())
    assert set(full.token_ids) <= candidates, set(full.token_ids) - candidates
    assert fast.full_vocab_steps == 0
    assert '"total": "34.87"' in fast.text
    assert fast.decode_tokens_per_s > full.decode_tokens_per_s


def test_an_adapter_trained_on_layers_without_slots_is_refused(tmp_path: Any,
                                                                onnx: OnnxRuntime) -> None:
    from safetensors.numpy import save_file

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"lora_alpha": 32, "r": 16}))
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight":
               np.zeros((16, 640), dtype=np.float16)}, str(folder / "adapter_model.safetensors"))
    odd = adapter_store.Adapter("odd", folder, {})
    with pytest.raises(ValueError, match="no slot for"):
        onnx_adapters.convert(odd, onnx.export.lora_inputs)


@pytest.mark.parametrize("start", [180, 310, 440, 560])
def test_a_long_pass_computes_each_row_as_one_pass_a_token_does(onnx: OnnxRuntime,
                                                               start: int) -> None:
    """Speculative decoding's passes (up to 17 tokens) give every position the hidden state,
    bit for bit, that feeding the tokens one at a time gives it, also across the attention's
    block thresholds (`KV_BLOCK`: 192, 320, 448 and 576 positions)."""
    text = " ".join(f"line {n}: TOTAL RM {n}.90 CASH {2 * n}.00" for n in range(200))
    ids = onnx.encode(text)[:start + 17]
    with onnx.using("receipt"):
        long, single = onnx._stepper(), onnx._stepper()
        long.feed(ids[:start], True)
        single.feed(ids[:start], True)
        together = long.feed(ids[start:], True)
        alone = np.concatenate([single.feed([token], True) for token in ids[start:]])
    np.testing.assert_array_equal(together, alone)
