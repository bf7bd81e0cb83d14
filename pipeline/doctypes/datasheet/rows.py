"""The rows of the datasheet's `analytics` views, as the query API returns them.

Every field is required (a view row always has every column, perhaps null), so a datasheet
row can never be mistaken for another type's row when a response holds either.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel


class DatasheetRow(BaseModel):
    """A row of `analytics.datasheets`."""

    document_id: uuid.UUID
    filename: str
    status: str
    uploaded_at: dt.datetime
    product_name: str | None
    model_numbers: list[str]
    manufacturer: str | None
    document_revision: str | None
    document_revision_date: dt.date | None
    document_revision_date_text: str | None
    microcontroller: str | None
    specification_count: int
    condition_count: int
    adapter: str | None
    reviewed: bool


class SpecificationRow(BaseModel):
    """A row of `analytics.datasheet_specifications` (position counts from 1)."""

    document_id: uuid.UUID
    position: int
    product_name: str | None
    group: str | None
    name: str | None
    value: str
    unit: str | None


class ConditionRow(BaseModel):
    """A row of `analytics.datasheet_conditions`: operating conditions and absolute maximum
    ratings, told apart by `kind`."""

    document_id: uuid.UUID
    kind: str
    position: int
    product_name: str | None
    parameter: str | None
    symbol: str | None
    min: str | None
    typ: str | None
    max: str | None
    unit: str | None
