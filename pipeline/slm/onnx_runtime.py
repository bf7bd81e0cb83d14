"""The serving runtime: the int8 ONNX export on ONNX Runtime's CPU provider.

The exported graph is the transformer body only (`onnx_export`). This class does the two ends
from one fp16 table, memory-mapped (the tied embedding/LM-head, 262k × 640):
- input: rows of the table, scaled by √hidden as Gemma does;
- output: logits for the candidate tokens only — every token whose text occurs in the document
  or the schema's words, plus JSON, digits and punctuation — instead of all 262k rows
  (`decoding`). Extraction copies from the document, so the greedy pick is almost always
  among them; where the grammar allows none of them the step is scored over the whole
  vocabulary.
Each LoRA adapter's weights (ONNX Runtime's adapter format) are bound as the graph's LoRA
inputs of each pass it runs: switching is choosing which weights the next pass binds; the base
weights are shared and never copied. Passes run through an IOBinding that keeps the KV cache in
place (`kv_cache`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import string
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np

from pipeline import memory
from pipeline.slm import adapters as adapter_store
from pipeline.slm import onnx_adapters, onnx_export
from pipeline.slm.decoding import Stepper
from pipeline.slm.kv_cache import SharedKvCache
from pipeline.slm.models import PreparedModel
from pipeline.slm.runtime import Runtime

log = logging.getLogger(__name__)

_SYMBOLS = set(string.digits + string.punctuation + string.whitespace)

# A pass over one token runs as a pass over two (the token and a copy whose row is dropped).
# ONNX Runtime's int8 MatMulNBits takes another kernel for a single row, which rounds
# differently (hidden states of the same token differ by up to 1.5%), while rows of any
# larger pass are bit-identical whatever the pass's length. With every pass on the same
# kernel, speculative decoding (several tokens a pass) writes what one pass a token writes,
# token for token and probability for probability; the second row costs ~2 ms a pass.
SINGLE_ROWS = 2

# The attention's weighted sum of values runs over the cache in blocks of KV_BLOCK positions,
# a last stretch of up to KV_TAIL positions folded into the block before it (measured on
# ONNX Runtime 1.32's CPU GroupQueryAttention with the cache shared in place, `kv_cache`: a
# row is bit-identical in any pass whose total length stays on the same side of each
# KV_BLOCK * m + KV_TAIL; with the cache copied each pass the block was 256). So a pass
# holding the rows just before and at such a threshold T (T - 2 and T - 1) would round one of
# them differently from one pass a token, where a row at position q is computed in a pass of
# total length q + 2 (see SINGLE_ROWS). Such a pass is cut between those two rows.
KV_BLOCK, KV_TAIL = 128, 64


def pass_cuts(start: int, count: int) -> list[int]:
    """Where a pass over positions [start, start + count) is cut (offsets into it) so every
    row keeps the block layout one pass a token gives it (KV_BLOCK)."""
    cuts = []
    threshold = KV_BLOCK + KV_TAIL
    while threshold - 1 < start + count:
        if start <= threshold - 2:  # holds rows threshold - 2 and threshold - 1
            cuts.append(threshold - 1 - start)
        threshold += KV_BLOCK
    return cuts


def _weakly(method: Callable[[], None]) -> Callable[[], None]:
    """Call `method` while its object lives, without keeping the object alive."""
    ref = weakref.WeakMethod(method)

    def call() -> None:
        bound = ref()
        if bound is not None:
            bound()

    return call


def _schema_words(node: Any) -> Iterator[str]:
    """Every key and string value of a JSON schema: the words its grammar may write."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _schema_words(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_words(value)
    elif isinstance(node, str):
        yield node


class OnnxRuntime(Runtime):
    kind = "onnx"

    def __init__(self, prepared: PreparedModel, threads: int = 0,
                 adapters_dir: Path = adapter_store.ADAPTERS_DIR,
                 candidate_logits: bool = True) -> None:
        import onnxruntime as ort

        started = time.perf_counter()
        self.export = onnx_export.export(prepared)
        self._table = np.load(self.export.embeddings_file, mmap_mode="r")
        self._init_text(prepared, int(self._table.shape[0]))
        config = json.loads((prepared.path / "config.json").read_text())
        gemma = config["model_type"].startswith("gemma")  # Gemma scales its embeddings
        self._embed_scale = np.float32(np.sqrt(config["hidden_size"]) if gemma else 1.0)
        head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
        self._kv_shape = (1, config["num_key_value_heads"], 0, head_dim)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # ONNX Runtime's arena keeps the activations of the longest prompt seen for good; freed
        # to the C allocator instead, they go back between documents (`pipeline.memory`).
        # Decoding speed is the same either way.
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3  # the LoRA slots are overridable initializers on purpose
        # Between two runs the decoding loop works (grammar, logits) on the same cores: threads
        # spinning for the next run would take them from it.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(self.export.model_file), options,
                                            providers=["CPUExecutionProvider"])
        self._options, self._head = options, cast(Any, None)
        self._past = [i.name for i in self.session.get_inputs()
                      if i.name.startswith("past_key_values.")]
        self.candidate_logits = candidate_logits
        self.adapters = {a.name: a for a in adapter_store.for_model(self.model_sha256,
                                                                    adapters_dir)}
        # Each adapter's LoRA weights, bound as the graph's LoRA inputs of every pass it runs
        # (an IOBinding run does not apply a RunOptions' active adapters). Unbound, the
        # inputs keep their empty defaults: the plain base.
        self._lora_inputs: dict[str | None, dict[str, Any]] = {None: {}}
        for name, adapter in self.adapters.items():
            path = onnx_adapters.convert(adapter, self.export.lora_inputs)
            self._lora_inputs[name] = ort.AdapterFormat.read_adapter(str(path)).get_parameters()
        self._active: dict[str, Any] = self._lora_inputs[None]
        self._kv_pool: list[SharedKvCache] = []  # caches no live generation uses
        memory.on_release(_weakly(self._release_caches))  # the runtime may still go
        self.load_s = time.perf_counter() - started
        log.info("Loaded %s (onnx int8) in %.1f s", self.name, self.load_s)

    def load_adapter(self, adapter: adapter_store.Adapter) -> None:
        import onnxruntime as ort

        path = onnx_adapters.convert(adapter, self.export.lora_inputs)
        self._lora_inputs[adapter.name] = ort.AdapterFormat.read_adapter(
            str(path)).get_parameters()
        self.adapters[adapter.name] = adapter

    @contextmanager
    def using(self, adapter: str | None) -> Iterator[None]:
        """Run the enclosed calls with this adapter bound (None: the plain base model)."""
        if adapter not in self._lora_inputs:
            loaded = ", ".join(self.adapters) or "none"
            raise ValueError(f"No adapter '{adapter}' is loaded for {self.name}; loaded: {loaded}")
        before, self._active = self._active, self._lora_inputs[adapter]
        try:
            yield
        finally:
            self._active = before

    # -- the two ends of the model, from the fp16 table ------------------------------------

    def _embed_rows(self, ids: list[int]) -> np.ndarray:
        return self._table[ids].astype(np.float32) * self._embed_scale

    def full_logits(self, hidden: np.ndarray) -> np.ndarray:
        """Every token's logit, from the int8 LM head (loaded the first time it is needed)."""
        if self._head is None:
            import onnxruntime as ort

            self._head = ort.InferenceSession(str(self.export.head_file), self._options,
                                              providers=["CPUExecutionProvider"])
        return np.asarray(self._head.run(["logits"], {"hidden": hidden[None]})[0][0])

    def _candidates(self, source_text: str | None, schema_json: str) -> np.ndarray | None:
        if not self.candidate_logits or source_text is None:
            return None
        words = " ".join(_schema_words(json.loads(schema_json)))
        mask = self._symbol_tokens() | self._substring_tokens(f"{source_text}\n{words}")
        return np.flatnonzero(mask)

    @lru_cache(maxsize=1)  # noqa: B019 - one runtime per process
    def _token_cores(self) -> tuple[np.ndarray, list[str]]:
        """Each token's text, lower-cased, without the spaces and quotes around it."""
        ids, cores = [], []
        for token, index in self.tokens.get_vocab().items():
            core = token.replace("▁", " ").strip(' "').lower()
            if core and index < self.vocab_size:
                ids.append(index)
                cores.append(core)
        return np.array(ids, dtype=np.int64), cores

    def _substring_tokens(self, text: str, longest: int = 24) -> np.ndarray:
        """Every token whose text occurs in `text` (any case): whichever way the model splits
        a word it copies, the pieces are candidates."""
        lowered = text.lower()
        pieces = {lowered[i:i + n] for i in range(len(lowered)) for n in range(1, longest + 1)}
        ids, cores = self._token_cores()
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[ids[np.fromiter((core in pieces for core in cores), dtype=bool, count=len(cores))]] \
            = True
        return mask

    @lru_cache(maxsize=1)  # noqa: B019 - one runtime per process
    def _symbol_tokens(self) -> np.ndarray:
        """Tokens any answer may need whatever the document: digits, punctuation, JSON, single
        letters, short upper-case codes (currencies), byte tokens, end of text."""
        mask = np.zeros(self.vocab_size, dtype=bool)
        for token, index in self.tokens.get_vocab().items():
            text = token.replace("▁", " ")
            core = text.strip()
            if index >= mask.size:
                continue
            if (all(c in _SYMBOLS for c in text)
                    or (core.isascii() and core.isalpha() and (len(core) == 1 or (
                        core.isupper() and len(core) <= 3)))
                    or re.fullmatch(r"<0x[0-9A-F]{2}>", token)):
                mask[index] = True
        for special in (self.tokens.eos_token_id, self.tokens.pad_token_id):
            if special is not None:
                mask[special] = True
        return mask

    # -- running the body -----------------------------------------------------------------

    def _cache(self) -> SharedKvCache:
        """A KV cache no live generation uses, for the active adapter; it goes back to the
        pool when its stepper is dropped (one in serving, more where tests interleave)."""
        cache = (self._kv_pool.pop() if self._kv_pool
                 else SharedKvCache(self.session, self._past, self._kv_shape))
        cache.start(self._active)
        return cache

    def _release_caches(self) -> None:
        """Hand back the pages of the caches no generation uses (between documents: all)."""
        for cache in self._kv_pool:
            cache.release()

    def _stepper(self, candidates: np.ndarray | None = None) -> Stepper:
        cache = self._cache()
        rows = self._table[candidates].astype(np.float32) if candidates is not None else None

        def run(ids: list[int]) -> np.ndarray:
            if len(ids) == 1:  # as a row of two: see SINGLE_ROWS
                hidden = cache.run(self._embed_rows(ids * SINGLE_ROWS))
                cache.keep(cache.length - SINGLE_ROWS + 1)  # the copy's row is written over
                return hidden[:1]
            return cache.run(self._embed_rows(ids))

        def feed(ids: list[int], every: bool = True) -> np.ndarray:
            # The prompt's pass is the same in every decoding: only later passes must agree
            # with one pass a token (see KV_BLOCK), and an uncut prompt is faster.
            cuts = pass_cuts(cache.length, len(ids)) if cache.length else []
            edges = [0, *cuts, len(ids)]
            pieces = [run(ids[a:b]) for a, b in zip(edges, edges[1:], strict=False)]
            return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

        def score(hidden: np.ndarray, ids: np.ndarray | None) -> np.ndarray:
            if ids is None:
                return self.full_logits(hidden)
            weights = rows if ids is candidates else self._table[ids].astype(np.float32)
            return np.asarray(weights @ hidden)

        stepper = Stepper(feed, score, cache.keep)  # no reference cycle: dropped at once
        weakref.finalize(stepper, self._kv_pool.append, cache)
        return stepper

    def hidden_states(self, ids: list[int], adapter: str | None = None) -> np.ndarray:
        """Last-layer hidden states (after the final norm) for `ids`, [tokens, hidden]."""
        cache = SharedKvCache(self.session, self._past, self._kv_shape, capacity=len(ids))
        cache.start(self._lora_inputs[adapter])
        return cache.run(self._embed_rows(ids))

    def embed(self, text: str, max_tokens: int = 256) -> np.ndarray:
        """Mean of the last hidden layer over the text's first tokens: a document fingerprint.

        The router's small linear head reads this, so routing reuses the loaded base model.
        """
        ids = self.encode(text)[:max_tokens]
        return self.hidden_states(ids).mean(axis=0)
