"""Put positioned text fragments into reading order: rows top to bottom, left to right.

Both the PDF text layer and OCR hand back fragments, not lines: pdfium splits a line where
the font changes ("**Acme Inc.**, a Delaware corporation"), the OCR detector splits it at wide
spaces ("Paid by: VISA" | "**** 4821"). Fragments on the same row that nearly touch are
joined into one line; fragments far apart on a row (a receipt's label and its amount, two
signature columns) stay separate lines, next to each other, because joining those would
guess at a table structure that this stage does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.document import BBox, Line


@dataclass(frozen=True)
class Fragment:
    """A piece of text on a page, top-left origin coordinates."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float | None = None

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1e-6)

    @property
    def y_center(self) -> float:
        return (self.y0 + self.y1) / 2


def _same_row(row: list[Fragment], frag: Fragment) -> bool:
    """Overlapping vertically by at least half the smaller height (tolerates slight skew)."""
    ref = row[0]
    overlap = min(ref.y1, frag.y1) - max(ref.y0, frag.y0)
    return overlap >= 0.5 * min(ref.height, frag.height)


def _join(left: Fragment, right: Fragment, always_space: bool) -> str:
    if left.text.endswith(" ") or right.text.startswith(" "):
        return left.text + right.text
    gap = right.x0 - left.x1
    tight = gap < 0.25 * min(left.height, right.height)
    return left.text + ("" if tight and not always_space else " ") + right.text


def _merge(run: list[Fragment], always_space: bool) -> Line:
    text = run[0].text
    acc = run[0]
    for frag in run[1:]:
        text = _join(Fragment(text, acc.x0, acc.y0, acc.x1, acc.y1), frag, always_space)
        acc = Fragment(
            text,
            min(acc.x0, frag.x0),
            min(acc.y0, frag.y0),
            max(acc.x1, frag.x1),
            max(acc.y1, frag.y1),
        )
    confidences = [f.confidence for f in run if f.confidence is not None]
    return Line(
        text=" ".join(text.split()),
        bbox=BBox(x0=acc.x0, y0=acc.y0, x1=acc.x1, y1=acc.y1),
        confidence=min(confidences) if confidences else None,
    )


def to_lines(fragments: Iterable[Fragment], *, always_space: bool = False) -> list[Line]:
    """Group fragments into rows, then join near neighbours within a row into lines.

    `always_space`: join with a space even when boxes touch (OCR boxes are padded, so a
    touching pair still had a space between the words).
    """
    frags = sorted((f for f in fragments if f.text.strip()), key=lambda f: (f.y_center, f.x0))
    rows: list[list[Fragment]] = []
    for frag in frags:
        if rows and _same_row(rows[-1], frag):
            rows[-1].append(frag)
        else:
            rows.append([frag])

    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda f: f.x0)
        run = [row[0]]
        for frag in row[1:]:
            prev = run[-1]
            gap = frag.x0 - prev.x1
            if gap <= 1.0 * min(prev.height, frag.height):
                run.append(frag)
            else:
                lines.append(_merge(run, always_space))
                run = [frag]
        lines.append(_merge(run, always_space))
    return lines
