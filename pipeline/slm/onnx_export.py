"""One-time export of the base model to ONNX Runtime: int8 weights, LoRA slots as inputs.

Route (chosen by measurement: `bench/runtime.py` and issue 3's note carry the figures):
1. onnxruntime-genai's model builder turns the cached transformers folder into an fp32 ONNX
   transformer body (GroupQueryAttention with KV cache, Gemma-3's local/global layers), with a
   zero-initialised template LoRA on every projection an adapter may train
   (`adapter_spec`: layers from `SKIP_LAYERS` up, all seven projections). Embedding lookup and
   LM head are left out (`exclude_embeds`, `exclude_lm_head`): the runtime does both from one
   fp16 table, and computes logits only for the tokens the document and schema allow
   (the 262k-row head holds most of the model's weights).
2. The template's LoRA weights become graph inputs with empty defaults, so the plain base runs
   with no LoRA cost and an adapter (`.onnx_adapter`, ORT's own format) is bound per run.
3. `onnxruntime.quantization`'s MatMulNBits quantizer makes the base projections int8
   (block 32, symmetric, accuracy level 4: int8 activations on CPU). LoRA stays fp32.
   Against fp32, int8 keeps the next token far more often than int4 at nearly its speed;
   int8 with fp32 compute (accuracy level 0) agreed a little more but was far slower.

The result is cached beside the transformers folder, keyed by the GGUF sha256 and the export
options, and written atomically: `docket model prepare` does it at install time, never a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from pipeline.slm import adapter_spec
from pipeline.slm.models import PreparedModel

log = logging.getLogger(__name__)

EXPORT_VERSION = 3  # bump when the steps below change: a new cache key, a new export
BITS = 8  # int4 (RTN, block 32 or 16) changed too many next tokens against fp32
BLOCK_SIZE = 32
ACCURACY_LEVEL = 4
LORA_RANK_DIM = "lora_rank"
EMBEDDINGS = "embeddings.f16.npy"  # the tied embedding / LM-head table, [vocab, hidden]
HEAD = "head.onnx"  # the whole LM head, int8: for steps that need every logit


@dataclass(frozen=True)
class OnnxModel:
    name: str
    gguf_sha256: str
    path: Path  # model.onnx (+ .data), embeddings.f16.npy, export.json
    info: dict[str, Any]

    @property
    def model_file(self) -> Path:
        return self.path / "model.onnx"

    @property
    def embeddings_file(self) -> Path:
        return self.path / EMBEDDINGS

    @property
    def head_file(self) -> Path:
        return self.path / HEAD

    @property
    def lora_inputs(self) -> dict[str, list[int]]:
        """Graph input name → [in, out] features of each LoRA slot (A: in×r, B: r×out)."""
        return {k: list(v) for k, v in self.info["lora_inputs"].items()}


def _options() -> dict[str, Any]:
    return {"version": EXPORT_VERSION, "bits": BITS, "block_size": BLOCK_SIZE,
            "accuracy_level": ACCURACY_LEVEL, "lora_modules": adapter_spec.TARGET_MODULES,
            "lora_from_layer": adapter_spec.SKIP_LAYERS}


def export(prepared: PreparedModel) -> OnnxModel:
    """Return the cached ONNX export of `prepared`, building it first if needed."""
    options = _options()
    key = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:8]
    target = prepared.path.with_name(f"{prepared.path.name}-onnx-{key}")
    if not (target / "export.json").exists():
        with FileLock(str(target) + ".lock"):  # several worker processes may start at once
            if not (target / "export.json").exists():
                _build(prepared, target, options)
    info = json.loads((target / "export.json").read_text())
    return OnnxModel(prepared.name, prepared.gguf_sha256, target, info)


def _build(prepared: PreparedModel, target: Path, options: dict[str, Any]) -> None:
    import onnx

    started = time.perf_counter()
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    template = _template_adapter(prepared, tmp / "template", options)
    log.info("Exporting %s to ONNX (once)…", prepared.name)
    _run_builder(prepared.path, template, tmp / "fp32")
    model = onnx.load(str(tmp / "fp32" / "model.onnx"))
    lora_inputs = _lora_to_inputs(model)
    model = _quantize(model)
    _add_empty_lora_defaults(model, lora_inputs)
    onnx.save_model(model, str(tmp / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data")
    table = _save_embeddings(prepared.path, tmp / EMBEDDINGS)
    _save_head(table, tmp / HEAD)
    shutil.rmtree(tmp / "fp32")
    shutil.rmtree(tmp / "template")
    info = {**options, "model": prepared.name, "gguf_sha256": prepared.gguf_sha256,
            "lora_inputs": lora_inputs, "export_s": round(time.perf_counter() - started, 1),
            "sizes_mb": {p.name: round(p.stat().st_size / 2**20, 1) for p in tmp.iterdir()}}
    (tmp / "export.json").write_text(json.dumps(info, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)  # atomic: a half-written folder is never taken for a cache hit
    log.info("ONNX export done in %.0f s: %s", info["export_s"], target)


def _template_adapter(prepared: PreparedModel, out: Path, options: dict[str, Any]) -> Path:
    """A zero LoRA on every slot an adapter may use: the builder then emits the LoRA path."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(prepared.path), dtype=torch.float32)
    layers = adapter_spec.adapted_layers(base.config.num_hidden_layers,
                                         options["lora_from_layer"])
    config = LoraConfig(r=1, lora_alpha=1, target_modules=options["lora_modules"],
                        layers_to_transform=layers, task_type="CAUSAL_LM")
    get_peft_model(base, config).save_pretrained(str(out))
    return out


def _run_builder(model_dir: Path, adapter: Path, out: Path) -> None:
    from onnxruntime_genai.models.builder import create_model, parse_extra_options

    args = (str(model_dir), str(out), "fp32", "cpu", str(out / "cache"))
    # Sliding-window layers keep a plain cache (the attention masks the window), so one KV
    # layout serves every layer and no ring buffer has to be managed here.
    extra = parse_extra_options("", *args, ["exclude_embeds=true", "exclude_lm_head=true",
                                            "windowed_kv_cache=false", f"adapter_path={adapter}"])
    _flatten_rope(extra["hf_details"]["hf_config"])
    log_file = out.parent / "builder.log"  # its per-tensor progress, kept out of the console
    with log_file.open("w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        create_model("", *args, **extra)


def _flatten_rope(config: Any) -> None:
    """transformers 5 keeps Gemma-3's two RoPE bases per layer type; the builder reads the
    older flat attributes (`rope_theta`, `rope_local_base_freq`). Hand it those."""
    per_type = getattr(config, "rope_parameters", None) or {}
    if "full_attention" in per_type:
        config.rope_theta = per_type["full_attention"]["rope_theta"]
        config.rope_local_base_freq = per_type["sliding_attention"]["rope_theta"]
        config.rope_parameters = {"rope_type": "default", "rope_theta": config.rope_theta}


def _lora_to_inputs(model: Any) -> dict[str, list[int]]:
    """Turn the template's LoRA weights into graph inputs; return name → [in, out]."""
    from onnx import TensorProto, helper

    graph = model.graph
    lora = [t for t in graph.initializer if ".lora_A." in t.name or ".lora_B." in t.name]
    if not lora:
        raise RuntimeError("the model builder emitted no LoRA weights; its version changed?")
    features: dict[str, list[int]] = {}
    for tensor in lora:
        rows, cols = tensor.dims  # MatMul weight: A is [in, r], B is [r, out]
        is_a = ".lora_A." in tensor.name
        shape = [rows, LORA_RANK_DIM] if is_a else [LORA_RANK_DIM, cols]
        graph.input.append(helper.make_tensor_value_info(tensor.name, TensorProto.FLOAT, shape))
        features[tensor.name] = [rows, 0] if is_a else [0, cols]
        graph.initializer.remove(tensor)
    return features


def _quantize(model: Any) -> Any:
    root = logging.getLogger()
    level = root.level
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # Its import calls logging.basicConfig(level=INFO): a line per MatMul on the install's
    # screen. Install output is for people: the root level goes back, its own logger is quiet.
    root.setLevel(level)
    logging.getLogger(MatMulNBitsQuantizer.__module__).setLevel(logging.WARNING)

    quantizer = MatMulNBitsQuantizer(model, bits=BITS, block_size=BLOCK_SIZE, is_symmetric=True,
                                     accuracy_level=ACCURACY_LEVEL)
    quantizer.process()  # MatMuls whose weight is an input (the LoRA slots) are left alone
    return quantizer.model.model


def _add_empty_lora_defaults(model: Any, lora_inputs: dict[str, list[int]]) -> None:
    """Rank-0 defaults: with no adapter bound, each LoRA path adds zeros at no cost."""
    from onnx import numpy_helper

    for name, shape in lora_inputs.items():
        model.graph.initializer.append(
            numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name))


def _save_embeddings(model_dir: Path, out: Path) -> np.ndarray:
    """The tied embedding table as fp16 on disk: memory-mapped, only the rows used are read."""
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="np") as weights:
        names = weights.keys()  # noqa: SIM118 - safe_open is not iterable
        name = next(k for k in names if k.endswith("embed_tokens.weight"))
        table = weights.get_tensor(name)
    np.save(out, table.astype(np.float16))
    return np.asarray(table, dtype=np.float32)


def _save_head(table: np.ndarray, out: Path) -> None:
    """The full LM head (hidden → every logit) as one int8 MatMulNBits, like the body's."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    vocab, hidden = table.shape
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["hidden", "lm_head"], ["logits"], name="/lm_head/MatMul")],
        "lm_head",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["n", hidden])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", vocab])],
        [numpy_helper.from_array(np.ascontiguousarray(table.T), "lm_head")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(_quantize(model), str(out), save_as_external_data=True,
                    location=out.name + ".data")
