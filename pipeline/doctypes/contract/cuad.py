"""CUAD v1 (`../shared/datasets/cuad`): commercial contracts from EDGAR labelled for clause
review: document name, parties and their aliases, agreement / effective / expiration dates,
renewal term and the notice that stops it, governing law, and six clauses (present or not,
with the first annotated excerpt).

Train contracts exist only as CUAD's own text (one paragraph a line); dev ones also as the
original PDF, which is what a user uploads and what dev reads. A PDF's text layer gives lines
of about 80 characters, so the train text is re-flowed to such lines (written once under
`~/.cache/docket/generated/cuad-reflowed-v1/`): the adapter learns from the line shape it
will see, and passage selection picks lines, not whole paragraphs, as it does on PDFs.

Scoring, as the issue asks: each field's accuracy (dates as values, text on letters and
digits, null labels included), clause presence F1, and an excerpt counts as found when its
token F1 with the labelled one is at least 0.5.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.doctypes.base import (
    Dataset,
    Score,
    Source,
    alnum,
    json_labels,
    pairs_f1,
    record_of,
)
from pipeline.doctypes.contract.kleister import as_stated, date_as_stated
from pipeline.doctypes.contract.schema import CLAUSES, EXCERPT_CHARS, PERPETUAL

REFLOWED = Path.home() / ".cache" / "docket" / "generated" / "cuad-reflowed-v1"
LINE_CHARS = 78  # a PDF text line's length, about
TEXT_FIELDS = ("title", "renewal_term", "renewal_notice", "jurisdiction")
DATE_FIELDS = ("agreement_date", "effective_date", "expiration_date")
# The dataset's names for the record's fields where they differ.
LABEL_OF = {"title": "document_name", "jurisdiction": "governing_law",
            "renewal_notice": "notice_period_to_terminate_renewal"}
EXCERPT_FOUND = 0.5  # token F1 at which an excerpt counts as found
MIN_WORDS = 12  # an excerpt the context holds fewer words of is not taught
RUN_WORDS = 150  # of an excerpt's words searched for a run (a taught excerpt is <= 600 chars)
RUN_STEP = 2  # a run is searched from every second word


def looks_like(folder: Path) -> bool:
    return all((folder / name).exists() for name in ("splits.json", "labels", "spans"))


@functools.cache
def _splits(folder: Path) -> dict[str, str]:
    splits = json.loads((folder / "splits.json").read_text())
    return {key: split for split in ("train", "dev") for key in splits[split]}


def reflowed(folder: Path, key: str) -> Path:
    """CUAD's text of one contract with its paragraphs wrapped to PDF-like lines."""
    path = REFLOWED / f"{key}.txt"
    if not path.is_file():
        text = (folder / "documents" / f"{key}.txt").read_text(encoding="utf-8",
                                                                errors="replace")
        lines = [wrapped for line in text.splitlines() if line.strip()
                 for wrapped in textwrap.wrap(" ".join(line.split()), LINE_CHARS)]
        REFLOWED.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sources(folder: Path) -> list[Source]:
    """Train: the re-flowed text; dev: the PDF (the re-flowed text where there is none)."""
    out = []
    for key, split in sorted(_splits(folder).items()):
        labels = json_labels(json.loads((folder / "labels" / f"{key}.json").read_text()))
        pdf = folder / "documents" / f"{key}.pdf"
        path = pdf if split == "dev" and pdf.is_file() else reflowed(folder, key)
        out.append(Source("cuad", key, "contract", split, path, path.name, labels=labels))
    return out


# --- training targets ---------------------------------------------------------------------

def excerpt_in(excerpt: str, context: str) -> str | None:
    """The longest run of the excerpt's words the context holds (as the context spells it,
    white space collapsed, cut at EXCERPT_CHARS on a word), or None below MIN_WORDS words.

    Any run, not only the opening: a passage picked by a cue in the middle of a long clause
    often starts after the clause does, and it still shows the clause.
    """
    words = [re.escape(word) for word in excerpt.replace(" [...] ", " ").split()][:RUN_WORDS]
    best: str | None = None
    for start in range(0, max(len(words) - MIN_WORDS + 1, 1), RUN_STEP):
        low, high, found = MIN_WORDS, len(words) - start, None
        while low <= high:  # the run's length in words, by bisection
            middle = (low + high) // 2
            match = re.search(r"\s+".join(words[start:start + middle]), context)
            if match:
                found, low = match.group(0), middle + 1
            else:
                high = middle - 1
        if found is not None and (best is None or len(found) > len(best)):
            best = found
    if best is None:
        return None
    best = " ".join(best.split())
    if len(best) > EXCERPT_CHARS:
        best = best[:EXCERPT_CHARS].rsplit(" ", 1)[0]
    return best


def _title(gold: dict[str, Any]) -> str | None:
    """The labelled document name without the punctuation some labels trail ('AGREEMENT (“')."""
    return re.sub(r"\W+$", "", gold["document_name"] or "") or None


def _date_target(value: str | None, context: str) -> tuple[str | None, bool]:
    """(what to teach, whether it can be taught): a date as the context prints it; an ISO
    date the context does not print (a computed expiry) or a partial one is not taught."""
    if value is None:
        return None, True
    if PERPETUAL.search(value):
        return value, True
    if len(value) != 10:  # a redacted day or month: "2010-02"
        return None, False
    stated = date_as_stated(value, context)
    return (stated, True) if stated != value else (None, False)


def target(labels: dict[str, list[str]], context: str) -> tuple[dict[str, Any], set[str]]:
    """The labelled record as the draft, each value where the context shows it; the fields
    CUAD does not label (term, termination notice, signatories, roles) teach nothing."""
    gold = record_of(labels)
    flat = alnum(context)
    unscored = {"term", "termination_notice", "signatories", "parties.role"}
    title = _title(gold)
    draft: dict[str, Any] = {"title": as_stated(title, context) if title else None}
    if title and alnum(title) not in flat:
        draft["title"] = None
        unscored.add("title")
    draft["parties"] = [
        {"name": as_stated(p["name"], context), "role": None,
         "aliases": [a for a in p["aliases"] if re.search(rf"\b{re.escape(a)}\b", context)][:3]}
        for p in gold["parties"][:6]]
    for name in DATE_FIELDS:
        draft[name], taught = _date_target(gold[name], context)
        if not taught:
            unscored.add(name)
    draft["term"] = None
    renewal_read = re.search(r"renew|successive|extend", context, re.IGNORECASE) is not None
    for name in ("renewal_term", "renewal_notice"):
        draft[name] = gold[LABEL_OF.get(name, name)]
        if draft[name] is not None and not renewal_read:
            draft[name] = None
            unscored.add(name)
    law = gold["governing_law"]
    draft["jurisdiction"] = as_stated(law, context) if law else None
    if law and alnum(law) not in flat:
        draft["jurisdiction"] = None
        unscored.add("jurisdiction")
    draft["termination_notice"] = None
    draft["signatories"] = []
    draft["clauses"] = {}
    for name in CLAUSES:
        clause = gold[name]
        excerpt = excerpt_in(clause["excerpt"], context) if clause["present"] else None
        draft["clauses"][name] = excerpt
        if clause["present"] and excerpt is None:
            unscored.add(f"clauses.{name}")
    return draft, unscored


# --- scoring ------------------------------------------------------------------------------

def tokens(text: str | None) -> list[str]:
    return re.findall(r"[a-z0-9]+", (text or "").lower())


def token_f1(answer: str | None, gold: str | None) -> float:
    a, g = tokens(answer), tokens(gold)
    common = sum((Counter(a) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _date_right(gold: str | None, record: dict[str, Any], name: str) -> bool:
    answer = record.get(name)
    if gold is None:
        return answer is None and not record.get(f"{name}_text")
    if PERPETUAL.search(gold):
        return bool(PERPETUAL.search(record.get(f"{name}_text") or ""))
    return answer is not None and str(answer).startswith(gold)  # "2010-02" a month


def score(labels: dict[str, list[str]], record: dict[str, Any]) -> Score:
    gold = record_of(labels)
    scored = Score()

    def judge(name: str, right: bool, predicted: Any, expected: Any) -> None:
        scored.correct[name] = right
        if not right:
            scored.errors.append({"field": name, "predicted": predicted, "expected": expected})

    for name in TEXT_FIELDS:
        expected = _title(gold) if name == "title" else gold[LABEL_OF.get(name, name)]
        judge(name, alnum(expected) == alnum(record.get(name)), record.get(name), expected)
    for name in DATE_FIELDS:
        judge(name, _date_right(gold[name], record, name), record.get(f"{name}_text"),
              gold[name])
    answer_parties = [alnum(p.get("name")) for p in record.get("parties") or []]
    predicted: set[tuple[str, str]] = {("party", n) for n in answer_parties if n}
    expected_pairs: set[tuple[str, str]] = {("party", alnum(p["name"]))
                                            for p in gold["parties"]}
    clauses = {c["clause"]: c for c in record.get("clauses") or []}
    for name in CLAUSES:
        answer = clauses.get(name) or {}
        if answer.get("present"):
            predicted.add(("clause", name))
        if gold[name]["present"]:
            expected_pairs.add(("clause", name))
            found = token_f1(answer.get("excerpt"), gold[name]["excerpt"]) >= EXCERPT_FOUND
            judge(f"clauses.{name}.excerpt", bool(answer.get("present")) and found,
                  answer.get("excerpt"), gold[name]["excerpt"][:200])
        judge(f"clauses.{name}.present", bool(answer.get("present")) == gold[name]["present"],
              bool(answer.get("present")), gold[name]["present"])
    scored.pairs = (predicted, expected_pairs)
    return scored


def _f1(scores: list[Score], kind: str, name: str | None = None) -> float:
    return round(pairs_f1(scores, lambda pair: pair[0] == kind
                          and (name is None or pair[1] == name)), 4)


def summarize(scores: list[Score]) -> dict[str, Any]:
    """Each field's accuracy, the parties' F1, each clause's presence F1 and the share of
    labelled excerpts found; the headline is the mean of the eight fields' figures."""
    def share(key: str) -> float | None:
        found = [s.correct[key] for s in scores if key in s.correct]
        return round(sum(found) / len(found), 4) if found else None

    fields: dict[str, Any] = {name: share(name) for name in (*TEXT_FIELDS, *DATE_FIELDS)}
    fields["parties"] = _f1(scores, "party")
    excerpts = [ok for s in scores for k, ok in s.correct.items() if k.endswith(".excerpt")]
    return {
        "fields": fields,
        "mean": round(sum(v for v in fields.values() if v is not None) / len(fields), 4),
        "clause_presence_f1": _f1(scores, "clause"),
        "clause_presence_f1_by_clause": {name: _f1(scores, "clause", name) for name in CLAUSES},
        "excerpts_found": round(sum(excerpts) / len(excerpts), 4) if excerpts else None,
        "excerpts_found_by_clause": {name: share(f"clauses.{name}.excerpt") for name in CLAUSES},
    }


def holds(key: str, value: str, text: str) -> bool:
    """Does the context hold this label (for `docket eval`'s context recall)?"""
    label = json.loads(value)
    if isinstance(label, dict) and "present" in label:
        return not label["present"] or excerpt_in(label["excerpt"], text) is not None
    if label is None:
        return True
    if key in DATE_FIELDS:
        return PERPETUAL.search(label) is not None or (
            len(label) == 10 and date_as_stated(label, text) != label)
    if key == "parties":
        return all(alnum(p["name"]) in alnum(text) for p in label)
    return alnum(label) in alnum(text)


DATASET = Dataset(
    name="cuad",
    doc_type="contract",
    folder="cuad",
    description="CUAD commercial contracts (dates, renewal, law, six reviewed clauses)",
    looks_like=looks_like,
    sources=sources,
    target=target,
    score=score,
    summarize=summarize,
    headline="mean",
    holds=holds,
)
