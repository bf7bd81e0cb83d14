"""The schema-constrained greedy loops, shared by every runtime (ONNX Runtime, PyTorch):
`greedy_json` (one model pass a token, the reference) and `speculative_json` (dictated and
copied tokens checked several at a pass; the same output, token for token).

A runtime supplies a `Stepper`: `feed(token_ids)` feeds tokens (the prompt first, then the
tokens written) and returns an opaque state for each fed position; `score(state, ids)`
turns a state into logits for the given token ids (None: the whole vocabulary); `keep(n)`
drops the cache after its first n tokens (a refused draft's). The loop
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
    model_passes: int = 0  # forward passes after the prompt's (plain greedy: one a token)
    forced_tokens: int = 0  # tokens the grammar dictated, written without a choice
    drafted_tokens: int = 0  # tokens copied from the document as a draft
    accepted_drafts: int = 0  # of those, the ones greedy decoding would have written

    @property
    def decode_tokens_per_s(self) -> float:
        return self.output_tokens / self.decode_s if self.decode_s > 0 else 0.0

    @property
    def passes_per_token(self) -> float:
        return self.model_passes / self.output_tokens if self.output_tokens else 0.0

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


@dataclass
class Stepper:
    """One generation's view of the model (a runtime's `_stepper`)."""

    # feeds tokens; a state per fed token, [len(ids), ...] (every: False, the last one's at least)
    feed: Callable[[list[int], bool], Any]
    score: Score  # (state, ids) → logits for ids (None: the whole vocabulary)
    keep: Callable[[int], None]  # keeps the cache's first n tokens (a refused draft's go)

    def forward(self, ids: list[int]) -> Any:
        """The state after the last of `ids`."""
        return self.feed(ids, False)[-1]


class _Writer:
    """The answer as it is written: the grammar's state, the tokens chosen so far and what
    they tell the next choice (inside a string or not, words already written). Plain and
    speculative decoding share it, so both choose each token by the same rule."""

    def __init__(self, request: Request, matcher: Any, bitmask: Any, score: Score,
                 decode: Callable[[list[int]], str]) -> None:
        self.request, self.matcher, self.bitmask, self.score = request, matcher, bitmask, score
        self.decode = decode
        self.mask_words = np.asarray(bitmask)[0]
        self.vocab = np.arange(request.vocab_size, dtype=np.int64)
        self.ids: list[int] = []
        self.texts: list[str] = []
        self.logprobs: list[float] = []
        self.in_string = self.escaped = False
        self.written: set[int] = set()  # tokens written inside earlier string values
        self.finished = self.closed_early = False
        self.full_steps = 0
        self._filled = False  # the bitmask holds the grammar's view at the current position

    def _fill(self) -> None:
        if not self._filled:
            self.matcher.fill_next_token_bitmask(self.bitmask)
            self._filled = True

    def forced(self) -> int | None:
        """The one token the grammar allows next (a key, `": "`, a bracket), if only one."""
        self._fill()
        words = self.mask_words
        if int(np.bitwise_count(words.view(np.uint32)).sum()) != 1:
            return None
        word = int(np.flatnonzero(words)[0])
        return word * 32 + int(words.view(np.uint32)[word]).bit_length() - 1

    def choose(self, state: Any) -> tuple[int, float]:
        """The greedy token at this position from the model's state, and its log-probability
        among the tokens the grammar allows."""
        request = self.request
        self._fill()
        pool = request.candidates if request.candidates is not None else self.vocab
        allowed = grammar_allows(self.mask_words, pool)
        if not allowed.any():  # the grammar needs a token outside the candidates
            pool, self.full_steps = self.vocab, self.full_steps + 1
            allowed = grammar_allows(self.mask_words, pool)
            logits = self.score(state, None).astype(np.float32, copy=True)
        else:
            logits = self.score(state, request.candidates).astype(np.float32, copy=True)
        logits[~allowed] = -np.inf
        closing = None
        if request.closers is not None and self.room() <= request.close_within:
            closing = request.closers.prefer(pool, allowed, self.in_string)
        if closing is None:
            if request.repetition_penalty != 1.0 and self.in_string and self.written:
                seen = np.isin(pool, np.fromiter(self.written, dtype=np.int64))
                values = logits[seen]
                logits[seen] = np.where(values > 0, values / request.repetition_penalty,
                                        values * request.repetition_penalty)
            if request.preferred is not None and self.in_string:
                preferred = np.where(request.preferred[pool], logits, -np.inf)
                if np.isfinite(preferred).any():
                    logits = preferred
            best = int(np.argmax(logits))
        else:  # the model's own probabilities stay the confidence; the pick is a closing one
            best = int(np.argmax(np.where(closing, logits, -np.inf)))
            self.closed_early = self.closed_early or best != int(np.argmax(logits))
        top = float(logits[best])
        finite = logits[np.isfinite(logits)]
        peak = float(finite.max())
        return int(pool[best]), top - peak - float(np.log(np.exp(finite - peak).sum()))

    def accept(self, token: int, logprob: float) -> bool:
        """Write the token; True when it ends the answer (the stop token, not written)."""
        self._filled = False
        if not self.matcher.accept_token(token):
            raise RuntimeError(f"grammar rejected token {token}; this is a bug")
        if self.matcher.is_terminated():
            self.finished = True
            return True
        self.ids.append(token)
        self.logprobs.append(logprob)
        self.texts.append(self.decode([token]))
        text = self.texts[-1]
        if self.in_string and text.strip().isalpha():  # words, not digits or punctuation
            self.written.add(token)
        for char in text:  # track whether the next token continues a JSON string
            if self.escaped:
                self.escaped = False
            elif char == "\\":
                self.escaped = self.in_string
            elif char == '"':
                self.in_string = not self.in_string
        return False

    def attempt(self, token: int) -> bool:
        """Advance the grammar by a proposed token, not written (`retract` takes it back);
        False where the grammar refuses it or it would end the answer."""
        self._filled = False
        if not self.matcher.accept_token(token):
            return False
        if self.matcher.is_terminated():
            self.matcher.rollback(1)
            return False
        return True

    def retract(self, tokens: int) -> None:
        """Take the last `tokens` attempted tokens back from the grammar."""
        self.matcher.rollback(tokens)
        self._filled = False

    def room(self) -> int:
        return self.request.max_new_tokens - len(self.ids)

    def generation(self, prefill_s: float, decode_s: float, passes: int,
                   forced_tokens: int = 0, drafted_tokens: int = 0,
                   accepted_drafts: int = 0) -> Generation:
        return Generation(
            text=self.decode(self.ids), prompt_tokens=len(self.request.prompt_ids),
            output_tokens=len(self.ids), prefill_s=prefill_s, decode_s=decode_s,
            finished=self.finished, token_ids=self.ids, token_texts=self.texts,
            token_logprobs=self.logprobs, full_vocab_steps=self.full_steps,
            closed_early=self.closed_early and self.finished, model_passes=passes,
            forced_tokens=forced_tokens, drafted_tokens=drafted_tokens,
            accepted_drafts=accepted_drafts,
        )


def greedy_json(request: Request, matcher: Any, bitmask: Any, stepper: Stepper,
                decode: Callable[[list[int]], str]) -> Generation:
    """Greedy decoding under the grammar of `matcher`, one model pass per token; see
    `Runtime.generate_json`. The reference `speculative_json` must equal."""
    started = time.perf_counter()
    state = stepper.forward(request.prompt_ids)
    prefill_s = time.perf_counter() - started
    writer = _Writer(request, matcher, bitmask, stepper.score, decode)
    passes = 0
    started = time.perf_counter()
    while writer.room() > 0:
        token, logprob = writer.choose(state)
        if writer.accept(token, logprob):
            break
        state = stepper.forward([token])
        passes += 1
    return writer.generation(prefill_s, time.perf_counter() - started, passes)


class Drafter:
    """Where the next tokens probably come from. Inside a value: prompt lookup, the tokens
    that follow, in the prompt, the longest n-gram (up to `longest` tokens) just written;
    values are copied from the document, so that is what greedy decoding usually writes
    next. Between values: the text the grammar dictates (a key and its `": "`), as the
    tokenizer spells it."""

    def __init__(self, prompt_ids: list[int], encode: Callable[[str], list[int]],
                 longest: int = 3) -> None:
        self.prompt_ids = prompt_ids
        self.encode = encode
        self.longest = longest
        self.after: dict[tuple[int, ...], int] = {}  # n-gram → where its last occurrence ends
        for n in range(1, longest + 1):
            for end in range(n, len(prompt_ids)):
                self.after[tuple(prompt_ids[end - n:end])] = end

    def copy(self, written: list[int], k: int) -> list[int]:
        for n in range(min(self.longest, len(written)), 0, -1):
            end = self.after.get(tuple(written[-n:]))
            if end is not None:
                return self.prompt_ids[end:end + k]
        return []

    def dictated(self, matcher: Any) -> list[int]:
        text = matcher.find_jump_forward_string()
        return self.encode(text) if text else []


FORCED, JUMP, COPY = "forced", "jump", "copy"  # how a proposed token was found


def speculative_json(request: Request, matcher: Any, bitmask: Any, stepper: Stepper,
                     decode: Callable[[list[int]], str], encode: Callable[[str], list[int]],
                     max_copy: int = 16) -> Generation:
    """`greedy_json`'s output in fewer model passes.

    After each chosen token, a proposal follows it: the token the grammar allows alone
    (FORCED), the grammar's dictated text between values as the tokenizer spells it (JUMP),
    and inside values a draft copied from where the text just written occurs in the prompt
    (COPY), each proposed token kept only while the grammar allows it. The chosen token and
    the proposal go through the model in one pass; then each proposed position is checked
    with the very rule greedy decoding uses (`_Writer.choose`, on that position's state): a
    FORCED token needs no check (greedy's only choice, log-probability 0), the others stay
    while they are greedy's pick. At the first disagreement greedy's pick is written instead
    and the cache drops the refused tail. The copy length adapts: it grows while copies are
    kept, and shrinks to what was kept.
    """
    started = time.perf_counter()
    state = stepper.forward(request.prompt_ids)
    prefill_s = time.perf_counter() - started
    writer = _Writer(request, matcher, bitmask, stepper.score, decode)
    drafter = Drafter(request.prompt_ids, encode)
    cached = len(request.prompt_ids)
    passes = 0
    kept_by: dict[str, int] = {FORCED: 0, JUMP: 0, COPY: 0}
    copied = 0
    k = 4
    started = time.perf_counter()
    token, logprob = writer.choose(state)
    done = writer.accept(token, logprob)
    while not done and writer.room() > 0:
        proposal, kinds = _propose(writer, drafter, k, max_copy)
        states = stepper.feed([token, *proposal], True)
        passes += 1
        cached += 1 + len(proposal)
        writer.retract(len(proposal))  # the proposal was only tried on the grammar
        kept = 0
        picked: tuple[int, float] | None = None  # greedy's pick where it refused the proposal
        for j, (proposed, kind) in enumerate(zip(proposal, kinds, strict=True)):
            logprob = 0.0
            if kind != FORCED:
                best, logprob = writer.choose(states[j])
                if best != proposed:
                    picked = (best, logprob)
                    break
            writer.accept(proposed, logprob)
            kept_by[kind] += 1
            kept += 1
        copies = kinds.count(COPY)
        kept_copies = kinds[:kept].count(COPY)
        copied += copies
        if picked is not None:  # the cache drops the refused tail; greedy's pick comes next
            cached -= len(proposal) - kept
            stepper.keep(cached)
            if copies:
                k = max(1, kept_copies + 1)
        else:
            if copies:
                k = min(max_copy, k + 2)
            if writer.room() <= 0:
                break
            picked = writer.choose(states[len(proposal)])
        token, logprob = picked
        done = writer.accept(token, logprob)
    return writer.generation(prefill_s, time.perf_counter() - started, passes,
                             forced_tokens=kept_by[FORCED] + kept_by[JUMP],
                             drafted_tokens=copied, accepted_drafts=kept_by[COPY])


def _propose(writer: _Writer, drafter: Drafter, k: int, max_copy: int,
             ) -> tuple[list[int], list[str]]:
    """The tokens to try after the last written one, and how each was found; each is
    attempted on the grammar (the caller retracts the proposal)."""
    proposal: list[int] = []
    kinds: list[str] = []
    run: list[int] = []
    run_kind = COPY
    copies = 0
    room = writer.room()
    while len(proposal) < min(room, 2 * max_copy):
        only = writer.forced()
        if only is not None:  # the stop token alone: `attempt` refuses it
            token, kind = only, FORCED
            run = []
        else:
            if not run:
                run, run_kind = drafter.dictated(writer.matcher), JUMP
                if not run:
                    if copies >= k:
                        break
                    run, run_kind = drafter.copy(writer.ids + proposal, k - copies), COPY
            if not run or not grammar_allows(writer.mask_words, np.array(run[:1]))[0]:
                break
            token, kind = run.pop(0), run_kind
            copies += kind == COPY
        if not writer.attempt(token):
            break
        proposal.append(token)
        kinds.append(kind)
    return proposal, kinds
