"""Invoices: what accounts payable books from a supplier's bill.

The package holds the draft and record models with their rules (`schema`: sums, dates,
currency, tax ids and IBANs checked with python-stdnum), the analytics rows (`rows`), and,
since no labelled public invoice set is at hand, a generator of realistic invoices
(`generator`, drawn by `render`) that is the type's dataset with its scorer (`generated`).
"""

from __future__ import annotations

from pipeline.doctypes.base import Aggregate, DocType, QueryConfig
from pipeline.doctypes.invoice import generated, rows, schema
from schemas.common import AMOUNT_PATTERN, CURRENCY_PATTERN

DOCTYPE = DocType(
    name="invoice",
    description="a supplier's invoice: seller, buyer, number, dates, lines, tax, total due",
    draft_model=schema.InvoiceDraft,
    record_model=schema.Invoice,
    to_record=schema.to_record,
    check_rules=schema.check_rules,
    instruction=(
        "Extract the invoice's fields as JSON. Copy values exactly as printed; "
        "use null when a field is not on the invoice."
    ),
    table="invoices",
    child_tables={"items": "invoice_items"},
    adapter="invoice",
    output_tokens=1024,  # 30 lines at about 30 tokens each, after the header's 200
    query=QueryConfig(
        view="invoices", date_column="issue_date", name_column="seller_name",
        row_model=rows.InvoiceRow, children_view="invoice_items", children_order="line",
        child_model=rows.InvoiceItemRow,
        sortable=("issue_date", "due_date", "seller_name", "buyer_name", "invoice_number",
                  "total", "currency", "status", "uploaded_at", "item_count", "filename"),
        default_sort="-issue_date", amount_column="total", name_means="seller",
        extra_views=("payables_by_seller_month",),
        aggregates=(Aggregate(
            name="payables",
            description="Invoice totals by seller, month of issue and currency over the "
            "invoices matching the filters (dated invoices only).",
            row_model=rows.PayablesRow,
            select="seller_name, date_trunc('month', issue_date)::date AS month, currency, "
                   "count(*) AS invoices, sum(net) AS net, sum(tax) AS tax, "
                   "sum(total) AS total",
            group_by="seller_name, date_trunc('month', issue_date), currency",
            where="issue_date IS NOT NULL",
            sortable=("seller_name", "month", "currency", "invoices", "total"),
            default_sort="month",
            tie_breakers=("month", "seller_name", "currency"),
        ),),
    ),
    pattern_hints={
        AMOUNT_PATTERN: "is not an amount: write digits with an optional minus sign "
        "and decimal point, as printed (e.g. 12.50, 1.234,50, 1,234.50), or leave it empty",
        CURRENCY_PATTERN: "is not a currency: write a code or symbol as printed "
        "(e.g. EUR, USD, €, $), or leave it empty",
        schema.RATE_PATTERN: "is not a tax rate: write the percentage without the % sign "
        "(e.g. 20, 8.875, 5,5), or leave it empty",
    },
    summary_fields=("invoice_number", "seller_name", "issue_date", "currency", "total", "items"),
    router_windows=(0.3,),
    date_fields=("issue_date", "due_date"),
    router_lookalikes=generated.lookalike_sources,
)

DATASETS = (generated.DATASET,)
