"""What the model reads: the type's instruction and the document's text, and of a long
document only its opening plus the passages that matter.

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

from pipeline.doctypes.base import Cues, DocType
from pipeline.document import Document
from pipeline.settings import Settings

GAP = "[…]"

HEAD_SHARE = 0.4  # of the budget, always the opening (title, parties, date)
NEIGHBOURS = 1  # lines kept either side of a keyword line: clauses wrap
JOINED = 2  # a line is scored together with the next (phrases cross line breaks)


@dataclass(frozen=True)
class Context:
    text: str
    selected: bool  # False: the whole document fitted


def build_prompt(doctype: DocType, text: str) -> str:
    """Instruction, then the document. No worked example: measured on the samples, the base
    model copies an example's values into its answer (see the issue notes)."""
    return f"{doctype.instruction}\n\n{doctype.name.capitalize()}:\n{text}\n\nJSON: "


def prompt_for(document: Document, doctype: DocType, settings: Settings) -> tuple[str, str]:
    """The prompt and the document text in it: all of it if it fits the type's budget,
    else its opening and the passages that matter (`context_for`)."""
    budget = min(doctype.context_chars, settings.max_prompt_chars)
    if settings.select_passages:
        text = context_for(document, doctype.cues, budget, doctype.head_chars).text
    else:
        text = truncated(document, budget)
    return build_prompt(doctype, text), text


def context_for(document: Document, cues: Cues, max_chars: int,
                head_chars: int | None = None, following: int = 0) -> Context:
    """The document's text if it fits in `max_chars`, else its opening and the passages its
    type's cues (`DocType.cues`) score best; a type without cues gets a cut. `following`:
    lines kept after a cue line (a table under its heading), as many as fit."""
    text = document.text()
    if len(text) <= max_chars or not cues:
        return Context(text[:max_chars], False)
    lines = [line.text for page in document.pages for line in page.lines]
    return Context(select(lines, cues, max_chars, head_chars, following), True)


def truncated(document: Document, max_chars: int) -> str:
    """The blind cut that selection replaces (kept for the measurement)."""
    return document.text(max_chars=max_chars)


def select(lines: list[str], keywords: Cues, max_chars: int,
           head_chars: int | None = None, following: int = 0) -> str:
    """The opening lines (`head_chars`, else HEAD_SHARE of the budget), then for each cue in
    turn its best line, then the best-scoring lines left, each with its neighbours.

    A line is scored with the line after it (JOINED), so a phrase a line break cuts ("may
    terminate this Agreement / for convenience") still matches; and every cue gets its own
    passage before any cue gets a second, so six clause cues all reach the context even
    when one of them (liability) matches dozens of lines.

    With `following`, a cue line keeps up to that many lines after it, as many as fit: a
    heading's table, whose cells a PDF's text layer gives one a line.
    """
    keep: set[int] = set()
    used = 0
    head_budget = int(max_chars * HEAD_SHARE) if head_chars is None else head_chars
    for i, line in enumerate(lines):
        if used + len(line) + 1 > head_budget:
            break
        keep.add(i)
        used += len(line) + 1
    views = [" ".join(lines[i:i + JOINED]) for i in range(len(lines))]
    hits = [[pattern.search(view) is not None for pattern, _ in keywords] for view in views]
    scores = [sum(w for (_, w), hit in zip(keywords, row, strict=True) if hit) for row in hits]

    def take(i: int) -> None:
        nonlocal used
        if following:  # a heading: its line before, itself, then its lines while they fit
            for j in range(max(i - NEIGHBOURS, 0), min(i + 1 + following, len(lines))):
                if j in keep:
                    continue
                cost = len(lines[j]) + 1 + (len(GAP) + 1 if j - 1 not in keep else 0)
                if used + cost > max_chars:
                    break
                keep.add(j)
                used += cost
            return
        window = [j for j in range(i - NEIGHBOURS, i + NEIGHBOURS + JOINED)
                  if 0 <= j < len(lines) and j not in keep]
        cost = sum(len(lines[j]) + 1 for j in window) + len(GAP) + 1
        if used + cost <= max_chars:
            keep.update(window)
            used += cost

    for k in range(len(keywords)):
        matching = [i for i, row in enumerate(hits) if row[k] and i not in keep]
        if matching:
            take(max(matching, key=lambda i: (scores[i], -i)))
    for i in sorted((i for i, s in enumerate(scores) if s > 0 and i not in keep),
                    key=lambda i: (-scores[i], i)):
        take(i)
    out: list[str] = []
    previous = -1
    for i in sorted(keep):
        if i != previous + 1:
            out.append(GAP)
        out.append(lines[i])
        previous = i
    return "\n".join(out)[:max_chars]
