"""The rows of the receipt's `analytics` views, as the query API returns them.

Every field is required (a view row always has every column, perhaps null), so a receipt row
can never be mistaken for another type's row when a response holds either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel


class ReceiptRow(BaseModel):
    """A row of `analytics.receipts`."""

    document_id: uuid.UUID
    filename: str
    status: str
    uploaded_at: dt.datetime
    merchant_name: str | None
    merchant_address: str | None
    date: dt.date | None
    date_text: str | None
    currency: str | None
    subtotal: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    payment_method: str | None
    item_count: int
    adapter: str | None
    reviewed: bool


class ReceiptItemRow(BaseModel):
    """A row of `analytics.receipt_items` (line counts from 1)."""

    document_id: uuid.UUID
    line: int
    merchant_name: str | None
    date: dt.date | None
    currency: str | None
    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None


class SpendRow(BaseModel):
    """Receipts of one merchant in one month and currency."""

    merchant_name: str | None
    month: dt.date
    currency: str | None
    receipts: int
    total: Decimal | None
