"""Technical manuals and datasheets: a product's identity, revision and figures.

The package holds the draft and record models with their rules (`schema`: min ≤ typ ≤ max,
units pint can convert), the analytics rows (`rows`), the passage cues for long datasheets
(here), the condition tables read in passes of their own (`tables`) and the Arduino
datasheet set with its scorer (`manuals`).
"""

from __future__ import annotations

import re

from pipeline.doctypes.base import DocType, QueryConfig
from pipeline.doctypes.datasheet import lookalikes, manuals, rows, schema, tables

# Lines worth reading in a long datasheet: the ratings tables and their rows, the company
# and revision tables near its end, the microcontroller, and specification lines (a number
# with a unit). The opening (title, SKU, description) is always read.
CUES = tuple(
    (re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in [
        (r"recommended operating|operating conditions|absolute maximum|\bratings?\b", 5.0),
        (r"^\s*company (name|address)|\bS\.?r\.?l\b|\bSRL\b", 4.0),
        (r"change ?log|revision history|^\s*date\s*\|\s*(rev|version)", 4.0),
        (r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]+\d{2,4}\b", 3.0),  # a revision row (PDF: alone)
        # a PDF's table cells come one a line: a bare number or unit belongs to a table
        (r"^\s*[-+−]?\d+([.,]\d+)?\s*$|^\s*(V|mA|A|µA|°C|MHz|kHz|mW|W|%)\s*$", 1.2),
        (r"\bSKU\b|\bidentifier\b|\b[A-Z]{3}\d{5}\b", 3.0),
        (r"\bmicrocontroller\b|\bmicroprocessor\b|\bMCU\b|\bprocessor\b", 2.0),
        (r"\|\s*-?\d+(\.\d+)?\s*\|.*\|\s*(V|mA|A|°C|MHz|kHz|mW|W)\s*$", 3.0),
        (r"\b\d+(\.\d+)?\s?(V|mA|µA|MHz|kHz|GHz|kB|KB|MB|°C|mm|g|mW|dBm)\b", 1.0),
        (r"^\s*(operating )?(temperature|voltage|current|clock|flash|sram|memory)\b", 1.5),
    ]
)

DOCTYPE = DocType(
    name="datasheet",
    description="a product datasheet or technical manual: product, SKUs, revision, "
                "specifications, operating conditions",
    draft_model=schema.DatasheetDraft,
    record_model=schema.Datasheet,
    to_record=schema.to_record,
    check_rules=schema.check_rules,
    instruction=(
        "Extract the datasheet's fields as JSON. Copy values exactly as printed; "
        "use null or an empty list when a field is not in the datasheet."
    ),
    table="datasheets",
    child_tables={"specifications": "datasheet_specifications",
                  "operating_conditions": "datasheet_operating_conditions",
                  "absolute_maximum_ratings": "datasheet_maximum_ratings"},
    adapter="datasheet",
    context_chars=5000,
    output_tokens=1536,  # the longest labelled answer is about 1,500 tokens (41 specifications)
    cues=CUES,
    focused=tables.FOCUSED,  # the condition tables, each read under its heading
    query=QueryConfig(
        view="datasheets", date_column="document_revision_date", name_column="product_name",
        row_model=rows.DatasheetRow, children_view="datasheet_specifications",
        children_order="position", child_model=rows.SpecificationRow,
        sortable=("document_revision_date", "product_name", "manufacturer", "status",
                  "uploaded_at", "filename", "specification_count"),
        default_sort="product_name", name_means="product",
        extra_views=("datasheet_conditions",),
    ),
    summary_fields=("product_name", "model_numbers", "document_revision",
                    "document_revision_date", "specifications"),
    router_windows=(0.3, 0.5),
    date_fields=("document_revision_date",),
    router_lookalikes=lookalikes.sources,
)

DATASETS = (manuals.DATASET,)
