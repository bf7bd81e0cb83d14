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

from schemas import contract, receipt
from schemas.common import RuleViolation


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
)

REGISTRY: dict[str, DocType] = {t.name: t for t in (RECEIPT, CONTRACT)}
UNKNOWN = "unknown"


def get(name: str) -> DocType:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"Unknown document type '{name}'; known types: {known}") from None
