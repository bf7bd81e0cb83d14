"""Contracts: who agreed to what, from when, for how long, under which law.

The package holds the draft and record models with their rules (`schema`), the analytics
rows (`rows`), the passage cues for long contracts (here) and the Kleister-NDA dataset with
its scorer (`kleister`).
"""

from __future__ import annotations

import re

from pipeline.doctypes.base import DocType, QueryConfig
from pipeline.doctypes.contract import kleister, lookalikes, rows, schema

# Phrases that mark a line worth reading in a long contract, with a weight each: parties and
# the effective date open a contract, governing law and term sit in clauses further in, and
# the signatories in the signature block at its end ("By:", "Name:").
CUES = tuple(
    (re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in [
        (r"govern\w*\b.{0,40}\blaws?\b|\blaws? of (the )?(state|commonwealth|province)", 4.0),
        (r"\bjurisdiction|\bvenue\b|\bcourts? (of|in|located)", 2.0),
        (r"\bterm of\b|\bperiod of\b|\bshall (remain|continue|survive|expire|terminate)", 3.0),
        (r"\b(\w+ )?\(?\d+\)? (years?|months?)\b", 2.5),
        (r"\beffective (date|as of)|\bdated as of\b|\bentered into\b|\bmade (as of|on)\b", 3.0),
        (r"\bby and between\b|\bbetween\b.{0,80}\band\b|\b(inc|corp|llc|ltd|l\.p)\b\.?", 1.5),
        (r"\bterminat\w+|\bexpir\w+", 1.0),
        (r"^\s*(name|by|signature|signed|print(ed)? name)\s*[:.]", 2.5),
        (r"\bin witness whereof\b|\bduly (authorized|executed)\b", 2.0),
    ]
)

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
    child_tables={"parties": "contract_parties"},
    adapter="contract",
    context_chars=3000,
    cues=CUES,
    query=QueryConfig(
        view="contracts", date_column="effective_date", name_column="parties",
        name_is_array=True, row_model=rows.ContractRow, children_view="contract_parties",
        children_order="position", child_model=rows.ContractPartyRow,
        sortable=("effective_date", "title", "jurisdiction", "status", "uploaded_at",
                  "filename"),
        default_sort="-effective_date", name_means="any party",
    ),
    summary_fields=("title", "effective_date", "term", "jurisdiction", "parties"),
    router_windows=(0.2, 0.4, 0.6),
    date_fields=("effective_date",),
    router_lookalikes=lookalikes.sources,
)

DATASETS = (kleister.DATASET,)
