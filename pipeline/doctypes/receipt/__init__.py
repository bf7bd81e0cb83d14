"""Receipts: what a back office books from a till slip.

The package holds everything Docket knows about the type: the draft and record models with
their rules (`schema`), the analytics rows (`rows`), the SROIE dataset with its scorer
(`sroie`) and the generated receipts that teach what SROIE does not label (`synthetic`).
"""

from __future__ import annotations

from pipeline.doctypes.base import Aggregate, DocType, QueryConfig
from pipeline.doctypes.receipt import rows, schema, sroie
from schemas.common import AMOUNT_PATTERN, CURRENCY_PATTERN

DOCTYPE = DocType(
    name="receipt",
    description="a shop or restaurant receipt: merchant, items, total paid",
    draft_model=schema.ReceiptDraft,
    record_model=schema.Receipt,
    to_record=schema.to_record,
    check_rules=schema.check_rules,
    instruction=(
        "Extract the receipt's fields as JSON. Copy values exactly as printed; "
        "use null when a field is not on the receipt."
    ),
    table="receipts",
    child_tables={"items": "receipt_items"},
    adapter="receipt",
    query=QueryConfig(
        view="receipts", date_column="date", name_column="merchant_name",
        row_model=rows.ReceiptRow, children_view="receipt_items", children_order="line",
        child_model=rows.ReceiptItemRow,
        sortable=("date", "merchant_name", "total", "currency", "status", "uploaded_at",
                  "item_count", "filename"),
        default_sort="-date", amount_column="total", name_means="merchant",
        extra_views=("spend_by_merchant_month",),
        aggregates=(Aggregate(
            name="spend",
            description="Receipt totals by merchant, month and currency over the receipts "
            "matching the filters (dated receipts only).",
            row_model=rows.SpendRow,
            select="merchant_name, date_trunc('month', date)::date AS month, currency, "
                   "count(*) AS receipts, sum(total) AS total",
            group_by="merchant_name, date_trunc('month', date), currency",
            where="date IS NOT NULL",
            sortable=("merchant_name", "month", "currency", "receipts", "total"),
            default_sort="month",
            tie_breakers=("month", "merchant_name", "currency"),
        ),),
    ),
    pattern_hints={
        AMOUNT_PATTERN: "is not an amount: write digits with an optional minus sign "
        "and decimal point, as printed (e.g. 12.50, -3.00, 1,234.50), or leave it empty",
        CURRENCY_PATTERN: "is not a currency: write a code or symbol as printed "
        "(e.g. MYR, USD, RM, $), or leave it empty",
    },
    summary_fields=("merchant_name", "date", "currency", "total", "items"),
    router_windows=(0.15, 0.25, 0.35),
    date_fields=("date",),
)

DATASETS = (sroie.DATASET,)
