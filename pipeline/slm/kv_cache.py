"""One generation's KV cache, updated in place by ONNX Runtime.

Fed as plain inputs, a pass's `past_key_values` are concatenated with the new positions into
fresh `present` outputs: every pass copies the whole cache, so a pass's cost grows with the
document, not with what it decides. Bound through an `IOBinding` with each layer's `past` and
`present` on the *same* buffer, the GroupQueryAttention kernel writes only the new positions
into it (its `past_present_share_buffer` mode) and reads the cache where it lies. Rolling back a
refused draft is then only a shorter length: the next pass overwrites what lay beyond it.

The buffers are zero-filled lazily by the operating system: only the positions written take
memory. A generation longer than the capacity moves to buffers twice the size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CAPACITY = 4096  # positions a generation's cache holds before it moves to a larger one


class SharedKvCache:
    """Each layer's keys and values, [1, kv_heads, capacity, head_dim], bound as both the
    `past_key_values.*` input and the `present.*` output of every pass."""

    def __init__(self, session: Any, past_names: list[str], shape: tuple[int, int, int, int],
                 lora_inputs: dict[str, Any], capacity: int = CAPACITY) -> None:
        self.session, self.past_names, self.shape = session, past_names, shape
        self.lora_inputs = lora_inputs  # the active adapter's weights, by graph input name
        self.length = 0  # positions holding the generation's tokens
        self._arrays: dict[str, np.ndarray] = {}
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        import onnxruntime as ort

        batch, heads, _, head_dim = self.shape
        old = self._arrays
        self._arrays = {name: np.zeros((batch, heads, capacity, head_dim), dtype=np.float32)
                        for name in self.past_names}
        for name, array in old.items():
            array_new = self._arrays[name]
            array_new[:, :, :self.length] = array[:, :, :self.length]
        self.capacity = capacity
        self.binding = self.session.io_binding()
        self.binding.bind_output("hidden_states")
        self._hidden_index = 0
        for name, value in self.lora_inputs.items():
            self.binding.bind_ortvalue_input(name, value)
        for name, array in self._arrays.items():  # the arrays stay referenced: no copies
            value = ort.OrtValue.ortvalue_from_numpy(array)
            self.binding.bind_ortvalue_input(name, value)
            self.binding.bind_ortvalue_output(name.replace("past_key_values.", "present."),
                                              value)

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
        hidden = self.binding.get_outputs()[self._hidden_index].numpy()
        return np.asarray(hidden[0])

    def keep(self, positions: int) -> None:
        """Keep the first `positions`: the next pass writes over the rest."""
        if positions > self.length:
            raise ValueError(f"cannot keep {positions} positions of {self.length}")
        self.length = positions
