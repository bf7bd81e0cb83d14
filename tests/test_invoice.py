"""Invoices: the rules a payables clerk checks, and the generator the adapter learns from."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from pipeline.doctypes.base import json_labels
from pipeline.doctypes.invoice import generated, generator, render, schema
from pipeline.settings import Settings

TODAY = dt.date(2026, 1, 1)


def _draft(**overrides: Any) -> schema.InvoiceDraft:
    values: dict[str, Any] = {
        "invoice_number": "INV-2025-0042", "issue_date": "14.03.2025", "due_date": "13.04.2025",
        "po_number": None, "seller_name": "Müller Metallbau GmbH",
        "seller_address": "Hauptstraße 21 10115 Berlin", "seller_tax_id": "DE136695976",
        "buyer_name": "Acme GmbH", "buyer_address": "Ring 3 80331 München", "currency": "€",
        "net": "1.000,00", "tax_rate": "19", "tax": "190,00", "total": "1.190,00",
        "payment_terms": "30 Tage netto", "bank_account": "DE89 3704 0044 0532 0130 00",
        "items": [{"description": "Stahlträger", "quantity": "4", "unit_price": "250,00",
                   "amount": "1.000,00"}],
    }
    return schema.InvoiceDraft.model_validate({**values, **overrides})


def _rules(**overrides: Any) -> set[str]:
    record = schema.to_record(_draft(**overrides))
    return {v.rule for v in schema.check_rules(record, TODAY)}


def test_a_consistent_invoice_breaks_no_rule_and_is_parsed() -> None:
    record = schema.to_record(_draft())
    assert schema.check_rules(record, TODAY) == []
    assert record.issue_date == dt.date(2025, 3, 14) and record.currency == "EUR"
    assert str(record.total) == "1190.00" and str(record.tax_rate) == "19"
    assert record.bank_account == "DE89370400440532013000"  # an IBAN is stored compact


@pytest.mark.parametrize(("overrides", "rule"), [
    ({"due_date": "01.03.2025"}, "due_before_issue"),
    ({"total": "1.290,00"}, "totals_do_not_add_up"),
    ({"tax": "180,00", "total": "1.180,00"}, "tax_does_not_match_rate"),
    ({"net": "900,00", "tax": "171,00", "total": "1.071,00"}, "items_do_not_add_up"),
    ({"seller_tax_id": "DE136695977"}, "seller_tax_id_invalid"),
    ({"seller_tax_id": "GB 123 4567 80"}, "seller_tax_id_invalid"),
    ({"bank_account": "DE89 3704 0044 0532 0130 01"}, "iban_invalid"),
    ({"currency": "XYZ"}, "currency_unknown"),
    ({"issue_date": "14th of March"}, "issue_date_invalid"),
    ({"total": None}, "total_missing"),
    ({"invoice_number": None}, "invoice_number_missing"),
])
def test_each_broken_rule_is_named(overrides: dict[str, Any], rule: str) -> None:
    assert rule in _rules(**overrides)


def test_unknown_id_formats_are_not_errors() -> None:
    # An account without an IBAN's shape, a tax id no check is known for: nothing to flag.
    assert _rules(bank_account="Routing 021000021 Account 4820019377",
                  seller_tax_id="12 345 678") == set()


def test_us_invoices_are_read_month_first() -> None:
    record = schema.to_record(_draft(currency="$", issue_date="04/02/2025",
                                     due_date="05/02/2025", seller_tax_id="12-3456789",
                                     bank_account="4820019377"))
    assert record.issue_date == dt.date(2025, 4, 2) and record.due_date == dt.date(2025, 5, 2)


def test_every_generated_invoice_is_consistent_and_scores_perfectly_against_itself() -> None:
    """The generator's labels break no rule (valid check digits, sums that add up), and a
    record made from them scores 1.0 on every field: the scorer and the rules agree."""
    for seed in range(60):
        data = generator.make(seed)
        record = schema.to_record(schema.InvoiceDraft.model_validate(data.labels))
        assert schema.check_rules(record, TODAY) == [], seed
        scored = generated.score(json_labels(data.labels),
                                 json.loads(record.model_dump_json()))
        assert all(scored.correct.values()), (seed, scored.errors)


def test_a_wrong_value_costs_its_field_and_an_extra_item_costs_precision() -> None:
    data = generator.make(3)
    record = json.loads(schema.to_record(
        schema.InvoiceDraft.model_validate(data.labels)).model_dump_json())
    record["total"] = "1.00"
    record["items"].append({"description": "invented", "amount": "2.00"})
    scored = generated.score(json_labels(data.labels), record)
    assert scored.correct["total"] is False and scored.correct["extra item 0"] is False
    assert scored.correct["invoice_number"] is True


def test_a_generated_pdf_converts_to_text_holding_its_labels() -> None:
    from pipeline.convert import convert

    seed = next(s for s in range(50) if not generator.make(s).scanned)
    data = generator.make(seed)
    document = convert(render.to_pdf(data, seed), "invoice.pdf", Settings())
    text = " ".join(document.text().split())
    for name in ("invoice_number", "seller_name", "total", "issue_date"):
        assert " ".join(data.labels[name].split()) in text, name
