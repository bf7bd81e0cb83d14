"""Receipts: what a back office books from a till slip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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


class ReceiptItemDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Text
    quantity: Amount
    unit_price: Amount
    amount: Amount


class ReceiptDraft(BaseModel):
    """What the model writes: values copied as printed. Field order is decoding order."""

    model_config = ConfigDict(extra="forbid")
    merchant_name: Text
    merchant_address: Annotated[str, StringConstraints(max_length=200)] | None
    date: DateText
    currency: Currency
    # Totals before items: a small model may not end a list, and a cut answer should lose
    # trailing items, not the total.
    subtotal: Amount
    tax: Amount
    total: Amount
    payment_method: Annotated[str, StringConstraints(max_length=40)] | None
    items: Annotated[list[ReceiptItemDraft], Field(max_length=30)]


class ReceiptItem(BaseModel):
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None


class Receipt(BaseModel):
    """A validated receipt; money is Decimal, the date ISO with the printed text kept."""

    merchant_name: str | None = None
    merchant_address: str | None = None
    date: dt.date | None = None
    date_text: str | None = Field(default=None, description="the date as printed")
    currency: str | None = Field(default=None, description="ISO 4217 code")
    items: list[ReceiptItem] = Field(default_factory=list)
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    payment_method: str | None = None


def to_record(draft: ReceiptDraft) -> Receipt:
    currency = normalize_currency(draft.currency)
    return Receipt(
        merchant_name=clean_text(draft.merchant_name),
        merchant_address=clean_text(draft.merchant_address),
        # US receipts print 04/02/2025 for April 2nd.
        date=parse_date(draft.date, month_first=currency == "USD"),
        date_text=clean_text(draft.date),
        currency=currency,
        items=[
            ReceiptItem(
                description=clean_text(item.description),
                quantity=parse_quantity(item.quantity),
                unit_price=parse_money(item.unit_price),
                amount=parse_money(item.amount),
            )
            for item in draft.items
        ],
        subtotal=parse_money(draft.subtotal),
        tax=parse_money(draft.tax),
        total=parse_money(draft.total),
        payment_method=clean_text(draft.payment_method),
    )


def check_rules(receipt: Receipt, today: dt.date | None = None) -> list[RuleViolation]:
    """The rules a back office checks before booking a receipt."""
    today = today or dt.date.today()
    found: list[RuleViolation] = []

    def flag(rule: str, message: str, *fields: str) -> None:
        found.append(RuleViolation(rule=rule, message=message, fields=list(fields)))

    if receipt.total is None:
        flag("total_missing", "No total amount was found.", "total")
    if receipt.date_text and receipt.date is None:
        flag("date_invalid",
             f"'{receipt.date_text}' is not a real date with a day, month and year.", "date")
    elif receipt.date is None:
        flag("date_missing", "No date was found.", "date")
    elif receipt.date > today:
        flag("date_in_future", f"The date {receipt.date.isoformat()} is in the future.", "date")
    if receipt.currency and not is_known_currency(receipt.currency):
        flag("currency_unknown", f"'{receipt.currency}' is not an ISO 4217 currency.", "currency")

    for n, item in enumerate(receipt.items):
        if (
            item.quantity is not None and item.unit_price is not None and item.amount is not None
            and not close_enough(item.quantity * item.unit_price, item.amount)
        ):
            flag(
                "item_amount_mismatch",
                f"Item {n + 1}: {item.quantity} × {item.unit_price} ≠ {item.amount}.",
                f"items[{n}]",
            )

    amounts = [item.amount for item in receipt.items if item.amount is not None]
    tax = receipt.tax or Decimal(0)
    if receipt.total is not None:
        if receipt.subtotal is not None:
            if not close_enough(receipt.subtotal + tax, receipt.total) and not close_enough(
                receipt.subtotal, receipt.total
            ):
                flag(
                    "totals_do_not_add_up",
                    f"Subtotal {receipt.subtotal} + tax {tax} ≠ total {receipt.total}.",
                    "subtotal", "tax", "total",
                )
        elif amounts and len(amounts) == len(receipt.items):
            items_sum = sum(amounts, Decimal(0))
            if not (close_enough(items_sum + tax, receipt.total)
                    or close_enough(items_sum, receipt.total)):
                flag(
                    "items_do_not_add_up",
                    f"Items {items_sum} + tax {tax} ≠ total {receipt.total}.",
                    "items", "tax", "total",
                )
    if receipt.subtotal is not None and amounts and len(amounts) == len(receipt.items):
        items_sum = sum(amounts, Decimal(0))
        if not close_enough(items_sum, receipt.subtotal):
            flag(
                "items_do_not_add_up",
                f"Items add up to {items_sum}, the subtotal says {receipt.subtotal}.",
                "items", "subtotal",
            )
    return found

