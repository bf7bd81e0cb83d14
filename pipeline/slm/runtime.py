"""The SLM runtime's base: what the pipeline sees, whichever engine runs the model.

`Runtime` holds the tokenizer, the grammar compiler and the decoding loop: `generate_json`
(greedy, schema-constrained, in `decoding`), `vocabulary_mask`, `embed` (the
router's fingerprint) and `using(adapter)`. One module per engine implements the forward pass:
- `onnx_runtime.OnnxRuntime` (the default): int8 ONNX Runtime body, candidate-only logits,
  adapters bound per run;
- `torch_runtime.TorchRuntime`: eager transformers fp32 with PEFT, the training path and the
  reference the ONNX outputs are compared with (`DOCKET_RUNTIME=torch`).
`factory.get_runtime` picks one and imports only that engine. Adapters for the loaded base
weights (`adapters/<name>/`) are loaded side by side; activating one is a flag flip: the base
weights are neither reloaded nor copied. Token log-probabilities (after masking) are kept:
they are the confidence signal. Serving imports neither torch nor transformers' tokenizer
classes (`grammar`, `tokens`): they cost a worker ~370 MB it does not use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

from pipeline.slm import adapters as adapter_store
from pipeline.slm import grammar
from pipeline.slm.decoding import (
    ClosingTokens,
    Generation,
    Request,
    Stepper,
    greedy_json,
    speculative_json,
)
from pipeline.slm.models import PreparedModel
from pipeline.slm.tokens import Tokens

__all__ = ["Generation", "Runtime"]


class Runtime:
    """What every runtime shares: tokenizer, grammars, vocabularies and the decoding loop."""

    name: str
    model_sha256: str
    adapters: dict[str, adapter_store.Adapter]
    load_s: float
    kind: str
    speculative: bool = True  # `decoding.speculative_json` (False: one model pass a token)

    def _init_text(self, prepared: PreparedModel, vocab_size: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.name = prepared.name
        self.model_sha256 = prepared.gguf_sha256
        self.vocab_size = vocab_size
        self.tokens = Tokens.load(prepared.path)
        self._compiler = grammar.GrammarCompiler(self.tokens.grammar_info(vocab_size))

    @lru_cache(maxsize=64)  # noqa: B019 - one runtime per process; schemas are few
    def _grammar(self, schema_json: str) -> Any:
        return self._compiler.compile_json_schema(schema_json, any_whitespace=False)

    def vocabulary_mask(self, texts: list[str]) -> np.ndarray:
        """Tokens that spell the given texts, word by word, with and without a leading space.

        Passed to `generate_json` as `allowed`, it makes the model copy from the document
        instead of inventing (or repeating an example): values are spelled with its tokens.
        """
        words = {w for text in texts for w in text.split()}
        pieces = [*texts, *words, *(" " + w for w in words)]
        mask = self._quote_tokens().copy()  # a string must always be able to end
        for ids in self.tokens.encode_many(pieces):
            mask[ids] = True
        return mask

    @lru_cache(maxsize=1)  # noqa: B019 - one runtime per process
    def _quote_tokens(self) -> np.ndarray:
        """Every token containing a double quote: the ones that can close a JSON string."""
        mask = np.zeros(self.vocab_size, dtype=bool)
        for token, index in self.tokens.get_vocab().items():
            if '"' in token and index < len(mask):
                mask[index] = True
        return mask

    @lru_cache(maxsize=1)  # noqa: B019 - one runtime per process
    def _closing_tokens(self) -> ClosingTokens:
        """The tokens that close a JSON answer near the end of its budget (`decoding`)."""
        texts = [""] * self.vocab_size
        for token, index in self.tokens.get_vocab().items():
            if index < self.vocab_size:
                texts[index] = token.replace("\u2581", " ")  # SentencePiece's space
        return ClosingTokens.from_vocabulary(texts)

    def _decode(self, ids: list[int]) -> str:
        return self.tokens.decode(ids)

    def _encode(self, text: str) -> list[int]:
        return self.tokens.encode(text, special=False)

    def encode(self, text: str) -> list[int]:
        """A prompt's token ids, as generation feeds them (Gemma: `<bos>` first)."""
        return self.tokens.encode(text)

    def generate_json(
        self,
        prompt: str,
        schema: dict[str, Any],
        max_new_tokens: int,
        allowed: np.ndarray | None = None,
        repetition_penalty: float = 1.0,
        adapter: str | None = None,
        source_text: str | None = None,
    ) -> Generation:
        """Greedy decoding that always parses against `schema`.

        `allowed` (a vocabulary mask) is preferred inside string values only, and never imposed:
        where the grammar needs a token outside it, the grammar wins, so the output still parses.
        `repetition_penalty` (> 1) discourages, inside string values, words already written in
        earlier values (digits are exempt: amounts legitimately repeat): a small model otherwise
        fills a list by repeating its first element. `adapter` names the LoRA adapter to use.
        `source_text` (the document the values are copied from) lets a runtime score only the
        tokens that can spell them (plus JSON and the schema's words) at each step.
        """
        schema_json = json.dumps(schema)  # key order is the output order
        matcher = grammar.Matcher(self._grammar(schema_json))
        bitmask = grammar.allocate_bitmask(self.vocab_size)
        request = Request(
            prompt_ids=self.encode(prompt),
            max_new_tokens=max_new_tokens,
            vocab_size=self.vocab_size,
            candidates=self._candidates(source_text, schema_json),
            preferred=allowed,
            repetition_penalty=repetition_penalty,
            closers=self._closing_tokens(),
        )
        with self.using(adapter):
            stepper = self._stepper(request.candidates)
            if self.speculative:
                generation = speculative_json(request, matcher, bitmask, stepper, self._decode,
                                              self._encode)
            else:
                generation = greedy_json(request, matcher, bitmask, stepper, self._decode)
        generation.adapter = adapter
        return generation

    def _candidates(self, source_text: str | None, schema_json: str) -> np.ndarray | None:
        """Token ids worth scoring; None: the whole vocabulary (this runtime gains nothing)."""
        return None

    def _stepper(self, candidates: np.ndarray | None = None) -> Stepper:
        """A fresh model view for one generation (scoring `candidates` when given is what it
        is prepared for); see `decoding`."""
        raise NotImplementedError

    @contextmanager
    def using(self, adapter: str | None) -> Iterator[None]:
        raise NotImplementedError
        yield

    def load_adapter(self, adapter: adapter_store.Adapter) -> None:
        """Hold `adapter` under its name from now on, in place of what was there (a new
        version of it): the next `using(adapter.name)` runs it. The base stays loaded."""
        raise NotImplementedError

    def embed(self, text: str, max_tokens: int = 256) -> np.ndarray:
        raise NotImplementedError
