"""What the model reads of a long document: its opening plus the passages that matter.

A contract runs to many pages, but its parties and effective date sit in the opening
paragraph and its governing law and term in a few clauses further in. A blind cut at the
prompt budget loses those clauses; passages scored by the type's cues keep them within the
same budget (`docket eval`'s report measures how many labelled values the context contains,
selection vs truncation).

The context keeps the document's own lines (so provenance can find values in it) and its
order; skipped stretches are marked with a line of "[…]".
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.doctypes.base import Cues
from pipeline.document import Document

GAP = "[…]"

HEAD_SHARE = 0.4  # of the budget, always the opening (title, parties, date)
NEIGHBOURS = 1  # lines kept either side of a keyword line: clauses wrap


@dataclass(frozen=True)
class Context:
    text: str
    selected: bool  # False: the whole document fitted


def context_for(document: Document, cues: Cues, max_chars: int) -> Context:
    """The document's text if it fits in `max_chars`, else its opening and the passages its
    type's cues (`DocType.cues`) score best; a type without cues gets a cut."""
    text = document.text()
    if len(text) <= max_chars or not cues:
        return Context(text[:max_chars], False)
    lines = [line.text for page in document.pages for line in page.lines]
    return Context(select(lines, cues, max_chars), True)


def truncated(document: Document, max_chars: int) -> str:
    """The blind cut that selection replaces (kept for the measurement)."""
    return document.text(max_chars=max_chars)


def select(lines: list[str], keywords: Cues, max_chars: int) -> str:
    """Opening lines up to HEAD_SHARE of the budget, then the best-scoring windows of lines."""
    keep: set[int] = set()
    used = 0
    head_budget = int(max_chars * HEAD_SHARE)
    for i, line in enumerate(lines):
        if used + len(line) + 1 > head_budget:
            break
        keep.add(i)
        used += len(line) + 1
    scores = [sum(w for pattern, w in keywords if pattern.search(line)) for line in lines]
    ranked = sorted((i for i, s in enumerate(scores) if s > 0 and i not in keep),
                    key=lambda i: (-scores[i], i))
    for i in ranked:
        window = [j for j in range(i - NEIGHBOURS, i + NEIGHBOURS + 1)
                  if 0 <= j < len(lines) and j not in keep]
        cost = sum(len(lines[j]) + 1 for j in window) + len(GAP) + 1
        if used + cost > max_chars:
            continue
        keep.update(window)
        used += cost
    out: list[str] = []
    previous = -1
    for i in sorted(keep):
        if i != previous + 1:
            out.append(GAP)
        out.append(lines[i])
        previous = i
    return "\n".join(out)[:max_chars]
