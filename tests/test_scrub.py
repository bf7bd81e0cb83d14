"""Personal data out of training examples: each kind found and replaced by a surrogate of the
same shape, the same one every time within a run; the record's own values left alone; the
labelled set measured on real documents (a few here; `docket scrub eval` runs all of it)."""

from __future__ import annotations

import re

from stdnum import iban, luhn

from pipeline.training.scrub import Scrubber
from pipeline.training.scrub_eval import build, evaluate
from pipeline.training.targets import Piece, Target

TEXT = """CORNER BAKERY SDN BHD
Cashier: Siti Aminah    Tel: +60 12-345 6789
Attn: Mr. John A. Smith <john.smith@acme-corp.com>
Card 4111 1111 1111 1111   IBAN GB82 WEST 1234 5698 7654 32
Account No: 1234-5678-9012   NRIC 850101-14-5678
Dear Maria Gonzalez, thank you. Ahmad bin Ismail signed for Jane Doe.
TOTAL 9.00   25/12/2018"""


def test_every_kind_is_replaced_by_a_surrogate_of_the_same_shape() -> None:
    scrubber = Scrubber(b"test key")
    result = scrubber.scrub(TEXT, protected=["CORNER BAKERY SDN BHD", "9.00", "25/12/2018",
                                             "Jane Doe"])
    found = {f.text: f.kind for f in result.findings}
    assert found == {
        "Siti Aminah": "PERSON", "+60 12-345 6789": "PHONE_NUMBER",
        "John A. Smith": "PERSON", "john.smith@acme-corp.com": "EMAIL_ADDRESS",
        "4111 1111 1111 1111": "CREDIT_CARD", "GB82 WEST 1234 5698 7654 32": "IBAN_CODE",
        "1234-5678-9012": "ACCOUNT_NUMBER", "850101-14-5678": "NATIONAL_ID",
        "Maria Gonzalez": "PERSON", "Ahmad bin Ismail": "PERSON",
    }
    for original in found:
        assert original not in result.text
    for kept in ("CORNER BAKERY SDN BHD", "Jane Doe", "TOTAL 9.00", "25/12/2018"):
        assert kept in result.text  # the record's values, and what is no personal data

    card = result.surrogates["4111 1111 1111 1111"]
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", card) and luhn.is_valid(card.replace(" ", ""))
    account = result.surrogates["GB82 WEST 1234 5698 7654 32"]
    assert account.startswith("GB") and iban.is_valid(account)
    assert len(account) == len("GB82 WEST 1234 5698 7654 32")
    assert re.fullmatch(r"\+60 1\d-\d{3} \d{4}", result.surrogates["+60 12-345 6789"])
    assert re.fullmatch(r"[a-z]+\.[a-z]+@[a-z]+-[a-z]+\.com",
                        result.surrogates["john.smith@acme-corp.com"])
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z]\. [A-Z][a-z]+", result.surrogates["John A. Smith"])


def test_surrogates_are_consistent_within_a_run_and_differ_between_keys() -> None:
    one = Scrubber(b"run one")
    first = one.scrub("Call Maria Gonzalez on +1 415-555-0132.")
    again = one.scrub("Maria Gonzalez wrote from +1 415-555-0132 today.")
    assert first.surrogates == again.surrogates
    other = Scrubber(b"run two").scrub("Call Maria Gonzalez on +1 415-555-0132.")
    assert other.surrogates["Maria Gonzalez"] != first.surrogates["Maria Gonzalez"]


def test_a_training_target_is_scrubbed_in_its_prompt_and_answer_alike() -> None:
    from collections import Counter

    from pipeline.training.corrections import scrub_target

    prompt = "Receipt:\nServed by: Maria Gonzalez\nTel: +1 415-555-0132\nTOTAL 9.00\n"
    target = Target("correction:x", prompt, [
        Piece('{"total": "9.00", "note": "call +1 415-555-0132"}', True)])
    counts: Counter[str] = Counter()
    scrubbed = scrub_target(Scrubber(b"k"), target, ["9.00"], counts)
    assert "Maria Gonzalez" not in scrubbed.prompt and "415-555-0132" not in scrubbed.prompt
    phone = re.search(r"\+1 \d{3}-\d{3}-\d{4}", scrubbed.prompt)
    assert phone is not None and phone.group(0) in scrubbed.text  # the same surrogate
    assert '"total": "9.00"' in scrubbed.text and "9.00" in scrubbed.prompt
    assert counts == {"PERSON": 1, "PHONE_NUMBER": 1}


def test_the_labelled_set_on_real_documents(settings) -> None:  # type: ignore[no-untyped-def]
    texts = build(settings, datasets={"manuals": 4, "cuad": 4})
    assert len(texts) == 8 and all(t.planted and t.fields for t in texts)
    report = evaluate(texts, Scrubber(b"k"))
    assert sum(report.planted.values()) >= 24
    assert report.recall >= 0.9, report.missed
    assert report.intact >= 0.99, report.broken_fields


def test_part_of_a_record_value_is_never_replaced() -> None:
    """The record holds "John Smith": "Dear Mr. Smith" keeps its "Smith" in the prompt, and the
    answer keeps the value whole."""
    scrubber = Scrubber(b"k")
    text = "Agreement signed by John Smith.\nDear Mr. Smith, call Maria Gonzalez.\n"
    result = scrubber.scrub(text, protected=["John Smith"])
    assert [f.text for f in result.findings] == ["Maria Gonzalez"]
    assert "Mr. Smith" in result.text and "John Smith" in result.text
    answer = scrubber.apply('{"party": "John Smith", "other": "Maria Gonzalez"}',
                            result.surrogates)
    assert '"party": "John Smith"' in answer and "Maria Gonzalez" not in answer


def test_what_a_record_value_leaves_of_a_card_number_is_still_replaced() -> None:
    text = "Paid VISA 4111 1111 1111 1111 today\n"
    result = Scrubber(b"k").scrub(text, protected=["VISA 4111"])
    assert result.text.startswith("Paid VISA 4111 ") and "1111 1111 1111" not in result.text
    assert re.fullmatch(r"Paid VISA 4111 \d{4} \d{4} \d{4} today\n", result.text)
