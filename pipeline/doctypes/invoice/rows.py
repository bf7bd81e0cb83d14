"""The rows of the invoice's `analytics` views, as the query API returns them.

Every field is required (a view row always has every column, perhaps null), so an invoice row
can never be mistaken for another type's row when a response holds either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel


class InvoiceRow(BaseModel):
    """A row of `analytics.invoices`."""

    document_id: uuid.UUID
    filename: str
    status: str
    uploaded_at: dt.datetime
    invoice_number: str | None
    issue_date: dt.date | None
    issue_date_text: str | None
    due_date: dt.date | None
    due_date_text: str | None
    po_number: str | None
    seller_name: str | None
    seller_address: str | None
    seller_tax_id: str | None
    buyer_name: str | None
    buyer_address: str | None
    currency: str | None
    net: Decimal | None
    tax_rate: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    payment_terms: str | None
    bank_account: str | None
    item_count: int
    adapter: str | None
    reviewed: bool


class InvoiceItemRow(BaseModel):
    """A row of `analytics.invoice_items` (line counts from 1)."""

    document_id: uuid.UUID
    line: int
    invoice_number: str | None
    seller_name: str | None
    issue_date: dt.date | None
    currency: str | None
    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None


class PayablesRow(BaseModel):
    """Invoices of one seller in one month of issue and currency."""

    seller_name: str | None
    month: dt.date
    currency: str | None
    invoices: int
    net: Decimal | None
    tax: Decimal | None
    total: Decimal | None
