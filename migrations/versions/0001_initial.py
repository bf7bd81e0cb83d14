"""Initial schema: batches, blobs, documents, extraction runs, receipt and contract tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE batches (
    id          uuid PRIMARY KEY,
    source      text NOT NULL,             -- 'cli', 'api', 'run'
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Original bytes, content-addressed: the same upload twice is stored once.
CREATE TABLE blobs (
    sha256      text PRIMARY KEY,
    size        bigint NOT NULL,
    data        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id             uuid PRIMARY KEY,
    sha256         text NOT NULL UNIQUE REFERENCES blobs(sha256),
    filename       text NOT NULL,
    mime_type      text,
    size           bigint NOT NULL,
    type_hint      text,
    document_type  text,
    status         text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'processing', 'done', 'needs_review', 'failed')),
    error          text,
    attempts       integer NOT NULL DEFAULT 0,
    pages          integer,
    converter      text,
    content        jsonb,                  -- the converted Document (pages → lines → boxes)
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_status_idx ON documents (status);
CREATE INDEX documents_type_idx ON documents (document_type);

-- A document belongs to every batch it was uploaded in (dedup keeps one document).
CREATE TABLE batch_documents (
    batch_id     uuid NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    document_id  uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    filename     text NOT NULL,
    PRIMARY KEY (batch_id, document_id)
);
CREATE INDEX batch_documents_document_idx ON batch_documents (document_id);

CREATE TABLE extraction_runs (
    id                bigserial PRIMARY KEY,
    document_id       uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    model             text NOT NULL,
    model_sha256      text NOT NULL,
    adapter           text,
    document_type     text NOT NULL,
    classifier        text,
    classifier_confidence real,
    timings_ms        jsonb NOT NULL,      -- per stage: convert, classify, extract, validate, store
    prompt_tokens     integer NOT NULL,
    output_tokens     integer NOT NULL,
    tokens_per_s      real NOT NULL,
    mean_token_prob   real,
    finished          boolean NOT NULL,    -- false: the token budget cut the answer
    raw_output        text NOT NULL,
    record            jsonb,
    valid             boolean NOT NULL,
    violations        jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX extraction_runs_document_idx ON extraction_runs (document_id, created_at DESC);

CREATE TABLE receipts (
    document_id       uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    run_id            bigint NOT NULL REFERENCES extraction_runs(id),
    merchant_name     text,
    merchant_address  text,
    date              date,
    date_text         text,
    currency          text,                  -- ISO 4217; anything else is flagged
    subtotal          numeric(14, 2),
    tax               numeric(14, 2),
    total             numeric(14, 2),
    payment_method    text
);
CREATE INDEX receipts_date_idx ON receipts (date);
CREATE INDEX receipts_merchant_idx ON receipts (merchant_name);
CREATE INDEX receipts_total_idx ON receipts (total);

CREATE TABLE receipt_items (
    document_id  uuid NOT NULL REFERENCES receipts(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    description  text,
    quantity     numeric(14, 3),
    unit_price   numeric(14, 2),
    amount       numeric(14, 2),
    PRIMARY KEY (document_id, position)
);

CREATE TABLE contracts (
    document_id          uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    run_id               bigint NOT NULL REFERENCES extraction_runs(id),
    title                text,
    effective_date       date,
    effective_date_text  text,
    term                 text,
    jurisdiction         text,
    termination_notice   text,
    signatories          text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX contracts_effective_date_idx ON contracts (effective_date);
CREATE INDEX contracts_jurisdiction_idx ON contracts (jurisdiction);

CREATE TABLE contract_parties (
    document_id  uuid NOT NULL REFERENCES contracts(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    name         text NOT NULL,
    role         text,
    PRIMARY KEY (document_id, position)
);
CREATE INDEX contract_parties_name_idx ON contract_parties (name);
"""

DOWNGRADE = """
DROP TABLE contract_parties, contracts, receipt_items, receipts, extraction_runs,
           batch_documents, documents, blobs, batches;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
