"""Handing freed memory back to the operating system between documents.

glibc's allocator keeps what a process frees (the tokenizer file's parse at load, a scan's
image arrays, a long prompt's buffers) for reuse, so a worker's resident memory stays at its
high-water mark. `malloc_trim(0)` returns the free pages; it takes milliseconds and is a
no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def release_free_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
