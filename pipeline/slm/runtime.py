"""Greedy, schema-constrained decoding on CPU with PyTorch (eager transformers).

One `Runtime` per process holds the base model and every LoRA adapter trained on its weights
(`adapters/<name>/`, loaded side by side with PEFT); `generate_json(..., adapter=name)`
activates one for that call (a flag flip: the base weights are neither reloaded nor copied),
`adapter=None` runs the plain base model. The returned text parses against the given JSON
schema because every step masks the tokens xgrammar says cannot follow. Token
log-probabilities (after masking) are kept: they are the confidence signal.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from pipeline.settings import Settings, get_settings
from pipeline.slm import adapters as adapter_store
from pipeline.slm.models import PreparedModel, prepare

log = logging.getLogger(__name__)


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    prefill_s: float
    decode_s: float
    finished: bool  # False when the token budget ran out before the JSON was complete
    token_ids: list[int] = field(default_factory=list)
    token_texts: list[str] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)
    adapter: str | None = None

    @property
    def decode_tokens_per_s(self) -> float:
        return self.output_tokens / self.decode_s if self.decode_s > 0 else 0.0

    @property
    def mean_probability(self) -> float:
        if not self.token_logprobs:
            return 0.0
        return math.exp(sum(self.token_logprobs) / len(self.token_logprobs))


class Runtime:
    """The base model, its tokenizer and a grammar compiler, loaded once per process."""

    def __init__(self, prepared: PreparedModel, threads: int = 0,
                 adapters_dir: Path = adapter_store.ADAPTERS_DIR) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import xgrammar as xgr
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads or os.cpu_count() or 1)
        started = time.perf_counter()
        self.name = prepared.name
        self.model_sha256 = prepared.gguf_sha256
        self.tokenizer = AutoTokenizer.from_pretrained(str(prepared.path))
        self.base = AutoModelForCausalLM.from_pretrained(
            str(prepared.path), dtype=torch.float32
        ).eval()
        self.model: Any = self.base
        self.adapters = {a.name: a for a in adapter_store.for_model(self.model_sha256,
                                                                    adapters_dir)}
        for n, adapter in enumerate(self.adapters.values()):
            from peft import PeftModel

            if n == 0:
                self.model = PeftModel.from_pretrained(self.base, str(adapter.path),
                                                       adapter_name=adapter.name).eval()
            else:
                self.model.load_adapter(str(adapter.path), adapter_name=adapter.name)
        vocab_size = self.base.config.vocab_size
        eos = [self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else None
        self._token_info = xgr.TokenizerInfo.from_huggingface(
            self.tokenizer, vocab_size=vocab_size, stop_token_ids=eos
        )
        self._compiler = xgr.GrammarCompiler(self._token_info)
        self._xgr = xgr
        self.load_s = time.perf_counter() - started
        log.info("Loaded %s in %.1f s", self.name, self.load_s)

    @contextmanager
    def using(self, adapter: str | None) -> Iterator[None]:
        """Run the enclosed calls with this adapter active (None: the plain base model)."""
        if not self.adapters:
            if adapter is not None:
                raise ValueError(f"No adapter '{adapter}' is loaded for {self.name}")
            yield
        elif adapter is None:
            with self.model.disable_adapter():
                yield
        else:
            if adapter not in self.adapters:
                raise ValueError(f"No adapter '{adapter}' is loaded for {self.name}; loaded: "
                                 f"{', '.join(self.adapters)}")
            self.model.set_adapter(adapter)
            yield

    @lru_cache(maxsize=64)  # noqa: B019 - one runtime per process; schemas are few
    def _grammar(self, schema_json: str) -> Any:
        return self._compiler.compile_json_schema(schema_json, any_whitespace=False)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def vocabulary_mask(self, texts: list[str]) -> torch.Tensor:
        """Tokens that spell the given texts, word by word, with and without a leading space.

        Passed to `generate_json` as `allowed`, it makes the model copy from the document
        instead of inventing (or repeating an example): values are spelled with its tokens.
        """
        words = {w for text in texts for w in text.split()}
        pieces = [*texts, *words, *(" " + w for w in words)]
        mask = self._quote_tokens().clone()  # a string must always be able to end
        for ids in self.tokenizer(pieces, add_special_tokens=False)["input_ids"]:
            mask[ids] = True
        return mask

    @lru_cache(maxsize=1)  # noqa: B019 - one runtime per process
    def _quote_tokens(self) -> torch.Tensor:
        """Every token containing a double quote: the ones that can close a JSON string."""
        mask = torch.zeros(self.base.config.vocab_size, dtype=torch.bool)
        for token, index in self.tokenizer.get_vocab().items():
            if '"' in token and index < len(mask):
                mask[index] = True
        return mask

    @torch.inference_mode()
    def embed(self, text: str, max_tokens: int = 256) -> torch.Tensor:
        """Mean of the last hidden layer over the text's first tokens: a document fingerprint.

        The router's small linear head reads this, so routing reuses the loaded base model.
        """
        input_ids = self.tokenizer(
            text, return_tensors="pt", truncation=True, max_length=max_tokens
        )["input_ids"]
        with self.using(None):
            out = self.base.model(input_ids=input_ids)
        return out.last_hidden_state[0].float().mean(dim=0)

    @torch.inference_mode()
    def generate_json(
        self,
        prompt: str,
        schema: dict[str, Any],
        max_new_tokens: int,
        allowed: torch.Tensor | None = None,
        repetition_penalty: float = 1.0,
        adapter: str | None = None,
    ) -> Generation:
        """Greedy decoding that always parses against `schema`.

        `allowed` (a vocabulary mask) is preferred inside string values only, and never imposed:
        where the grammar needs a token outside it, the grammar wins, so the output still parses.
        `repetition_penalty` (> 1) discourages, inside string values, words already written in
        earlier values (digits are exempt: amounts legitimately repeat): a small model otherwise
        fills a list by repeating its first element. `adapter` names the LoRA adapter to use.
        """
        with self.using(adapter):
            generation = self._generate(prompt, schema, max_new_tokens, allowed,
                                        repetition_penalty)
        generation.adapter = adapter
        return generation

    def _generate(self, prompt: str, schema: dict[str, Any], max_new_tokens: int,
                  allowed: torch.Tensor | None, repetition_penalty: float) -> Generation:
        xgr = self._xgr
        grammar = self._grammar(json.dumps(schema))  # key order is the output order
        matcher = xgr.GrammarMatcher(grammar)
        bitmask = xgr.allocate_token_bitmask(1, self._token_info.vocab_size)

        input_ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"]
        started = time.perf_counter()
        out = self.model(input_ids=input_ids, use_cache=True, logits_to_keep=1)
        prefill_s = time.perf_counter() - started

        ids: list[int] = []
        texts: list[str] = []
        logprobs: list[float] = []
        in_string = escaped = False
        written: set[int] = set()  # tokens written inside earlier string values
        past = out.past_key_values
        logits = out.logits[:, -1, :]
        finished = False
        started = time.perf_counter()
        while len(ids) < max_new_tokens:
            matcher.fill_next_token_bitmask(bitmask)
            logits = logits.float()
            xgr.apply_token_bitmask_inplace(logits, bitmask)
            if repetition_penalty != 1.0 and in_string and written:
                seen = torch.tensor(sorted(written))
                values = logits[0, seen]
                logits[0, seen] = torch.where(
                    values > 0, values / repetition_penalty, values * repetition_penalty
                )
            if allowed is not None and in_string:
                preferred = logits.masked_fill(~allowed, float("-inf"))
                if torch.isfinite(preferred).any():
                    logits = preferred
            token = int(torch.argmax(logits, dim=-1))
            logprobs.append(float(torch.log_softmax(logits, dim=-1)[0, token]))
            if not matcher.accept_token(token):
                raise RuntimeError(f"grammar rejected token {token}; this is a bug")
            if matcher.is_terminated():
                finished = True
                logprobs.pop()  # the stop token is not part of the output
                break
            ids.append(token)
            texts.append(str(self.tokenizer.decode([token])))
            if in_string and texts[-1].strip().isalpha():  # words, not digits or punctuation
                written.add(token)
            for char in texts[-1]:  # track whether the next token continues a JSON string
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = in_string
                elif char == '"':
                    in_string = not in_string
            step = self.model(
                input_ids=torch.tensor([[token]]), past_key_values=past, use_cache=True
            )
            past = step.past_key_values
            logits = step.logits[:, -1, :]
        decode_s = time.perf_counter() - started
        return Generation(
            text=str(self.tokenizer.decode(ids, skip_special_tokens=True)),
            prompt_tokens=int(input_ids.shape[1]),
            output_tokens=len(ids),
            prefill_s=prefill_s,
            decode_s=decode_s,
            finished=finished,
            token_ids=ids,
            token_texts=texts,
            token_logprobs=logprobs,
        )


_RUNTIME: Runtime | None = None


def get_runtime(settings: Settings | None = None) -> Runtime:
    """The process's runtime, loaded on first use (the worker loads it at process start)."""
    global _RUNTIME
    settings = settings or get_settings()
    if _RUNTIME is None or _RUNTIME.name != settings.model:
        prepared = prepare(settings.model, settings.model_cache_dir)
        _RUNTIME = Runtime(prepared, threads=settings.model_threads)
    return _RUNTIME
