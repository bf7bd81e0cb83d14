"""Clause review: the contract rules on dates, CUAD's training targets and scorer, and the
passages that bring each clause into a long contract's context."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from pipeline import doctypes
from pipeline.doctypes.base import json_labels, record_of
from pipeline.doctypes.contract import cuad, schema
from pipeline.document import Document, Line, Page
from pipeline.extract.context import context_for
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


def test_every_clause_reaches_the_context_of_a_long_contract() -> None:
    filler = [f"{n}. The Supplier shall deliver the Products described in the Order to the "
              "address the Purchaser names, packed" for n in range(400)]
    clauses = {
        "change_of_control": "Either party may terminate upon a change of control of the other.",
        "anti_assignment": "Neither party may assign this Agreement without consent.",
        "termination_for_convenience": "Purchaser may terminate this Agreement for "
                                       "convenience on 30 days notice.",
        "non_compete": "Supplier shall not compete with Purchaser in the Territory.",
        "exclusivity": "Purchaser appoints Supplier as its exclusive supplier.",
        "cap_on_liability": "Supplier's aggregate liability shall not exceed the fees paid.",
    }
    lines = ["SUPPLY AGREEMENT", *filler[:200], *clauses.values(), *filler[200:]]
    doc = Document(converter="test", mime_type="text/plain",
                   pages=[Page(number=1, lines=[Line(text=t) for t in lines])])
    contract = doctypes.get("contract")
    context = context_for(doc, contract.cues, contract.context_chars, contract.head_chars)
    assert context.selected
    for name, text in clauses.items():
        assert text in context.text, name


@pytest.mark.skipif(not CUAD.is_dir(), reason="needs ../shared/datasets/cuad")
def test_cuad_sources_keep_the_splits_and_read_dev_from_pdf() -> None:
    found = cuad.sources(CUAD)
    splits = json.loads((CUAD / "splits.json").read_text())
    assert sum(s.split == "train" for s in found) == len(splits["train"])
    assert {s.path.suffix for s in found if s.split == "dev"} == {".pdf"}
    train = next(s for s in found if s.split == "train")
    assert max(len(line) for line in train.path.read_text().splitlines()) <= cuad.LINE_CHARS
    assert record_of(train.labels)["document_name"]
