"""Kleister-NDA: non-disclosure agreements (EDGAR PDFs) labelled with parties, effective date,
term and jurisdiction, split by the dataset's own `train/` and `dev-0/` folders.

Scoring is the dataset's own: F1 over (key, value) pairs, values upper-cased and white space
collapsed; commas are dropped on both sides, as the labels drop them ("Nike Inc." for
"NIKE, Inc.").

Kleister labels no title, party roles, termination notice or signatories;
`labels/kleister_hand.jsonl` holds them written by hand for some train and dev contracts (its
README says how). They are scored where a contract has them, and taught where the model's
context holds the value.
"""

from __future__ import annotations

import csv
import functools
import json
import lzma
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import (
    HAND,
    Dataset,
    Score,
    Source,
    alnum,
    pairs_f1,
    read_hand_labels,
)
from pipeline.doctypes.contract.schema import CLAUSES
from schemas.common import parse_date

KEYS = ("party", "jurisdiction", "term", "effective_date")
HAND_LABELS = Path(__file__).with_name("labels") / "kleister_hand.jsonl"
HAND_FIELDS = ("title", "parties", "termination_notice", "signatories")
# The contract fields CUAD labels and Kleister does not: left out of Kleister's loss.
UNLABELLED = frozenset({"agreement_date", "expiration_date", "renewal_term", "renewal_notice",
                        "parties.aliases", "clauses"})


def looks_like(folder: Path) -> bool:
    return (folder / "documents").is_dir() and (folder / "train").is_dir()


def sources(folder: Path) -> list[Source]:
    """The PDFs with their (key, value) labels, split by the dataset's own folders."""
    out = []
    for sub, split in (("train", "train"), ("dev-0", "dev")):
        with lzma.open(folder / sub / "in.tsv.xz", "rt", encoding="utf-8") as fh:
            names = [row[0] for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
        expected = folder / sub / "expected.tsv"
        lines = expected.read_text(encoding="utf-8").splitlines() if expected.is_file() else []
        for n, name in enumerate(names):
            path = folder / "documents" / name
            if not path.is_file():
                continue
            labels: dict[str, list[str]] = {}
            for pair in (lines[n].split() if n < len(lines) else []):
                key, _, value = pair.partition("=")
                labels.setdefault(key, []).append(value.replace("_", " "))
            if Path(name).stem in hand_labels():
                labels[HAND] = [json.dumps(hand_labels()[Path(name).stem])]
            out.append(Source("kleister-nda", Path(name).stem, "contract", split, path, name,
                              labels=labels))
    return out


@functools.cache
def hand_labels() -> dict[str, dict[str, Any]]:
    """key → the hand-written fields (those of HAND_FIELDS) of that contract."""
    return read_hand_labels(HAND_LABELS, "key", HAND_FIELDS)


# --- training targets: labels spelled as the contract spells them --------------------------

_DATE_PHRASE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?[A-Z][a-z]+,?\s+\d{4}"
    r"|[A-Z][a-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}/\d{1,2}/\d{2,4})\b"
)


def date_as_stated(iso: str, text: str) -> str:
    """The first phrase in the text that is the labelled date, else the ISO date itself."""
    for match in _DATE_PHRASE.finditer(text):
        phrase = " ".join(match.group(0).split())
        parsed = parse_date(phrase, month_first=True)
        if parsed is not None and parsed.isoformat() == iso:
            return phrase
    return iso


def as_stated(label: str, text: str) -> str:
    """The label spelled as the document spells it (case, line breaks), without commas, as
    Kleister writes its values; the label itself where the document has no such span."""
    words = [re.escape(word.strip(",")) for word in label.split() if word.strip(",")]
    if not words:
        return label
    found = re.search(r"[\s,]*".join(words), text, re.IGNORECASE)
    if found is None:
        return label
    stated = " ".join(found.group(0).replace(",", " ").split())
    return stated if stated.upper() == " ".join(label.replace(",", " ").split()).upper() else label


def target(labels: dict[str, list[str]], context: str) -> tuple[dict[str, Any], set[str]]:
    """Parties, effective date, term and jurisdiction; a missing key means the contract has
    none (scored null). Titles, roles, notice and signatories are unscored."""
    first = {key: values[0] for key, values in labels.items()}
    hand = json.loads(labels[HAND][0]) if HAND in labels else None
    draft: dict[str, Any] = {
        "parties": [{"name": as_stated(name, context), "role": None, "aliases": []}
                    for name in labels.get("party", [])],
        "effective_date": (date_as_stated(first["effective_date"], context)
                           if "effective_date" in first else None),
        "term": first.get("term"),
        "jurisdiction": (as_stated(first["jurisdiction"], context)
                         if "jurisdiction" in first else None),
        "clauses": {name: None for name in CLAUSES},
    }
    if hand is None:
        return draft, {"title", "parties.role", "termination_notice", "signatories", *UNLABELLED}
    draft, unscored = _with_hand(draft, hand, context)
    return draft, unscored | UNLABELLED


def _in(value: str | None, text: str) -> bool:
    return bool(value) and " ".join(str(value).split()).lower() in " ".join(text.split()).lower()


def _with_hand(draft: dict[str, Any], hand: dict[str, Any],
               context: str) -> tuple[dict[str, Any], set[str]]:
    """The hand-labelled fields join the target where the model can see them: a value the
    context does not hold (a signature block past the passages read) is left out of the loss
    rather than taught as something to invent; a labelled null is a lesson."""
    unscored: set[str] = set()
    for name in ("title", "termination_notice"):
        draft[name] = hand[name] if _in(hand[name], context) else None
        if hand[name] is not None and draft[name] is None:
            unscored.add(name)
    roles = {p["name"]: p["role"] for p in hand["parties"]}
    for party, name in zip(draft["parties"], [p["name"] for p in hand["parties"]], strict=False):
        role = roles.get(name)
        party["role"] = role if _in(role, context) else None
        if role is not None and party["role"] is None:
            unscored.add("parties.role")
    seen = [name for name in hand["signatories"] if _in(name, context)]
    draft["signatories"] = seen
    if len(seen) < len(hand["signatories"]):
        unscored.add("signatories")
    return draft, unscored


# --- scoring -------------------------------------------------------------------------------


def norm(text: str | None) -> str:
    return " ".join(str(text or "").replace(",", " ").split()).upper()


def pairs(record: dict[str, Any]) -> set[tuple[str, str]]:
    found = {("party", norm(p["name"])) for p in record.get("parties") or [] if p.get("name")}
    for key in ("jurisdiction", "term", "effective_date"):
        if record.get(key):
            found.add((key, norm(record[key])))
    return found


def score(labels: dict[str, list[str]], record: dict[str, Any]) -> Score:
    gold = {(key, norm(value)) for key, values in labels.items() if key != HAND
            for value in values}
    predicted = pairs(record)
    scored = Score(pairs=(predicted, gold))
    for n, party in enumerate(record.get("parties") or []):
        scored.correct[f"parties[{n}].name"] = ("party", norm(party.get("name"))) in gold
    for key in ("jurisdiction", "term", "effective_date"):
        if record.get(key) or any(k == key for k, _ in gold):
            scored.correct[key] = (key, norm(record.get(key))) in gold
    for key, value in sorted(gold - predicted):  # labelled values the answer lacks are wrong
        if key == "party":  # (single keys are already wrong above)
            scored.correct[f"missed party {value}"] = False
    for key in KEYS:
        missed = sorted(v for k, v in gold - predicted if k == key)
        extra = sorted(v for k, v in predicted - gold if k == key)
        if missed or extra:
            scored.errors.append({"field": key, "predicted": extra, "expected": missed})
    if HAND in labels:
        _score_hand(json.loads(labels[HAND][0]), record, scored)
    return scored


def _score_hand(hand: dict[str, Any], record: dict[str, Any], scored: Score) -> None:
    """Title and notice compared on letters and digits (null is a value: right when both are
    null); each labelled party's role, matched to the answer's party of the same name; each
    labelled signatory found among the answer's, and each extra one wrong."""
    for name in ("title", "termination_notice"):
        right = alnum(hand[name]) == alnum(record.get(name))
        scored.correct[name] = right
        if not right:
            scored.errors.append({"field": name, "predicted": record.get(name),
                                  "expected": hand[name]})
    answer_roles = {norm(p.get("name")): p.get("role") for p in record.get("parties") or []}
    for n, party in enumerate(hand["parties"]):
        if norm(party["name"]) in answer_roles:
            right = alnum(party["role"]) == alnum(answer_roles[norm(party["name"])])
            scored.correct[f"parties[{n}].role"] = right
    left = [alnum(name) for name in record.get("signatories") or []]
    for n, name in enumerate(hand["signatories"]):
        scored.correct[f"signatories[{n}]"] = alnum(name) in left
        if alnum(name) in left:
            left.remove(alnum(name))
    for n, _ in enumerate(left):
        scored.correct[f"extra signatory {n}"] = False


def _of(key: str) -> Callable[[tuple[str, str]], bool]:
    return lambda pair: pair[0] == key


def summarize(scores: list[Score]) -> dict[str, Any]:
    """F1 per key and over all pairs (the headline), and the hand-labelled fields."""
    summary: dict[str, Any] = {
        "fields": {key: round(pairs_f1(scores, _of(key)), 4) for key in KEYS},
        "f1": round(pairs_f1(scores), 4)}
    hand = [s for s in scores if "title" in s.correct]
    if hand:
        def share(prefix: str) -> float | None:
            found = [ok for s in hand for k, ok in s.correct.items() if k.startswith(prefix)]
            return round(sum(found) / len(found), 4) if found else None

        signed = [ok for s in hand for k, ok in s.correct.items() if k.startswith("signatories[")]
        extra = sum(k.startswith("extra signatory") for s in hand for k in s.correct)
        summary["hand_labelled"] = {
            "documents": len(hand), "title": share("title"),
            "termination_notice": share("termination_notice"),
            "party_role": share("parties["),
            "signatories_recall": round(sum(signed) / max(len(signed), 1), 4),
            "signatories_precision": round(sum(signed) / max(sum(signed) + extra, 1), 4),
        }
    return summary


def holds(key: str, value: str, text: str) -> bool:
    """Does the text hold the labelled value, spelled as a copier could write it?"""
    if key == "effective_date":
        return date_as_stated(value, text) != value
    if key == "term":
        number, _, unit = value.partition(" ")
        return number in text and unit[:4].lower() in text.lower()
    return norm(as_stated(value, text)) == norm(value) and value.split()[0].strip(",").lower() \
        in text.lower()


DATASET = Dataset(
    name="kleister-nda",
    doc_type="contract",
    folder="kleister-nda",
    description="Kleister-NDA contracts (parties, effective date, term, jurisdiction)",
    looks_like=looks_like,
    sources=sources,
    target=target,
    score=score,
    summarize=summarize,
    headline="f1",
    holds=holds,
)
