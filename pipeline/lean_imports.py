"""Importing libraries that reach for torch when it is installed, without it.

torch is installed for training, and serving dependencies import it only because it is there:
tvm_ffi (xgrammar's bindings) to speed up torch tensors serving never hands it, docling to ask
whether an Apple GPU is present. Those imports are optional (`except ImportError`), while torch
costs a worker ~200 MB. Inside `without_torch()` `import torch` raises ImportError, unless
torch is already imported (training, tests); after it, `import torch` works as usual.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_torch() -> Iterator[None]:
    if "torch" in sys.modules:
        yield
        return
    # transformers reads whether torch is installed once, at its import: import it first, or
    # it would believe torch missing for the rest of the process
    import transformers  # noqa: F401

    sys.modules["torch"] = None  # type: ignore[assignment]  # Python's "not importable" mark
    try:
        yield
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
