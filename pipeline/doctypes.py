"""The registry of document types: name → schema, prompt, adapter, tables.

Adding a type is a schema module in `schemas/`, an entry here, its tables in a migration,
and (optionally) an adapter in `adapters/<name>/`. The router, extractor, storage and API
read everything else from this registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pipeline import views
from schemas import contract, receipt
from schemas.common import RuleViolation


@dataclass(frozen=True)
class QueryConfig:
    """How analysts query a type (pipeline.query, the records API, `docket export`)."""

    view: str  # in schema analytics: one row per record
    date_column: str  # date_from / date_to
    name_column: str  # the `name` filter: a text column, or a text[] one (any element)
    row_model: type[BaseModel]  # a row of `view` (views.py)
    children_view: str  # in schema analytics: the record's list rows
    children_order: str  # their order column
    child_model: type[BaseModel]
    sortable: tuple[str, ...]  # whitelisted `sort` columns
    default_sort: str  # '-col' for descending
    amount_column: str | None = None  # min_total / max_total; None: the type has no amount
    name_is_array: bool = False


@dataclass(frozen=True)
class DocType:
    name: str
    description: str  # one line, used by the router's prompt and shown in help
    draft_model: type[BaseModel]  # what the model writes (constrained decoding schema)
    record_model: type[BaseModel]  # what is validated and stored
    to_record: Callable[[Any], BaseModel]
    check_rules: Callable[[Any, dt.date | None], list[RuleViolation]]
    instruction: str  # the extraction prompt's instruction
    table: str  # typed table for the record's scalar fields, keyed by document_id
    child_tables: dict[str, str] = field(default_factory=dict)  # list field → child table
    adapter: str | None = None  # folder name under adapters/, if one is trained
    context_chars: int = 6000  # of the document the model reads (see pipeline.passages)
    query: QueryConfig | None = None  # None: not in the analytics views

    def json_schema(self) -> dict[str, Any]:
        return self.draft_model.model_json_schema()


RECEIPT = DocType(
    name="receipt",
    description="a shop or restaurant receipt: merchant, items, total paid",
    draft_model=receipt.ReceiptDraft,
    record_model=receipt.Receipt,
    to_record=receipt.to_record,
    check_rules=receipt.check_rules,
    instruction=(
        "Extract the receipt's fields as JSON. Copy values exactly as printed; "
        "use null when a field is not on the receipt."
    ),
    table="receipts",
    child_tables={"items": "receipt_items"},
    adapter="receipt",
    query=QueryConfig(
        view="receipts", date_column="date", name_column="merchant_name",
        row_model=views.ReceiptRow, children_view="receipt_items", children_order="line",
        child_model=views.ReceiptItemRow,
        sortable=("date", "merchant_name", "total", "currency", "status", "uploaded_at",
                  "item_count", "filename"),
        default_sort="-date", amount_column="total",
    ),
)

CONTRACT = DocType(
    name="contract",
    description="a contract or agreement between parties: NDA, services, lease",
    draft_model=contract.ContractDraft,
    record_model=contract.Contract,
    to_record=contract.to_record,
    check_rules=contract.check_rules,
    instruction=(
        "Extract the contract's fields as JSON. Copy values exactly as stated; "
        "use null when a field is not in the contract."
    ),
    table="contracts",
    child_tables={"parties": "contract_parties"},
    adapter="contract",
    context_chars=2000,
    query=QueryConfig(
        view="contracts", date_column="effective_date", name_column="parties",
        name_is_array=True, row_model=views.ContractRow, children_view="contract_parties",
        children_order="position", child_model=views.ContractPartyRow,
        sortable=("effective_date", "title", "jurisdiction", "status", "uploaded_at",
                  "filename"),
        default_sort="-effective_date",
    ),
)

REGISTRY: dict[str, DocType] = {t.name: t for t in (RECEIPT, CONTRACT)}
UNKNOWN = "unknown"


def get(name: str) -> DocType:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"Unknown document type '{name}'; known types: {known}") from None
