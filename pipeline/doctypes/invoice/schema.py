"""Invoices: what accounts payable books from a supplier's bill.

The draft is flat (seller and buyer fields side by side) so each value is one column of the
typed table and one field on the review page. Money, rates and ids are copied as printed;
the record parses them, and the rules check what a payables clerk checks: the lines and the
tax add up to the total, the due date does not precede the issue date, the currency is real,
and tax ids and IBANs pass their country's check digits where the format is known.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError
from stdnum.util import get_cc_module

from schemas.common import (
    Amount,
    Currency,
    DateText,
    RuleViolation,
    Text,
    clean_text,
    close_enough,
    is_known_currency,
    normalize_currency,
    parse_date,
    parse_money,
    parse_quantity,
)

Address = Annotated[str, StringConstraints(max_length=200)] | None
Short = Annotated[str, StringConstraints(max_length=40)] | None
RATE_PATTERN = r"^[0-9]{1,2}([.,][0-9]{1,3})?$"  # a tax rate in percent, without the sign
Rate = Annotated[str, StringConstraints(pattern=RATE_PATTERN)] | None

# A tax id that names its country ("DE123456789", "GB 123 4567 89"): checked by that
# country's VAT module. A US EIN ("12-3456789") is checked as one.
_VAT_PREFIX = re.compile(r"^([A-Z]{2})[0-9A-Z]")
_EIN = re.compile(r"^\d{2}-\d{7}$")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[0-9A-Z]{8,30}$")


class InvoiceItemDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Text
    quantity: Amount
    unit_price: Amount
    amount: Amount


class InvoiceDraft(BaseModel):
    """What the model writes: values copied as printed. Field order is decoding order:
    the header first, totals before items (a cut answer loses trailing items, not the total)."""

    model_config = ConfigDict(extra="forbid")
    invoice_number: Short
    issue_date: DateText
    due_date: DateText
    po_number: Short
    seller_name: Text
    seller_address: Address
    seller_tax_id: Short
    buyer_name: Text
    buyer_address: Address
    currency: Currency
    net: Amount
    tax_rate: Rate
    tax: Amount
    total: Amount
    payment_terms: Text
    bank_account: Short
    items: Annotated[list[InvoiceItemDraft], Field(max_length=30)]


class InvoiceItem(BaseModel):
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None


class Invoice(BaseModel):
    """A validated invoice: dates ISO with the printed text kept, money Decimal in the
    invoice's currency, the tax rate in percent, ids compacted (no spaces)."""

    invoice_number: str | None = None
    issue_date: dt.date | None = None
    issue_date_text: str | None = Field(default=None, description="the issue date as printed")
    due_date: dt.date | None = None
    due_date_text: str | None = Field(default=None, description="the due date as printed")
    po_number: str | None = None
    seller_name: str | None = None
    seller_address: str | None = None
    seller_tax_id: str | None = None
    buyer_name: str | None = None
    buyer_address: str | None = None
    currency: str | None = Field(default=None, description="ISO 4217 code")
    items: list[InvoiceItem] = Field(default_factory=list)
    net: Decimal | None = None
    tax_rate: Decimal | None = Field(default=None, description="percent")
    tax: Decimal | None = None
    total: Decimal | None = None
    payment_terms: str | None = None
    bank_account: str | None = None


def compact_id(text: str | None) -> str | None:
    """'GB 123 4567 89' → 'GB123456789': ids are compared and stored without spacing."""
    text = clean_text(text)
    return re.sub(r"[\s.]", "", text).upper() if text else None


def to_record(draft: InvoiceDraft) -> Invoice:
    currency = normalize_currency(draft.currency)
    month_first = currency == "USD"  # US invoices print 04/02/2025 for April 2nd
    account = clean_text(draft.bank_account)
    if account and _IBAN_SHAPE.match(re.sub(r"\s", "", account).upper()):
        account = re.sub(r"\s", "", account).upper()
    return Invoice(
        invoice_number=clean_text(draft.invoice_number),
        issue_date=parse_date(draft.issue_date, month_first=month_first),
        issue_date_text=clean_text(draft.issue_date),
        due_date=parse_date(draft.due_date, month_first=month_first),
        due_date_text=clean_text(draft.due_date),
        po_number=clean_text(draft.po_number),
        seller_name=clean_text(draft.seller_name),
        seller_address=clean_text(draft.seller_address),
        seller_tax_id=compact_id(draft.seller_tax_id),
        buyer_name=clean_text(draft.buyer_name),
        buyer_address=clean_text(draft.buyer_address),
        currency=currency,
        items=[InvoiceItem(description=clean_text(item.description),
                           quantity=parse_quantity(item.quantity),
                           unit_price=parse_money(item.unit_price),
                           amount=parse_money(item.amount)) for item in draft.items],
        net=parse_money(draft.net),
        tax_rate=parse_money(draft.tax_rate),
        tax=parse_money(draft.tax),
        total=parse_money(draft.total),
        payment_terms=clean_text(draft.payment_terms),
        bank_account=account,
    )


def tax_id_problem(tax_id: str) -> str | None:
    """Why this tax id fails its country's check, or None when it passes or its format is not
    one python-stdnum knows (an unknown format is not an error)."""
    if _EIN.match(tax_id):
        from stdnum.us import ein
        return None if ein.is_valid(tax_id) else "is not a valid US EIN"
    found = _VAT_PREFIX.match(tax_id)
    if not found:
        return None
    country = found.group(1).lower()
    try:
        module = get_cc_module("gr" if country == "el" else country, "vat")
    except (ImportError, ValueError):
        return None
    if module is None:
        return None
    try:
        module.validate(tax_id)
    except ValidationError as exc:
        return f"is not a valid {found.group(1)} VAT number ({str(exc).rstrip('.').lower()})"
    return None


def iban_problem(account: str) -> str | None:
    """Why an IBAN-shaped account fails the IBAN check, or None (other account formats, such
    as a US routing and account number, have no check here)."""
    if not _IBAN_SHAPE.match(account):
        return None
    try:
        stdnum_iban.validate(account)
    except ValidationError as exc:
        return f"is not a valid IBAN ({str(exc).rstrip('.').lower()})"
    return None


def check_rules(invoice: Invoice, today: dt.date | None = None) -> list[RuleViolation]:
    """The checks accounts payable runs before an invoice is booked."""
    today = today or dt.date.today()
    found: list[RuleViolation] = []

    def flag(rule: str, message: str, *fields: str) -> None:
        found.append(RuleViolation(rule=rule, message=message, fields=list(fields)))

    if invoice.total is None:
        flag("total_missing", "No total amount was found.", "total")
    if invoice.invoice_number is None:
        flag("invoice_number_missing", "No invoice number was found.", "invoice_number")
    if invoice.seller_name is None:
        flag("seller_missing", "No seller was found.", "seller_name")
    for name in ("issue_date", "due_date"):
        printed, value = getattr(invoice, f"{name}_text"), getattr(invoice, name)
        words = name.replace("_", " ")
        if printed and value is None:
            flag(f"{name}_invalid",
                 f"The {words} '{printed}' is not a real date with a day, month and year.", name)
    if invoice.issue_date is None and invoice.issue_date_text is None:
        flag("issue_date_missing", "No issue date was found.", "issue_date")
    elif invoice.issue_date is not None and invoice.issue_date > today:
        flag("issue_date_in_future",
             f"The issue date {invoice.issue_date.isoformat()} is in the future.", "issue_date")
    if (invoice.issue_date and invoice.due_date and invoice.due_date < invoice.issue_date):
        flag("due_before_issue",
             f"The due date {invoice.due_date.isoformat()} is before the issue date "
             f"{invoice.issue_date.isoformat()}.", "due_date", "issue_date")
    if invoice.currency and not is_known_currency(invoice.currency):
        flag("currency_unknown", f"'{invoice.currency}' is not an ISO 4217 currency.", "currency")
    if invoice.seller_tax_id and (problem := tax_id_problem(invoice.seller_tax_id)):
        flag("seller_tax_id_invalid", f"The seller's tax id {invoice.seller_tax_id} {problem}.",
             "seller_tax_id")
    if invoice.bank_account and (problem := iban_problem(invoice.bank_account)):
        flag("iban_invalid", f"The account {invoice.bank_account} {problem}.", "bank_account")
    _check_sums(invoice, flag)
    return found


def _check_sums(invoice: Invoice, flag: Any) -> None:
    """Lines, net, tax and total agree within rounding (a cent a line at most)."""
    for n, item in enumerate(invoice.items):
        if (item.quantity is not None and item.unit_price is not None
                and item.amount is not None
                and not close_enough(item.quantity * item.unit_price, item.amount)):
            flag("item_amount_mismatch",
                 f"Line {n + 1}: {item.quantity} × {item.unit_price} ≠ {item.amount}.",
                 f"items[{n}]")
    amounts = [item.amount for item in invoice.items if item.amount is not None]
    complete = bool(amounts) and len(amounts) == len(invoice.items)
    lines = sum(amounts, Decimal(0))
    slack = Decimal("0.01") * max(len(amounts), 5)
    tax = invoice.tax or Decimal(0)
    if complete and invoice.net is not None and not close_enough(lines, invoice.net, slack):
        flag("items_do_not_add_up", f"The lines add up to {lines}, the net says {invoice.net}.",
             "items", "net")
    net = invoice.net if invoice.net is not None else (lines if complete else None)
    if invoice.total is not None and net is not None \
            and not close_enough(net + tax, invoice.total, slack):
        flag("totals_do_not_add_up", f"Net {net} + tax {tax} ≠ total {invoice.total}.",
             "net", "tax", "total")
    if (invoice.tax_rate is not None and invoice.tax is not None and net is not None
            and not close_enough(net * invoice.tax_rate / 100, invoice.tax, slack)):
        flag("tax_does_not_match_rate",
             f"{invoice.tax_rate}% of {net} is {(net * invoice.tax_rate / 100):.2f}, "
             f"the tax says {invoice.tax}.", "tax_rate", "tax")
