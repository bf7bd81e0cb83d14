"""Labelled documents → (prompt, target JSON) pairs, with the loss kept to what is labelled.

The target is the draft JSON exactly as constrained decoding writes it (xgrammar's compact
form is `json.dumps`'s: ", " and ": "), built from pieces that say whether the model should
learn them. A dataset that does not label a field (SROIE has no items, Kleister no titles)
writes null there, but those tokens carry no loss: the adapter learns each field only from
sources that know it, and keeps the base model's behaviour elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pipeline.doctypes import DocType


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
