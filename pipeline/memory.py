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

_RELEASERS: list[Callable[[], None]] = []  # what else holds pages worth handing back


def on_release(releaser: Callable[[], None]) -> None:
    """Call `releaser` at each `release_free_memory` (a buffer kept for reuse drops its
    pages then, and gets zero pages back on its next use)."""
    _RELEASERS.append(releaser)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def release_free_memory() -> None:
    for releaser in _RELEASERS:
        releaser()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
