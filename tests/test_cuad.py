"""Clause review: the contract rules on dates, CUAD's training targets and scorer, and each
clause's own passages of a long contract, read and taught in a pass of its own."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import pytest

from pipeline import doctypes
from pipeline.doctypes.base import json_labels, record_of
from pipeline.doctypes.contract import cuad, schema
from pipeline.document import Document, Line, Page
from pipeline.extract.context import context_for
from pipeline.extract.focus import focus_context
from pipeline.training.targets import document_targets
from tests.conftest import ROOT

CUAD = ROOT.parent / "shared" / "datasets" / "cuad"
ASSIGNMENT = ("Neither party may assign this Agreement or any of its rights hereunder without "
              "the prior written consent of the other party, which shall not be unreasonably "
              "withheld.")
CAP = ("In no event shall either party's aggregate liability under this Agreement exceed the "
       "fees paid by Distributor in the twelve months before the claim.")


def _draft(**overrides: Any) -> schema.ContractDraft:
    values: dict[str, Any] = {
        "title": "DISTRIBUTOR AGREEMENT",
        "parties": [{"name": "Acme Corp.", "role": None, "aliases": ["Acme"]},
                    {"name": "Globex LLC", "role": None, "aliases": ["Distributor"]}],
        "agreement_date": "March 3, 2019", "effective_date": "March 3, 2019",
        "expiration_date": "March 2, 2022", "term": None, "renewal_term": "successive 1 year",
        "renewal_notice": "90 days", "jurisdiction": "Delaware", "termination_notice": None,
        "signatories": [],
        "clauses": {name: None for name in schema.CLAUSES} | {"anti_assignment": ASSIGNMENT},
    }
    return schema.ContractDraft.model_validate({**values, **overrides})


def _rules(**overrides: Any) -> set[str]:
    return {v.rule for v in schema.check_rules(schema.to_record(_draft(**overrides)))}


def test_a_reviewed_contract_lists_all_six_clauses_present_or_not() -> None:
    record = schema.to_record(_draft())
    assert schema.check_rules(record) == []
    assert [c.clause for c in record.clauses] == list(schema.CLAUSES)
    assert [c.clause for c in record.clauses if c.present] == ["anti_assignment"]
    assert record.expiration_date == dt.date(2022, 3, 2)
    assert record.parties[1].aliases == ["Distributor"]


@pytest.mark.parametrize(("overrides", "rule"), [
    ({"expiration_date": "March 2, 2018"}, "expiration_before_start"),
    ({"expiration_date": "upon completion"}, "expiration_date_invalid"),
    ({"agreement_date": "the 3rd day of March"}, "agreement_date_invalid"),
])
def test_each_broken_date_rule_is_named(overrides: dict[str, Any], rule: str) -> None:
    assert rule in _rules(**overrides)


def test_a_perpetual_contract_is_not_an_invalid_date() -> None:
    assert _rules(expiration_date="perpetual") == set()


def _labels(**overrides: Any) -> dict[str, list[str]]:
    record: dict[str, Any] = {
        "document_name": "DISTRIBUTOR AGREEMENT",
        "parties": [{"name": "Acme Corp.", "aliases": ["Acme"]},
                    {"name": "Globex LLC", "aliases": ["Distributor"]}],
        "agreement_date": "2019-03-03", "effective_date": None,
        "expiration_date": "perpetual", "renewal_term": None,
        "notice_period_to_terminate_renewal": None, "governing_law": "Delaware",
        **{name: {"present": False, "excerpt": None} for name in schema.CLAUSES},
        "anti_assignment": {"present": True, "excerpt": ASSIGNMENT},
        "cap_on_liability": {"present": True, "excerpt": CAP},
    }
    return json_labels({**record, **overrides})


CONTEXT = ("DISTRIBUTOR AGREEMENT\nThis Agreement is made on March 3, 2019 between Acme Corp.\n"
           "(\"Acme\") and Globex LLC (\"Distributor\").\n[…]\n12. Assignment. Neither party "
           "may assign this\nAgreement or any of its rights hereunder without the prior "
           "written consent\nof the other party, which shall not be unreasonably withheld.\n"
           "[…]\nThis Agreement is governed by the laws of the State of Delaware.")


def test_the_target_teaches_what_the_context_shows_and_leaves_out_what_it_does_not() -> None:
    draft, unscored = cuad.target(_labels(), CONTEXT)
    assert draft["agreement_date"] == "March 3, 2019"  # as printed, not ISO
    assert draft["clauses"]["anti_assignment"] == ASSIGNMENT  # line breaks collapsed
    assert draft["clauses"]["non_compete"] is None  # absent: a lesson
    assert "clauses.cap_on_liability" in unscored  # present but not in the context
    assert draft["clauses"]["cap_on_liability"] is None
    assert draft["parties"][1]["aliases"] == ["Distributor"]
    assert {"term", "signatories", "parties.role"} <= unscored
    target = doctypes.get("contract").draft_model.model_validate(draft)
    assert target.jurisdiction == "Delaware"


def _record(**overrides: Any) -> dict[str, Any]:
    record = schema.to_record(_draft(**overrides)).model_dump(mode="json")
    return json.loads(json.dumps(record))


def test_the_scorer_counts_presence_excerpt_overlap_and_dates_as_values() -> None:
    labels = _labels(expiration_date="2022-03-02", effective_date="2019-03-03",
                     renewal_term="successive 1 year",
                     notice_period_to_terminate_renewal="90 days")
    scored = cuad.score(labels, _record())
    assert all(scored.correct[name] for name in ("title", "agreement_date", "effective_date",
                                                 "expiration_date", "jurisdiction"))
    assert scored.correct["clauses.anti_assignment.excerpt"]
    assert not scored.correct["clauses.cap_on_liability.present"]  # missed
    assert scored.correct["clauses.non_compete.present"]  # rightly absent
    half = ASSIGNMENT[:30]  # too little of the clause: found as present, excerpt not found
    short = cuad.score(labels, _record(clauses={name: None for name in schema.CLAUSES}
                                       | {"anti_assignment": half}))
    assert short.correct["clauses.anti_assignment.present"]
    assert not short.correct["clauses.anti_assignment.excerpt"]
    summary = cuad.summarize([scored, short])
    assert summary["clause_presence_f1"] == pytest.approx(0.6667)
    assert summary["excerpts_found"] == 0.25  # 1 of 4 labelled excerpts


def test_an_answer_equal_to_its_labels_scores_perfectly() -> None:
    record = _record(expiration_date="perpetual", effective_date=None,
                     clauses={name: None for name in schema.CLAUSES}
                     | {"anti_assignment": ASSIGNMENT, "cap_on_liability": CAP},
                     renewal_term=None, renewal_notice=None)
    summary = cuad.summarize([cuad.score(_labels(), record)])
    assert summary["mean"] == 1.0 and summary["clause_presence_f1"] == 1.0
    assert summary["excerpts_found"] == 1.0


CLAUSE_LINES = {
    "change_of_control": "Either party may terminate upon a change of control of the other.",
    "anti_assignment": "Neither party may assign this Agreement without consent.",
    "termination_for_convenience": "Purchaser may terminate this Agreement for "
                                   "convenience on 30 days notice.",
    "non_compete": "Supplier shall not compete with Purchaser in the Territory.",
    "exclusivity": "Purchaser appoints Supplier as its exclusive supplier.",
    "cap_on_liability": "Supplier's aggregate liability shall not exceed the fees paid.",
}


def _long_contract(clauses: dict[str, str]) -> Document:
    filler = [f"{n}. The Supplier shall deliver the Products described in the Order to the "
              "address the Purchaser names, packed" for n in range(400)]
    lines = ["SUPPLY AGREEMENT", *filler[:200], *clauses.values(), *filler[200:]]
    return Document(converter="test", mime_type="text/plain",
                    pages=[Page(number=1, lines=[Line(text=t) for t in lines])])


def test_each_clause_is_read_in_its_own_passages_of_a_long_contract() -> None:
    contract = doctypes.get("contract")
    assert [f.name for f in contract.focused] == list(schema.CLAUSES)
    doc = _long_contract(CLAUSE_LINES)
    for focus in contract.focused:
        passages = focus_context(doc, focus)
        assert CLAUSE_LINES[focus.name] in passages, focus.name
        assert len(passages) <= focus.context_chars
    # the main pass reads the opening and the general cues, not the clauses
    main = context_for(doc, contract.cues, contract.context_chars, contract.head_chars)
    assert main.selected and main.text.startswith("SUPPLY AGREEMENT")


def test_a_contract_without_a_clauses_wording_has_no_passage_for_it() -> None:
    contract = doctypes.get("contract")
    doc = _long_contract({k: v for k, v in CLAUSE_LINES.items() if k != "exclusivity"})
    exclusivity = next(f for f in contract.focused if f.name == "exclusivity")
    assert focus_context(doc, exclusivity) == ""


def test_a_clause_is_taught_from_any_run_of_its_words_the_passages_hold() -> None:
    # the passage starts inside the clause: the run it holds is taught, not nothing
    passage = "[…]\n" + ASSIGNMENT[ASSIGNMENT.index("without"):].replace(" consent", "\nconsent")
    taught = cuad.excerpt_in(ASSIGNMENT, passage)
    assert taught is not None and taught.startswith("without the prior written consent")
    assert taught.endswith("withheld.")
    assert cuad.excerpt_in(ASSIGNMENT, "Neither party may assign this Agreement.") is None


def test_training_teaches_each_clause_in_its_own_pass_and_none_in_the_main_one() -> None:
    contract = doctypes.get("contract")
    lines = dict(CLAUSE_LINES, anti_assignment=ASSIGNMENT)
    del lines["exclusivity"]
    doc = _long_contract(lines)
    labels = _labels(change_of_control={"present": True,
                                        "excerpt": "a clause worded nowhere in this text, "
                                        "about a merger of either party and its consequences"})
    main_context = context_for(doc, contract.cues, contract.context_chars,
                               contract.head_chars).text
    draft, unscored = cuad.target(labels, main_context)
    found = document_targets(contract, doc, "PROMPT", draft, unscored, "k",
                             functools.partial(cuad.target, labels))
    main, *focused = found
    assert main.focus is None and '"clauses": {"change_of_control": null' in main.text
    assert {f"clauses.{name}" for name in schema.CLAUSES} <= main.unscored
    taught = {t.focus: json.loads(t.text)["excerpt"] for t in focused}
    assert taught["clauses.anti_assignment"] == ASSIGNMENT  # present, shown: its words
    assert taught["clauses.non_compete"] is None  # labelled absent, has a passage: null
    assert "clauses.exclusivity" not in taught  # no passage: null without a pass
    assert "clauses.change_of_control" not in taught  # present, but not shown: not taught
    assert all(t.prompt.startswith(next(f.question for f in contract.focused
                                        if f.path == t.focus)) for t in focused)


def test_a_dataset_without_clause_labels_teaches_no_clause() -> None:
    contract = doctypes.get("contract")
    doc = _long_contract(CLAUSE_LINES)
    unlabelled = ({"title": None, "clauses": None}, {"title", "clauses"})
    found = document_targets(contract, doc, "PROMPT", *unlabelled, "k",
                             lambda text: unlabelled)
    assert [t.focus for t in found] == [None]


@pytest.mark.skipif(not CUAD.is_dir(), reason="needs ../shared/datasets/cuad")
def test_cuad_sources_keep_the_splits_and_read_dev_from_pdf() -> None:
    found = cuad.sources(CUAD)
    splits = json.loads((CUAD / "splits.json").read_text())
    assert sum(s.split == "train" for s in found) == len(splits["train"])
    assert {s.path.suffix for s in found if s.split == "dev"} == {".pdf"}
    train = next(s for s in found if s.split == "train")
    assert max(len(line) for line in train.path.read_text().splitlines()) <= cuad.LINE_CHARS
    assert record_of(train.labels)["document_name"]


def test_each_clause_with_passages_is_answered_in_a_pass_of_its_own(runtime: Any,
                                                                    settings: Any) -> None:
    """The supply sample (8 pages; five of the six clauses, no non-compete): one model pass
    per clause its cues find, the answers placed in the record and on their pages."""
    from pipeline.convert import convert
    from pipeline.extract import extract

    path = ROOT / "samples" / "documents" / "contract-supply.pdf"
    document = convert(path.read_bytes(), path.name, settings)
    contract = doctypes.get("contract")
    extraction = extract(document, contract, runtime, settings)
    with_passages = [f for f in contract.focused if focus_context(document, f)]
    # one pass per clause with passages, two where a null was asked again (present_at)
    assert len(with_passages) <= len(extraction.focused) <= 2 * len(with_passages)
    assert len(with_passages) > 0
    assert extraction.record is not None
    clauses = {c.clause: c for c in extraction.record.clauses}  # type: ignore[attr-defined]
    assert list(clauses) == list(schema.CLAUSES)
    evidence = {f.path: f for f in extraction.fields if f.path.startswith("clauses.")}
    assert set(evidence) == {f"clauses.{name}" for name in schema.CLAUSES}
    assignment = clauses["anti_assignment"]
    assert assignment.present and "assign" in (assignment.excerpt or "").lower()
    assert evidence["clauses.anti_assignment"].page is not None  # copied, so found on its page


def test_a_clause_left_null_is_asked_again_when_the_model_gave_a_value_enough_odds(
        runtime: Any, settings: Any) -> None:
    """`decoding.present_at`: a null the model wrote while giving a value at least that
    probability is asked again with null ruled out; the value carries that doubt."""
    from pipeline.extract.focus import answer

    contract = doctypes.get("contract")
    doc = _long_contract({"exclusivity": "Purchaser appoints Supplier as its exclusive "
                                         "supplier of the Products in the Territory."})
    exclusivity = next(f for f in contract.focused if f.name == "exclusivity")
    plain = answer(doc, exclusivity, runtime, "contract", {"copy_preference": False}, 1.0)
    always = answer(doc, exclusivity, runtime, "contract",
                    {"copy_preference": False, "present_at": 0.0}, 1.0)
    assert always.value and len(always.passes) == (2 if plain.value is None else 1)
    if plain.value is None:  # asked again: its confidence is at most the odds of a value
        assert always.fields[0].confidence <= 1.0 - plain.fields[0].confidence + 1e-6
    never = answer(doc, exclusivity, runtime, "contract",
                   {"copy_preference": False, "present_at": 1.01}, 1.0)
    assert never.value == plain.value and len(never.passes) == 1


def test_the_presence_threshold_is_reported_cross_fitted() -> None:
    from pipeline.doctypes.contract import presence

    # present clauses at 0.04, absent ones at 0.001: the best threshold is under 0.05
    docs = [[("exclusivity", n % 4 < 2, 0.04 if n % 4 < 2 else 0.001)] for n in range(8)]
    assert presence.f1(docs, 0.5) == 0.0 and presence.f1(docs, 0.03) == 1.0
    honest, chosen = presence.cross_fitted(docs)
    assert honest == 1.0 and all(t <= 0.03 for t in chosen)
