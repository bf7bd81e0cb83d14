"""The KV cache, updated in place by ONNX Runtime, one per runtime, reused by each generation.

Fed as plain inputs, a pass's `past_key_values` are concatenated with the new positions into
fresh `present` outputs: every pass copies the whole cache, so a pass's cost grows with the
document, not with what it decides. Bound through an `IOBinding` with each layer's `past` and
`present` on the *same* buffer, the GroupQueryAttention kernel writes only the new positions
into it (its `past_present_share_buffer` mode) and reads the cache where it lies. Rolling back a
refused draft is then only a shorter length: the next pass overwrites what lay beyond it.

The buffers are one anonymous memory mapping: the operating system hands out zero pages as
positions are first written, so only the positions used take memory, and allocating it costs
nothing per generation. `release` (between documents) hands the pages back. A generation
longer than the capacity moves to a mapping twice the size.
"""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

CAPACITY = 4096  # positions the cache holds before it moves to a larger mapping


class SharedKvCache:
    """Each layer's keys and values, [1, kv_heads, capacity, head_dim], bound as both the
    `past_key_values.*` input and the `present.*` output of every pass."""

    def __init__(self, session: Any, past_names: list[str], shape: tuple[int, int, int, int],
                 capacity: int = CAPACITY) -> None:
        self.session, self.past_names, self.shape = session, past_names, shape
        self.length = 0  # positions holding the current generation's tokens
        self.lora_inputs: dict[str, Any] = {}
        self._map: mmap.mmap | None = None
        self._arrays: dict[str, np.ndarray] = {}
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        batch, heads, _, head_dim = self.shape
        per_layer = batch * heads * capacity * head_dim
        mapping = mmap.mmap(-1, 4 * per_layer * len(self.past_names))  # zero pages, lazily
        flat = np.frombuffer(mapping, dtype=np.float32)
        arrays = {name: flat[n * per_layer:(n + 1) * per_layer].reshape(
                      batch, heads, capacity, head_dim)
                  for n, name in enumerate(self.past_names)}
        for name, old in self._arrays.items():
            arrays[name][:, :, :self.length] = old[:, :, :self.length]
        self._arrays, self._map, self.capacity = arrays, mapping, capacity
        # The arrays stay referenced, so the values bound point into them: no copies.
        self._values = {name: ort_value(array) for name, array in arrays.items()}
        self.binding = self.session.io_binding()
        self.binding.bind_output("hidden_states")
        for name, value in self._values.items():
            self.binding.bind_ortvalue_output(name.replace("past_key_values.", "present."),
                                              value)
        self._bind_inputs()

    def start(self, lora_inputs: dict[str, Any]) -> None:
        """Begin a generation with these LoRA weights (the active adapter's, by graph input
        name; empty: the plain base)."""
        self.length = 0
        if lora_inputs is not self.lora_inputs:
            self.lora_inputs = lora_inputs
            self.binding.clear_binding_inputs()  # the previous adapter's weights go too
            self._bind_inputs()

    def _bind_inputs(self) -> None:
        """The cache, and the LoRA weights in use; each pass binds its tokens itself."""
        for name, value in (*self._values.items(), *self.lora_inputs.items()):
            self.binding.bind_ortvalue_input(name, value)

    def run(self, embeddings: np.ndarray) -> np.ndarray:
        """One pass over `embeddings` ([tokens, hidden]) after the cached positions; the
        cache grows by that many. Returns the hidden states, [tokens, hidden]."""
        total = self.length + len(embeddings)
        if total > self.capacity:
            self._allocate(max(2 * self.capacity, total))
        # A bound input points into its array, which must outlive the run.
        inputs = np.ascontiguousarray(embeddings[None], dtype=np.float32)
        mask = np.ones((1, total), dtype=np.int64)
        self.binding.bind_cpu_input("inputs_embeds", inputs)
        self.binding.bind_cpu_input("attention_mask", mask)
        self.binding.bind_output("hidden_states")  # allocated by the run, its length varies
        self.session.run_with_iobinding(self.binding)
        self.length = total
        return np.asarray(self.binding.get_outputs()[0].numpy()[0])

    def keep(self, positions: int) -> None:
        """Keep the first `positions`: the next pass writes over the rest."""
        if positions > self.length:
            raise ValueError(f"cannot keep {positions} positions of {self.length}")
        self.length = positions

    def release(self) -> None:
        """Hand the used pages back to the system (they come back as zero pages on use)."""
        if self._map is not None and hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_DONTNEED)


def ort_value(array: np.ndarray) -> Any:
    import onnxruntime as ort

    return ort.OrtValue.ortvalue_from_numpy(array)
