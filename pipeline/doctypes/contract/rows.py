"""The rows of the contract's `analytics` views, as the query API returns them.

Every field is required (a view row always has every column, perhaps null), so a contract row
can never be mistaken for another type's row when a response holds either.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel


class ContractRow(BaseModel):
    """A row of `analytics.contracts`."""

    document_id: uuid.UUID
    filename: str
    status: str
    uploaded_at: dt.datetime
    title: str | None
    effective_date: dt.date | None
    effective_date_text: str | None
    term: str | None
    jurisdiction: str | None
    termination_notice: str | None
    signatories: list[str]
    parties: list[str]
    adapter: str | None
    reviewed: bool
    agreement_date: dt.date | None
    agreement_date_text: str | None
    expiration_date: dt.date | None
    expiration_date_text: str | None
    renewal_term: str | None
    renewal_notice: str | None
    clauses_present: list[str]


class ContractPartyRow(BaseModel):
    """A row of `analytics.contract_parties` (position counts from 1)."""

    document_id: uuid.UUID
    position: int
    name: str
    role: str | None
    effective_date: dt.date | None
    jurisdiction: str | None
    term: str | None
    aliases: list[str]
