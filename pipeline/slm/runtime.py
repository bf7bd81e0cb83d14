"""Greedy, schema-constrained decoding on CPU with PyTorch (eager transformers).

One `Runtime` per process holds the base model; `generate_json` returns text that parses
against the given JSON schema because every step masks the tokens xgrammar says cannot
follow. Token log-probabilities (after masking) are kept: they are the confidence signal.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch

from pipeline.settings import Settings, get_settings
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
    token_texts: list[str] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)

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

    def __init__(self, prepared: PreparedModel, threads: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import xgrammar as xgr
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads or os.cpu_count() or 1)
        started = time.perf_counter()
        self.name = prepared.name
        self.model_sha256 = prepared.gguf_sha256
        self.tokenizer = AutoTokenizer.from_pretrained(str(prepared.path))
        self.model = AutoModelForCausalLM.from_pretrained(
            str(prepared.path), dtype=torch.float32
        ).eval()
        vocab_size = self.model.config.vocab_size
        eos = [self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else None
        self._token_info = xgr.TokenizerInfo.from_huggingface(
            self.tokenizer, vocab_size=vocab_size, stop_token_ids=eos
        )
        self._compiler = xgr.GrammarCompiler(self._token_info)
        self._xgr = xgr
        self.load_s = time.perf_counter() - started
        log.info("Loaded %s in %.1f s", self.name, self.load_s)

    @lru_cache(maxsize=64)  # noqa: B019 - one runtime per process; schemas are few
    def _grammar(self, schema_json: str) -> Any:
        return self._compiler.compile_json_schema(schema_json, any_whitespace=False)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @torch.inference_mode()
    def generate_json(
        self, prompt: str, schema: dict[str, Any], max_new_tokens: int
    ) -> Generation:
        xgr = self._xgr
        grammar = self._grammar(json.dumps(schema))  # key order is the output order
        matcher = xgr.GrammarMatcher(grammar)
        bitmask = xgr.allocate_token_bitmask(1, self._token_info.vocab_size)

        input_ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"]
        started = time.perf_counter()
        out = self.model(input_ids=input_ids, use_cache=True, logits_to_keep=1)
        prefill_s = time.perf_counter() - started

        ids: list[int] = []
        logprobs: list[float] = []
        past = out.past_key_values
        logits = out.logits[:, -1, :]
        finished = False
        started = time.perf_counter()
        while len(ids) < max_new_tokens:
            matcher.fill_next_token_bitmask(bitmask)
            logits = logits.float()
            xgr.apply_token_bitmask_inplace(logits, bitmask)
            token = int(torch.argmax(logits, dim=-1))
            logprobs.append(float(torch.log_softmax(logits, dim=-1)[0, token]))
            if not matcher.accept_token(token):
                raise RuntimeError(f"grammar rejected token {token}; this is a bug")
            if matcher.is_terminated():
                finished = True
                logprobs.pop()  # the stop token is not part of the output
                break
            ids.append(token)
            step = self.model(
                input_ids=torch.tensor([[token]]), past_key_values=past, use_cache=True
            )
            past = step.past_key_values
            logits = step.logits[:, -1, :]
        decode_s = time.perf_counter() - started
        return Generation(
            text=self.tokenizer.decode(ids, skip_special_tokens=True),
            prompt_tokens=int(input_ids.shape[1]),
            output_tokens=len(ids),
            prefill_s=prefill_s,
            decode_s=decode_s,
            finished=finished,
            token_texts=[self.tokenizer.decode([i]) for i in ids],
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
