"""PEFT LoRA adapters → ONNX Runtime's adapter format (`adapter.onnx_adapter`).

Training stays on PyTorch (PEFT); the ONNX export (`onnx_export`) leaves one LoRA slot per
trainable projection as a graph input. This writes an adapter's weights under those input
names, transposed for MatMul and with PEFT's scaling (alpha / r) folded into B, so binding it to
a run (`RunOptions.add_active_adapter`) is all a switch costs. It is written beside the PEFT
files in `adapters/<name>/` (committed) with the sha256 of the PEFT weights it came from, and
rewritten whenever those change.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from pipeline.slm.adapters import Adapter
from pipeline.slm.models import file_sha256

ONNX_ADAPTER = "adapter.onnx_adapter"

# base_model.model.model.layers.6.self_attn.q_proj.lora_A.weight
#   → model.layers.6.attn.q_proj.lora_A.MatMul.weight
_PEFT_KEY = re.compile(r"^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\."
                       r"lora_([AB])\.weight$")


def onnx_name(peft_key: str) -> str:
    match = _PEFT_KEY.match(peft_key)
    if not match:
        raise ValueError(f"Unexpected LoRA weight '{peft_key}': only attention and MLP "
                         "projections can be converted")
    layer, block, module, half = match.groups()
    block = "attn" if block == "self_attn" else "mlp"
    return f"model.layers.{layer}.{block}.{module}.lora_{half}.MatMul.weight"


def convert(adapter: Adapter, slots: dict[str, list[int]]) -> Path:
    """Write (if stale) and return `adapter.onnx_adapter` for the export's LoRA `slots`."""
    import onnxruntime as ort
    from safetensors import safe_open

    target = adapter.path / ONNX_ADAPTER
    source = adapter.path / "adapter_model.safetensors"
    stamp = target.with_name(ONNX_ADAPTER + ".source-sha256")  # which PEFT weights it holds
    source_sha = file_sha256(source)
    if target.exists() and stamp.exists() and stamp.read_text().strip() == source_sha:
        return target
    config = json.loads((adapter.path / "adapter_config.json").read_text())
    scaling = config["lora_alpha"] / config["r"]
    parameters = {}
    with safe_open(str(source), framework="np") as weights:
        for key in weights.keys():  # noqa: SIM118 - safe_open is not iterable
            name = onnx_name(key)
            if name not in slots:
                raise ValueError(f"Adapter '{adapter.name}' trains {name}, which the ONNX export "
                                 "has no slot for; retrain it with the current "
                                 "`docket adapters train`, or run it with DOCKET_RUNTIME=torch")
            value = weights.get_tensor(key).astype(np.float32).T  # PEFT stores [out, in]
            if ".lora_B." in name:
                value = value * scaling
            parameters[name] = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value))
    fmt = ort.AdapterFormat()
    fmt.set_adapter_version(1)
    fmt.set_model_version(1)
    fmt.set_parameters(parameters)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # pool processes convert at once
    fmt.export_adapter(str(tmp))
    os.replace(tmp, target)
    stamp.write_text(source_sha + "\n")
    return target
