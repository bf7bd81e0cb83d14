"""Where each extracted value came from, and how sure the model was of it.

- Confidence: the model's own probability for the tokens that wrote the value (after the
  grammar's mask), summarised as the lowest one: a value is as weak as its least certain token
  (one unsure digit makes a wrong total). The closing quote counts too: it is where the model
  decided the value was complete.
- Provenance: the value located in the converted document's text (exactly, then ignoring case,
  then ignoring white space and line breaks), mapped back to the lines it covers: page, one box
  per line, and the character span in `Document.text()`. Values the model normalised (an ISO
  date, a name without its comma) may have no span; they keep their confidence.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from pipeline.document import BBox, Document


class FieldEvidence(BaseModel):
    """One extracted value with its confidence and where it is in the document."""

    path: str = Field(description="path in the model's answer: 'total', 'items[0].amount'")
    value: str | None
    confidence: float = Field(ge=0, le=1, description="calibrated where the adapter has a "
                              "map for the field (extract.calibration), else raw")
    raw_confidence: float | None = Field(default=None, ge=0, le=1,
                                         description="the lowest token probability, uncalibrated")
    page: int | None = None
    bboxes: list[BBox] = Field(default_factory=list)
    char_start: int | None = None
    char_end: int | None = None


@dataclass(frozen=True)
class Span:
    path: str
    start: int  # in the answer's text, the value's first character (a quote for strings)
    end: int  # one past its last character
    value: Any


def value_spans(answer: str) -> list[Span]:
    """Every scalar value in a JSON answer with its character range in the text."""
    decoder = json.JSONDecoder()
    spans: list[Span] = []

    def skip(i: int) -> int:
        while i < len(answer) and answer[i] in " \t\r\n":
            i += 1
        return i

    def walk(i: int, path: str) -> int:
        i = skip(i)
        if answer[i] == "{":
            i = skip(i + 1)
            while answer[i] != "}":
                key, i = json.decoder.scanstring(answer, i + 1)  # type: ignore[attr-defined]
                i = skip(skip(i) + 1)  # past ':'
                i = skip(walk(i, f"{path}.{key}" if path else key))
                if answer[i] == ",":
                    i = skip(i + 1)
            return i + 1
        if answer[i] == "[":
            i = skip(i + 1)
            n = 0
            while answer[i] != "]":
                i = skip(walk(i, f"{path}[{n}]"))
                n += 1
                if answer[i] == ",":
                    i = skip(i + 1)
            return i + 1
        value, end = decoder.raw_decode(answer, i)
        spans.append(Span(path, i, end, value))
        return end

    with contextlib.suppress(IndexError, ValueError):  # a truncated answer: keep what was whole
        walk(0, "")
    return spans


def confidences(answer: str, token_texts: list[str], token_logprobs: list[float],
                spans: list[Span]) -> dict[str, float]:
    """Lowest token probability over the tokens that overlap each value's characters."""
    starts, offset = [], 0
    for text in token_texts:
        starts.append(offset)
        offset += len(text)
    out: dict[str, float] = {}
    for span in spans:
        probs = [math.exp(lp) for text, start, lp in zip(token_texts, starts, token_logprobs,
                                                          strict=False)
                 if start < span.end and start + len(text) > span.start]
        out[span.path] = round(min(probs), 4) if probs else 0.0
    return out


def locate(value: str, text: str, near: int | None = None) -> tuple[int, int] | None:
    """The value's character span in the text: exact, case-blind, then white-space-blind.

    Among several occurrences, whole words beat matches inside a longer token (a quantity "1"
    is not the 1 of a company number), and the one nearest `near` (where the value's siblings
    were found: the same receipt line) beats the first.
    """
    if not value.strip():
        return None
    words = [re.escape(w) for w in re.split(r"[\s,]+", value) if w]
    patterns = [(re.escape(value), 0), (re.escape(value), re.IGNORECASE)]
    if words:
        patterns.append((r"[\s,]*".join(words), re.IGNORECASE))
    for pattern, flags in patterns:
        found = [(m.start(), m.end()) for m in re.finditer(pattern, text, flags)]
        if found:
            whole = [span for span in found if _whole_word(text, *span)]
            best = whole or found
            if near is None:
                return best[0]
            return min(best, key=lambda span: abs(span[0] - near))
    return None


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and text[start].isalnum()) and not (
        after.isalnum() and text[end - 1].isalnum())


def evidence(document: Document, answer: str, token_texts: list[str],
             token_logprobs: list[float]) -> list[FieldEvidence]:
    """Confidence and provenance of every value in the model's answer (nulls included:
    a confident null is a claim too)."""
    spans = value_spans(answer)
    scores = confidences(answer, token_texts, token_logprobs, spans)
    text = document.text()
    lines = line_offsets(document)
    out = []
    anchors: dict[str, int] = {}  # list entry ('items[1]') → where its first value was found
    for span in spans:
        value = None if span.value is None else str(span.value)
        item = FieldEvidence(path=span.path, value=value, confidence=scores[span.path])
        entry = span.path.rpartition(".")[0] if "[" in span.path else ""
        where = place(item, text, lines, anchors.get(entry))
        if where is not None and entry:
            anchors.setdefault(entry, where[0])
        out.append(item)
    return out


def place(item: FieldEvidence, text: str, lines: list[tuple[int, int, int, BBox | None]],
          near: int | None = None) -> tuple[int, int] | None:
    """Fill in the item's span, page and boxes from where its value is in the text."""
    where = locate(item.value, text, near) if item.value else None
    if where is not None:
        covered = [(page, bbox) for start, end, page, bbox in lines
                   if start < where[1] and end > where[0]]
        item.char_start, item.char_end = where
        item.page = covered[0][0] if covered else None
        item.bboxes = [bbox for page, bbox in covered if bbox is not None and page == item.page]
    return where


def line_offsets(document: Document) -> list[tuple[int, int, int, BBox | None]]:
    """(start, end, page, box) of every line in `Document.text()`'s character positions."""
    out = []
    offset = 0
    for p, page in enumerate(document.pages):
        if p:
            offset += 2  # pages are joined by a blank line
        for n, line in enumerate(page.lines):
            if n:
                offset += 1
            out.append((offset, offset + len(line.text), page.number, line.bbox))
            offset += len(line.text)
    return out
