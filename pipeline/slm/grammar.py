"""xgrammar's JSON-schema compiler and matcher, without importing torch.

torch costs a worker ~200 MB that serving never uses, and two imports pull it in:
- xgrammar's package `__init__` imports its `matcher` module, which imports torch for its
  bitmask helpers, although the C++ matcher only needs an int32 array that speaks DLPack
  (numpy's does). So the modules serving uses (`compiler`, `tokenizer_info`, `base`) are
  loaded without running the package `__init__`, and the C++ matcher is driven through the
  same handle calls xgrammar's `GrammarMatcher` makes.
- tvm_ffi (xgrammar's binding layer) imports torch when it can: it loads `without_torch`.
Where torch is already imported (training, tests), xgrammar loads in full, as it is. A later
`import torch` or `import xgrammar` in the same process works as usual.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

import numpy as np

from pipeline.lean_imports import without_torch


def _modules() -> tuple[ModuleType, ModuleType, ModuleType]:
    """xgrammar's `compiler`, `tokenizer_info` and `base` modules."""
    names = ("xgrammar.compiler", "xgrammar.tokenizer_info", "xgrammar.base")
    if "xgrammar" in sys.modules or "torch" in sys.modules:
        import xgrammar  # noqa: F401 - in full, torch and all

        return tuple(importlib.import_module(n) for n in names)  # type: ignore[return-value]
    spec = importlib.util.find_spec("xgrammar")
    if spec is None:
        raise ImportError("xgrammar is not installed: run scripts/install.sh")
    with without_torch():
        return _submodules(spec, names)


def _submodules(spec: Any, names: tuple[str, ...]) -> tuple[ModuleType, ModuleType, ModuleType]:
    # The package object without its __init__, for the submodules' relative imports; removed
    # afterwards, so a later `import xgrammar` runs in full and finds these already loaded.
    sys.modules["xgrammar"] = importlib.util.module_from_spec(spec)
    try:
        for first in ("xgrammar.exception", "xgrammar.load_binding"):  # as __init__ does
            importlib.import_module(first)  # the C++ error types, then the native library
        modules = tuple(importlib.import_module(n) for n in names)
    finally:
        del sys.modules["xgrammar"]
    return modules  # type: ignore[return-value]


_compiler, _tokenizer_info, _base = _modules()
TokenizerInfo: Any = _tokenizer_info.TokenizerInfo
GrammarCompiler: Any = _compiler.GrammarCompiler


def allocate_bitmask(vocab_size: int) -> np.ndarray:
    """xgrammar's packed token bitmask for one sequence: int32 words, all tokens allowed."""
    return np.full((1, (vocab_size + 31) // 32), -1, dtype=np.int32)


class Matcher:
    """One generation's grammar state: xgrammar's C++ `GrammarMatcher`, as its Python class
    drives it by default (the tokenizer info's stop tokens, unlimited rollback)."""

    def __init__(self, compiled: Any) -> None:
        self._handle = _base._core.GrammarMatcher(compiled._handle, None, False, -1, None)

    def accept_token(self, token: int) -> bool:
        return bool(self._handle.accept_token(token, False))

    def fill_next_token_bitmask(self, bitmask: np.ndarray) -> bool:
        return bool(self._handle.fill_next_token_bitmask(bitmask, 0, False))

    def find_jump_forward_string(self) -> str:
        return str(self._handle.find_jump_forward_string())

    def rollback(self, tokens: int = 1) -> None:
        self._handle.rollback(tokens)

    def is_terminated(self) -> bool:
        return bool(self._handle.is_terminated())
