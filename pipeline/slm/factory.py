"""Which runtime a process gets: the one `settings.runtime` names, loaded once, lazily.

Only the chosen engine's module is imported (`onnx_runtime` or `torch_runtime`), so neither
engine imports the other and the base module (`runtime`) imports neither.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipeline.memory import release_free_memory
from pipeline.settings import Settings, get_settings
from pipeline.slm.models import prepare
from pipeline.slm.runtime import Runtime

__all__ = ["get_runtime", "load_runtime"]


def load_runtime(settings: Settings, kind: str | None = None) -> Runtime:
    """A new runtime of `kind` (default: `settings.runtime`) for `settings.model`."""
    return _load(settings.model, kind or settings.runtime, settings.model_cache_dir,
                 settings.model_threads, settings.candidate_logits, settings.speculative)


def get_runtime(settings: Settings | None = None) -> Runtime:
    """The process's runtime, loaded on first use (the worker loads it at process start)."""
    settings = settings or get_settings()
    return _process_runtime(settings.model, settings.runtime, settings.model_cache_dir,
                            settings.model_threads, settings.candidate_logits,
                            settings.speculative)


def _load(model: str, kind: str, cache_dir: Path, threads: int,
          candidate_logits: bool, speculative: bool = True) -> Runtime:
    prepared = prepare(model, cache_dir)
    runtime: Runtime
    if kind == "torch":
        from pipeline.slm.torch_runtime import TorchRuntime

        runtime = TorchRuntime(prepared, threads=threads)
    else:
        from pipeline.slm.onnx_runtime import OnnxRuntime

        runtime = OnnxRuntime(prepared, threads=threads, candidate_logits=candidate_logits)
    runtime.speculative = speculative
    release_free_memory()  # the tokenizer file's parse, the adapters' conversion
    return runtime


# One runtime per process: settings that load another replace it rather than keep both.
_process_runtime = lru_cache(maxsize=1)(_load)
