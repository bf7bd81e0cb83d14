"""Labelled documents → (prompt, target JSON) pairs, with the loss kept to what is labelled.

The target is the draft JSON exactly as constrained decoding writes it (xgrammar's compact
form is `json.dumps`'s: ", " and ": "), built from pieces that say whether the model should
learn them. A dataset that does not label a field (SROIE has no items, Kleister no titles)
writes null there, but those tokens carry no loss: the adapter learns each field only from
sources that know it, and keeps the base model's behaviour elsewhere.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pipeline.doctypes import DocType
from pipeline.document import Document
from pipeline.extract.focus import focus_context, focus_prompt, get, put


@dataclass(frozen=True)
class Piece:
    text: str
    scored: bool


@dataclass(frozen=True)
class Target:
    key: str
    prompt: str
    pieces: list[Piece]
    unscored: frozenset[str] = frozenset()  # field paths whose values teach nothing here
    focus: str | None = None  # the focused field's path this target teaches; None: main pass

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)


def render(value: Any, unscored: set[str], path: str = "") -> list[Piece]:
    """`json.dumps(value)` as pieces; values at an `unscored` path (list indices dropped:
    "parties.role") are pieces without loss. Keys, brackets and separators are always scored."""
    if path in unscored:
        return [Piece(json.dumps(value, ensure_ascii=False), False)]
    if isinstance(value, dict):
        pieces = [Piece("{", True)]
        for n, (key, item) in enumerate(value.items()):
            pieces.append(Piece((", " if n else "") + json.dumps(key) + ": ", True))
            pieces += render(item, unscored, f"{path}.{key}" if path else key)
        return [*pieces, Piece("}", True)]
    if isinstance(value, list):
        pieces = [Piece("[", True)]
        for n, item in enumerate(value):
            if n:
                pieces.append(Piece(", ", True))
            pieces += render(item, unscored, path)
        return [*pieces, Piece("]", True)]
    return [Piece(json.dumps(value, ensure_ascii=False), True)]


def draft_target(doctype: DocType, draft: dict[str, Any], unscored: set[str], key: str,
                 prompt: str) -> Target:
    """Order the draft as the schema does, drop values the schema refuses (unscored)."""
    fields = doctype.draft_model.model_fields
    ordered = {name: draft.get(name, [] if name in _list_fields(doctype) else None)
               for name in fields}
    unscored = set(unscored) | {name for name in fields if name not in draft}
    try:
        doctype.draft_model.model_validate(ordered)
    except ValidationError as exc:  # e.g. a total printed as "RM60.30": keep it out
        for name in {str(error["loc"][0]) for error in exc.errors()}:
            ordered[name] = [] if name in _list_fields(doctype) else None
            unscored.add(name)
    return Target(key, prompt, render(ordered, unscored), frozenset(unscored))


def _list_fields(doctype: DocType) -> set[str]:
    schema = doctype.json_schema()["properties"]
    return {name for name, spec in schema.items() if spec.get("type") == "array"}


# A dataset's labels + the context the model reads → the draft and the paths it cannot teach.
Labeller = Callable[[str], tuple[dict[str, Any], set[str]]]


def document_targets(doctype: DocType, document: Document, main_prompt: str,
                     main_draft: dict[str, Any], main_unscored: set[str], key: str,
                     label: Labeller) -> list[Target]:
    """One document's targets: the main pass's (its focused fields null, without loss: the
    main pass never writes them) and one per focused field its labels know, over that
    field's own passages (`label` drafts the labels against those passages).

    A field labelled present that its passages do not show is not taught: teaching null
    there would teach "absent" for a clause that is there.
    """
    draft = copy.deepcopy(main_draft)
    unscored = set(main_unscored)
    out: list[Target] = []
    for focus in doctype.focused:
        known, _ = get(draft, focus.path)
        if known:
            put(draft, focus.path, None)
        unscored.add(focus.path)
        text = focus_context(document, focus)
        if not known or not text.strip():  # unlabelled here; no passage: null without a pass
            continue
        focused, focus_unscored = label(text)
        if _within(focus.path, focus_unscored):
            continue
        (name,) = focus.answer_model.model_fields
        value = get(focused, focus.path)[1]
        out.append(Target(f"{key}#{focus.name}", focus_prompt(focus, text),
                          render({name: value}, set()), frozenset(), focus.path))
    return [draft_target(doctype, draft, unscored, key, main_prompt), *out]


def _within(path: str, paths: set[str]) -> bool:
    """Whether the path or a field it is part of is among `paths`."""
    parts = path.split(".")
    return any(".".join(parts[:n]) in paths for n in range(1, len(parts) + 1))
