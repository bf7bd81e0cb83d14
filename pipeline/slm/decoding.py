"""The schema-constrained greedy loop, shared by every runtime (ONNX Runtime, PyTorch).

A runtime supplies two callables: `forward(token_ids)` feeds tokens (the prompt first, then
one token a step) and returns its opaque state for the last position; `score(state, ids)`
turns that state into logits for the given token ids (None: the whole vocabulary). The loop
asks for logits of `candidates` only when it has them (the document's tokens plus the JSON and
schema tokens): that is where the ONNX runtime saves most of its work, since Gemma-3's
262k-row output layer is most of the model. When the grammar allows none of the candidates,
the step is scored over the whole vocabulary (counted in `Generation.full_vocab_steps`), so
the output always parses.

Near the end of the token budget (`Request.close_within` tokens left) the loop closes the
answer instead of letting the budget cut it: inside a string it prefers a closing quote,
elsewhere `]` / `}`, then `null` for values still to write. A long receipt then loses its
last list entries, never its JSON: the answer still parses and fits the schema, and
`Generation.closed_early` says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Forward = Callable[[list[int]], Any]
Score = Callable[[Any, "np.ndarray | None"], np.ndarray]


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
    full_vocab_steps: int = 0  # steps scored over the whole vocabulary (no candidate allowed)
    closed_early: bool = False  # the loop closed the JSON because the budget was running out

    @property
    def decode_tokens_per_s(self) -> float:
        return self.output_tokens / self.decode_s if self.decode_s > 0 else 0.0

    @property
    def mean_probability(self) -> float:
        if not self.token_logprobs:
            return 0.0
        return math.exp(sum(self.token_logprobs) / len(self.token_logprobs))


def grammar_allows(bitmask: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """xgrammar's packed int32 bitmask, read at `ids`: True where the token may come next."""
    return ((bitmask[ids >> 5] >> (ids & 31)) & 1).astype(bool)


@dataclass
class Request:
    prompt_ids: list[int]
    max_new_tokens: int
    vocab_size: int
    candidates: np.ndarray | None = None  # sorted token ids to score; None: all
    preferred: np.ndarray | None = None  # bool over the vocabulary: preferred inside strings
    repetition_penalty: float = 1.0
    closers: ClosingTokens | None = None  # how to close the JSON near the end of the budget
    close_within: int = 64  # tokens left when closing starts (keys still to write cost ~7 each)


@dataclass(frozen=True)
class ClosingTokens:
    """Token masks over the vocabulary, in the order closing prefers them (`prefer`)."""

    quote: np.ndarray  # ends a string: '"' alone or followed only by ] and }
    bracket: np.ndarray  # ends a list or object: only ] and } (and spaces)
    null: np.ndarray  # 'null': the shortest value
    empty_list: np.ndarray  # '[]', else '[' (then a bracket closes it): a list with no entries

    @classmethod
    def from_vocabulary(cls, texts: list[str]) -> ClosingTokens:
        def mask(test: Callable[[str], bool]) -> np.ndarray:
            return np.array([test(t.strip()) for t in texts], dtype=bool)

        return cls(
            quote=mask(lambda t: t.startswith('"') and set(t[1:]) <= set("]}")),
            bracket=mask(lambda t: bool(t) and set(t) <= set("]}")),
            null=mask(lambda t: t == "null"),
            empty_list=mask(lambda t: t in ("[]", "[")),
        )

    def prefer(self, pool: np.ndarray, allowed: np.ndarray, in_string: bool) -> np.ndarray | None:
        """Of the allowed tokens in `pool`, the closing ones to choose from; None: any."""
        order = (self.quote,) if in_string else (self.bracket, self.null, self.empty_list)
        for mask in order:
            closing = allowed & mask[pool]
            if closing.any():
                return closing
        return None


def greedy_json(request: Request, matcher: Any, bitmask: Any, forward: Forward, score: Score,
                decode: Callable[[list[int]], str]) -> Generation:
    """Greedy decoding under the grammar of `matcher`; see `Runtime.generate_json`."""
    started = time.perf_counter()
    state = forward(request.prompt_ids)
    prefill_s = time.perf_counter() - started
    mask_words = bitmask.numpy()[0]
    ids: list[int] = []
    texts: list[str] = []
    logprobs: list[float] = []
    in_string = escaped = False
    written: set[int] = set()  # tokens written inside earlier string values
    finished = False
    full_steps = 0
    closed_early = False
    vocab = np.arange(request.vocab_size, dtype=np.int64)
    started = time.perf_counter()
    while len(ids) < request.max_new_tokens:
        matcher.fill_next_token_bitmask(bitmask)
        pool = request.candidates if request.candidates is not None else vocab
        allowed = grammar_allows(mask_words, pool)
        if not allowed.any():  # the grammar needs a token outside the candidates
            pool, full_steps = vocab, full_steps + 1
            allowed = grammar_allows(mask_words, pool)
            logits = score(state, None).astype(np.float32, copy=True)
        else:
            logits = score(state, request.candidates).astype(np.float32, copy=True)
        logits[~allowed] = -np.inf
        closing = None
        if request.closers is not None and \
                request.max_new_tokens - len(ids) <= request.close_within:
            closing = request.closers.prefer(pool, allowed, in_string)
        if closing is None:
            if request.repetition_penalty != 1.0 and in_string and written:
                seen = np.isin(pool, np.fromiter(written, dtype=np.int64))
                values = logits[seen]
                logits[seen] = np.where(values > 0, values / request.repetition_penalty,
                                        values * request.repetition_penalty)
            if request.preferred is not None and in_string:
                preferred = np.where(request.preferred[pool], logits, -np.inf)
                if np.isfinite(preferred).any():
                    logits = preferred
            best = int(np.argmax(logits))
        else:  # the model's own probabilities stay the confidence; the pick is a closing one
            best = int(np.argmax(np.where(closing, logits, -np.inf)))
            closed_early = closed_early or best != int(np.argmax(logits))
        token = int(pool[best])
        top = float(logits[best])
        finite = logits[np.isfinite(logits)]
        peak = float(finite.max())
        logprobs.append(top - peak - float(np.log(np.exp(finite - peak).sum())))
        if not matcher.accept_token(token):
            raise RuntimeError(f"grammar rejected token {token}; this is a bug")
        if matcher.is_terminated():
            finished = True
            logprobs.pop()  # the stop token is not part of the output
            break
        ids.append(token)
        texts.append(decode([token]))
        if in_string and texts[-1].strip().isalpha():  # words, not digits or punctuation
            written.add(token)
        for char in texts[-1]:  # track whether the next token continues a JSON string
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = in_string
            elif char == '"':
                in_string = not in_string
        state = forward([token])
    decode_s = time.perf_counter() - started
    return Generation(
        text=decode(ids), prompt_tokens=len(request.prompt_ids), output_tokens=len(ids),
        prefill_s=prefill_s, decode_s=decode_s, finished=finished, token_ids=ids,
        token_texts=texts, token_logprobs=logprobs, full_vocab_steps=full_steps,
        closed_early=closed_early and finished,
    )
