"""Records and business rules: parsing what documents print, flagging what does not add up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pipeline.doctypes.contract import schema as contract
from pipeline.doctypes.receipt import schema as receipt
from schemas.common import normalize_currency, parse_date, parse_money


@pytest.mark.parametrize(
    ("text", "value"),
    [("RM 1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("$9", "9"), ("12,5", "12.5"),
     ("-3.00", "-3.00"), ("TOTAL", None), (None, None)],
)
def test_parse_money(text: str | None, value: str | None) -> None:
    assert parse_money(text) == (Decimal(value) if value else None)


def test_parse_date_day_first_and_invalid() -> None:
    assert parse_date("25/12/2018") == dt.date(2018, 12, 25)
    assert parse_date("March 1, 2021") == dt.date(2021, 3, 1)
    assert parse_date("04/02/2025", month_first=True) == dt.date(2025, 4, 2)
    assert parse_date("14/03/202508:42") == dt.date(2025, 3, 14)  # OCR ran date into time
    assert parse_date("31/02/2020") is None
    assert parse_date("2025-11-07") == dt.date(2025, 11, 7)  # year first: never day-first
    assert parse_date("2025-11-07", month_first=True) == dt.date(2025, 11, 7)
    assert parse_date("no date") is None


def test_currency_aliases() -> None:
    assert normalize_currency("RM") == "MYR"
    assert normalize_currency("usd") == "USD"
    assert normalize_currency("XYZ") == "XYZ"


def _draft(**overrides: object) -> receipt.ReceiptDraft:
    values: dict[str, object] = {
        "merchant_name": "CORNER MART", "merchant_address": "45 High Rd", "date": "03/11/2023",
        "currency": "GBP",
        "items": [{"description": "Milk", "quantity": "2", "unit_price": "1.20",
                   "amount": "2.40"}],
        "subtotal": "2.40", "tax": "0.48", "total": "2.88", "payment_method": "CASH",
    }
    values.update(overrides)
    return receipt.ReceiptDraft.model_validate(values)


def test_consistent_receipt_breaks_no_rule() -> None:
    record = receipt.to_record(_draft())
    assert record.date == dt.date(2023, 11, 3)
    assert record.date_text == "03/11/2023"
    assert record.total == Decimal("2.88")
    assert receipt.check_rules(record) == []


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [({"total": "9.99"}, "totals_do_not_add_up"),
     ({"total": None}, "total_missing"),
     ({"date": "31/02/2023"}, "date_invalid"),
     ({"date": "01/01/2999"}, "date_in_future"),
     ({"currency": "ZZZ"}, "currency_unknown"),
     ({"subtotal": "5.00", "total": "5.48"}, "items_do_not_add_up"),
     ({"items": [{"description": "Milk", "quantity": "2", "unit_price": "1.20",
                  "amount": "3.00"}], "subtotal": "3.00", "total": "3.48"},
      "item_amount_mismatch")],
)
def test_receipt_rules_name_the_broken_rule(overrides: dict[str, object], rule: str) -> None:
    rules = [v.rule for v in receipt.check_rules(receipt.to_record(_draft(**overrides)))]
    assert rule in rules


def test_draft_refuses_runaway_amounts() -> None:
    with pytest.raises(ValueError):
        _draft(total="1000000000000000000000")


# The clause-review fields, empty: a contract draft without them.
NEW_CONTRACT_FIELDS = {"agreement_date": None, "expiration_date": None, "renewal_term": None,
                       "renewal_notice": None,
                       "clauses": {name: None for name in contract.CLAUSES}}


def test_contract_rules() -> None:
    draft = contract.ContractDraft.model_validate({
        **NEW_CONTRACT_FIELDS,
        "title": "Mutual NDA",
        "parties": [{"name": "Acme Inc.", "role": "Discloser", "aliases": []}],
        "effective_date": "June 31, 2020", "term": "2 years", "jurisdiction": "Delaware",
        "termination_notice": None, "signatories": [],
    })
    record = contract.to_record(draft)
    rules = {v.rule for v in contract.check_rules(record)}
    assert rules == {"parties_missing", "effective_date_invalid"}


def test_a_value_the_schema_refuses_is_left_empty_not_the_whole_record() -> None:
    """xgrammar let a 9-digit unit price through (SROIE dev): that value goes, the rest stays."""
    from pipeline import doctypes
    from pipeline.extract.validation import refuse_invalid_values

    raw = {"merchant_name": "HAPPY SNACKS", "merchant_address": None, "date": "20/03/2018",
           "currency": "RM", "subtotal": "26.80", "tax": None, "total": "26.80",
           "payment_method": "Cash",
           "items": [{"description": "CANDY", "quantity": "2", "unit_price": "955629630",
                      "amount": "12.51"}]}
    refused = refuse_invalid_values(doctypes.get("receipt"), raw)
    assert refused == [("items[0].unit_price", "955629630")]
    draft = doctypes.get("receipt").draft_model.model_validate(raw)
    assert draft.items[0].unit_price is None and draft.items[0].amount == "12.51"
    assert draft.total == "26.80"
    # valid now: nothing to refuse
    assert refuse_invalid_values(doctypes.get("receipt"), raw) == []


def test_contract_party_names_keep_one_short_entity_suffix() -> None:
    draft = contract.ContractDraft.model_validate({
        **NEW_CONTRACT_FIELDS,
        "title": None, "parties": [{"name": name, "role": None, "aliases": []} for name in (
            "II-VI  Incorporated", "PJM Interconnection L.L.C.", "Limited Brands, Inc",
            "Seawell Limited", "____________")],
        "effective_date": None, "term": None, "jurisdiction": None,
        "termination_notice": None, "signatories": [],
    })
    names = [p.name for p in contract.to_record(draft).parties]
    assert names == ["II-VI Inc.", "PJM Interconnection LLC", "Limited Brands, Inc",
                     "Seawell Ltd."]
