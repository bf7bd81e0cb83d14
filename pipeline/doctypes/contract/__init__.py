"""Contracts: who agreed to what, from when, for how long, under which law.

The package holds the draft and record models with their rules (`schema`), the analytics
rows (`rows`), the passage cues for long contracts (`cues`), and two datasets with their
scorers: Kleister-NDA (`kleister`: parties, dates, term, law) and CUAD (`cuad`: commercial
contracts with renewal terms and the six reviewed clauses). One type for both: a reviewer
opening any agreement wants its parties, dates and law and its risky clauses alike, and
an NDA has assignment and non-compete clauses too; each dataset teaches only the fields it
labels (the others are left out of its loss).
"""

from __future__ import annotations

from pipeline.doctypes.base import DocType, QueryConfig
from pipeline.doctypes.contract import clauses, cuad, kleister, lookalikes, rows, schema
from pipeline.doctypes.contract.cues import CUES

DOCTYPE = DocType(
    name="contract",
    description="a contract or agreement between parties: NDA, services, lease",
    draft_model=schema.ContractDraft,
    record_model=schema.Contract,
    to_record=schema.to_record,
    check_rules=schema.check_rules,
    instruction=(
        "Extract the contract's fields as JSON. Copy values exactly as stated; "
        "use null when a field is not in the contract."
    ),
    table="contracts",
    child_tables={"parties": "contract_parties", "clauses": "contract_clauses"},
    adapter="contract",
    # The 1,600 characters of the opening hold the parties and dates; the clauses are read
    # in passes of their own (`focused`).
    context_chars=6000,
    head_chars=1600,
    output_tokens=1024,
    cues=CUES,
    query=QueryConfig(
        view="contracts", date_column="effective_date", name_column="parties",
        name_is_array=True, row_model=rows.ContractRow, children_view="contract_parties",
        children_order="position", child_model=rows.ContractPartyRow,
        sortable=("effective_date", "title", "jurisdiction", "status", "uploaded_at",
                  "filename", "agreement_date", "expiration_date"),
        default_sort="-effective_date", name_means="any party",
        extra_views=("contract_clauses",),
    ),
    summary_fields=("title", "effective_date", "term", "jurisdiction", "parties"),
    router_windows=(0.2, 0.4, 0.6),
    date_fields=("agreement_date", "effective_date", "expiration_date"),
    router_lookalikes=lookalikes.sources,
    focused=clauses.FOCUSED,
)

DATASETS = (kleister.DATASET, cuad.DATASET)
