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
    # One worked example (document text, draft JSON) shown before the document: a base model
    # with no adapter copies its format instead of inventing one.
    example: tuple[str, dict[str, Any]] | None = None

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
    example=(
        "CORNER MART\n45 High Rd, Leeds\n03/11/2023 14:02\n2 x Milk 1.20 2.40\nBread 1.10\n"
        "TOTAL GBP 3.50\nCASH",
        {
            "merchant_name": "CORNER MART", "merchant_address": "45 High Rd, Leeds",
            "date": "03/11/2023", "currency": "GBP",
            "items": [
                {"description": "Milk", "quantity": "2", "unit_price": "1.20", "amount": "2.40"},
                {"description": "Bread", "quantity": "1", "unit_price": "1.10", "amount": "1.10"},
            ],
            "subtotal": None, "tax": None, "total": "3.50", "payment_method": "CASH",
        },
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
    example=(
        "CONSULTING AGREEMENT\nThis Consulting Agreement is made as of March 1, 2021 between "
        "Blue Harbor LLC (the \"Company\") and Jane Ortiz (the \"Consultant\"). The term of "
        "this Agreement is one year. Either party may terminate on 15 days' written notice. "
        "This Agreement is governed by the laws of the State of Oregon.\n"
        "BLUE HARBOR LLC By: Tom Reyes, CEO\nJane Ortiz",
        {
            "title": "Consulting Agreement",
            "parties": [
                {"name": "Blue Harbor LLC", "role": "Company"},
                {"name": "Jane Ortiz", "role": "Consultant"},
            ],
            "effective_date": "March 1, 2021", "term": "one year", "jurisdiction": "Oregon",
            "termination_notice": "15 days' written notice",
            "signatories": ["Tom Reyes", "Jane Ortiz"],
        },
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
