"""Analysts and reviewers: searchable text, API keys, corrections, training examples, and the
`analytics` schema of documented views read by the read-only `docket_analyst` role.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = """
-- The converted document's plain text, for full-text search ('simple': no stemming, so
-- merchant names and codes match as written).
ALTER TABLE documents ADD COLUMN text text;
ALTER TABLE documents ADD COLUMN text_search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED;
CREATE INDEX documents_text_search_idx ON documents USING gin (text_search);
CREATE INDEX documents_created_idx ON documents (created_at);
CREATE INDEX batch_documents_batch_idx ON batch_documents (batch_id);
CREATE INDEX receipts_currency_idx ON receipts (currency);

-- Who wrote a run: the model, or a reviewer's correction of the run before it.
ALTER TABLE extraction_runs ADD COLUMN source text NOT NULL DEFAULT 'model'
    CHECK (source IN ('model', 'review'));
ALTER TABLE extraction_runs ADD COLUMN reviewer text;

-- API keys: only a hash is stored; the key is shown once, when it is created.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('uploader', 'reviewer', 'analyst', 'admin')),
    key_hash      text NOT NULL UNIQUE,     -- sha256 hex of the key
    prefix        text NOT NULL,            -- the key's first characters, to tell keys apart
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- The audit trail of reviewers' corrections: one row per changed value.
CREATE TABLE corrections (
    id           bigserial PRIMARY KEY,
    document_id  uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    run_id       bigint NOT NULL REFERENCES extraction_runs(id),   -- the run corrected
    new_run_id   bigint NOT NULL REFERENCES extraction_runs(id),   -- the run it produced
    path         text NOT NULL,                                    -- 'total', 'parties[0].name'
    old_value    text,
    new_value    text,
    reviewer     text NOT NULL,                                    -- the API key's name
    key_id       uuid REFERENCES api_keys(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX corrections_document_idx ON corrections (document_id, created_at);

-- Reviewed answers to learn from (`docket adapters train --from-corrections`): the draft the
-- model should have written for this document, as printed on it.
CREATE TABLE training_examples (
    document_id    uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    document_type  text NOT NULL,
    draft          jsonb NOT NULL,
    source         text NOT NULL DEFAULT 'correction',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
"""

VIEWS = """
CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS
    'Views for analysts: read them, not the tables behind them (role docket_analyst).';

CREATE VIEW analytics.receipts AS
SELECT r.document_id, d.filename, d.status, d.created_at AS uploaded_at,
       r.merchant_name, r.merchant_address, r.date, r.date_text, r.currency,
       r.subtotal, r.tax, r.total, r.payment_method,
       (SELECT count(*) FROM receipt_items i WHERE i.document_id = r.document_id) AS item_count,
       run.adapter, run.source = 'review' AS reviewed
FROM receipts r
JOIN documents d ON d.id = r.document_id
JOIN extraction_runs run ON run.id = r.run_id;
COMMENT ON VIEW analytics.receipts IS
    'One row per extracted receipt. Money in the receipt''s currency (ISO 4217); date parsed '
    'from date_text. status needs_review: a rule failed or a value is uncertain.';
COMMENT ON COLUMN analytics.receipts.reviewed IS 'true once a reviewer saved a correction';

CREATE VIEW analytics.receipt_items AS
SELECT i.document_id, i.position + 1 AS line, r.merchant_name, r.date, r.currency,
       i.description, i.quantity, i.unit_price, i.amount
FROM receipt_items i JOIN receipts r ON r.document_id = i.document_id;
COMMENT ON VIEW analytics.receipt_items IS
    'Receipt lines with their receipt''s merchant, date and currency; line counts from 1.';

CREATE VIEW analytics.contracts AS
SELECT c.document_id, d.filename, d.status, d.created_at AS uploaded_at, c.title,
       c.effective_date, c.effective_date_text, c.term, c.jurisdiction, c.termination_notice,
       c.signatories,
       coalesce((SELECT array_agg(p.name ORDER BY p.position) FROM contract_parties p
                 WHERE p.document_id = c.document_id), '{}') AS parties,
       run.adapter, run.source = 'review' AS reviewed
FROM contracts c
JOIN documents d ON d.id = c.document_id
JOIN extraction_runs run ON run.id = c.run_id;
COMMENT ON VIEW analytics.contracts IS
    'One row per extracted contract; parties is the names in the order the contract gives them.';

CREATE VIEW analytics.contract_parties AS
SELECT p.document_id, p.position + 1 AS position, p.name, p.role, c.effective_date,
       c.jurisdiction, c.term
FROM contract_parties p JOIN contracts c ON c.document_id = p.document_id;
COMMENT ON VIEW analytics.contract_parties IS 'One row per party of each contract.';

CREATE VIEW analytics.extraction_quality AS
SELECT d.id AS document_id, d.filename, d.document_type, d.status, d.error, d.converter,
       d.pages, d.size AS bytes, d.attempts, d.created_at AS uploaded_at,
       d.updated_at AS finished_at,
       run.model, run.adapter, run.source, run.valid,
       jsonb_array_length(coalesce(run.violations, '[]')) AS violation_count,
       ARRAY(SELECT v->>'rule' FROM jsonb_array_elements(coalesce(run.violations, '[]')) v)
           AS rules,
       f.field_count, f.min_confidence, f.mean_confidence, f.fields_below_half,
       (run.timings_ms->>'convert')::real AS convert_ms,
       (run.timings_ms->>'classify')::real AS classify_ms,
       (run.timings_ms->>'extract')::real AS extract_ms,
       (SELECT sum(value::real) FROM jsonb_each_text(run.timings_ms)
        WHERE key IN ('convert', 'classify', 'extract', 'store')) AS total_ms,
       run.prompt_tokens, run.output_tokens, run.tokens_per_s
FROM documents d
LEFT JOIN LATERAL (
    SELECT * FROM extraction_runs er WHERE er.document_id = d.id ORDER BY er.id DESC LIMIT 1
) run ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE ef.value IS NOT NULL) AS field_count,
           min(ef.confidence) FILTER (WHERE ef.value IS NOT NULL) AS min_confidence,
           avg(ef.confidence) FILTER (WHERE ef.value IS NOT NULL) AS mean_confidence,
           count(*) FILTER (WHERE ef.value IS NOT NULL AND ef.confidence < 0.5)
               AS fields_below_half
    FROM extracted_fields ef WHERE ef.run_id = run.id
) f ON true;
COMMENT ON VIEW analytics.extraction_quality IS
    'One row per document: status, the latest run''s validity, rules broken, field confidence '
    '(min, mean, how many under 0.5) and timings in ms per stage.';

CREATE VIEW analytics.review_queue AS
SELECT q.document_id, q.filename, q.document_type, q.error AS reason, q.rules,
       q.min_confidence, q.fields_below_half, q.finished_at AS waiting_since,
       '/review/documents/' || q.document_id AS review_path
FROM analytics.extraction_quality q WHERE q.status = 'needs_review';
COMMENT ON VIEW analytics.review_queue IS
    'Documents awaiting a reviewer, with why; open review_path on the API server.';

CREATE VIEW analytics.spend_by_merchant_month AS
SELECT r.merchant_name, date_trunc('month', r.date)::date AS month, r.currency,
       count(*) AS receipts, sum(r.total) AS total
FROM receipts r WHERE r.date IS NOT NULL
GROUP BY r.merchant_name, date_trunc('month', r.date), r.currency;
COMMENT ON VIEW analytics.spend_by_merchant_month IS
    'Receipt totals by merchant, month and currency (receipts with a date only).';

CREATE VIEW analytics.corrections AS
SELECT c.document_id, d.filename, c.path, c.old_value, c.new_value, c.reviewer, c.created_at
FROM corrections c JOIN documents d ON d.id = c.document_id;
COMMENT ON VIEW analytics.corrections IS 'Every reviewer correction: who, when, old → new.';

-- The read-only role analysts (and `docket query`) connect as. Roles belong to the whole
-- server, so it may exist already (another Docket database on the same server).
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'docket_analyst') THEN
        CREATE ROLE docket_analyst LOGIN;
    END IF;
END $$;
ALTER ROLE docket_analyst SET default_transaction_read_only = on;
ALTER ROLE docket_analyst SET search_path = analytics;
ALTER ROLE docket_analyst SET statement_timeout = '120s';
DO $$ BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO docket_analyst', current_database());
END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM docket_analyst;
-- Postgres 15's default, made explicit for older servers: nobody creates tables in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA analytics TO docket_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO docket_analyst;
"""

DOWNGRADE = """
DROP SCHEMA analytics CASCADE;
DO $$ BEGIN
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM docket_analyst', current_database());
END $$;
DROP TABLE training_examples, corrections, api_keys;
ALTER TABLE extraction_runs DROP COLUMN reviewer, DROP COLUMN source;
DROP INDEX receipts_currency_idx, batch_documents_batch_idx, documents_created_idx;
ALTER TABLE documents DROP COLUMN text_search, DROP COLUMN text;
"""


def _backfill_text() -> None:
    """Documents converted before this revision get their text from their stored content."""
    from pipeline.document import Document

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, content FROM documents WHERE content IS NOT NULL"))
    for doc_id, content in rows.fetchall():
        text = Document.model_validate(content).text()
        bind.execute(sa.text("UPDATE documents SET text = :t WHERE id = :i"),
                     {"t": text, "i": doc_id})


def upgrade() -> None:
    op.execute(TABLES)
    _backfill_text()
    op.execute(VIEWS)


def downgrade() -> None:
    op.execute(DOWNGRADE)
