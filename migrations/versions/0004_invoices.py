"""Invoices: the typed table, its lines, and the analysts' views (invoices, invoice lines,
payables by seller and month).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE invoices (
    document_id      uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    run_id           bigint NOT NULL REFERENCES extraction_runs(id),
    invoice_number   text,
    issue_date       date,
    issue_date_text  text,
    due_date         date,
    due_date_text    text,
    po_number        text,
    seller_name      text,
    seller_address   text,
    seller_tax_id    text,
    buyer_name       text,
    buyer_address    text,
    currency         text,                  -- ISO 4217; anything else is flagged
    net              numeric(14, 2),
    tax_rate         numeric(6, 3),         -- percent
    tax              numeric(14, 2),
    total            numeric(14, 2),
    payment_terms    text,
    bank_account     text                   -- an IBAN compacted, else as printed
);
CREATE INDEX invoices_issue_date_idx ON invoices (issue_date);
CREATE INDEX invoices_seller_idx ON invoices (seller_name);
CREATE INDEX invoices_total_idx ON invoices (total);
CREATE INDEX invoices_number_idx ON invoices (seller_tax_id, invoice_number);

CREATE TABLE invoice_items (
    document_id  uuid NOT NULL REFERENCES invoices(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    description  text,
    quantity     numeric(14, 3),
    unit_price   numeric(14, 2),
    amount       numeric(14, 2),
    PRIMARY KEY (document_id, position)
);

CREATE VIEW analytics.invoices AS
SELECT i.document_id, d.filename, d.status, d.created_at AS uploaded_at,
       i.invoice_number, i.issue_date, i.issue_date_text, i.due_date, i.due_date_text,
       i.po_number, i.seller_name, i.seller_address, i.seller_tax_id, i.buyer_name,
       i.buyer_address, i.currency, i.net, i.tax_rate, i.tax, i.total, i.payment_terms,
       i.bank_account,
       (SELECT count(*) FROM invoice_items l WHERE l.document_id = i.document_id)::int
           AS item_count,
       run.adapter, run.source = 'review' AS reviewed
FROM invoices i
JOIN documents d ON d.id = i.document_id
JOIN extraction_runs run ON run.id = i.run_id;
COMMENT ON VIEW analytics.invoices IS
    'One row per extracted invoice. Money in the invoice''s currency (ISO 4217), tax_rate in '
    'percent; dates parsed from their printed text. status needs_review: a rule failed or a '
    'value is uncertain.';

CREATE VIEW analytics.invoice_items AS
SELECT l.document_id, l.position + 1 AS line, i.invoice_number, i.seller_name, i.issue_date,
       i.currency, l.description, l.quantity, l.unit_price, l.amount
FROM invoice_items l JOIN invoices i ON i.document_id = l.document_id;
COMMENT ON VIEW analytics.invoice_items IS
    'Invoice lines with their invoice''s number, seller, issue date and currency; line counts '
    'from 1.';

CREATE VIEW analytics.payables_by_seller_month AS
SELECT i.seller_name, date_trunc('month', i.issue_date)::date AS month, i.currency,
       count(*) AS invoices, sum(i.net) AS net, sum(i.tax) AS tax, sum(i.total) AS total
FROM invoices i WHERE i.issue_date IS NOT NULL
GROUP BY i.seller_name, date_trunc('month', i.issue_date), i.currency;
COMMENT ON VIEW analytics.payables_by_seller_month IS
    'Invoice totals by seller, month of issue and currency (dated invoices only).';

GRANT SELECT ON analytics.invoices, analytics.invoice_items,
    analytics.payables_by_seller_month TO docket_analyst;
"""

DOWNGRADE = """
DROP VIEW analytics.payables_by_seller_month, analytics.invoice_items, analytics.invoices;
DROP TABLE invoice_items, invoices;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
