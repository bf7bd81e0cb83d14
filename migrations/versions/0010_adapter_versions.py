"""Adapter versions in Postgres: every training run's weights, manifest and figures, so workers
on other machines get a promoted version without a file copy; and the log of promotions,
refusals and rollbacks, whose latest promotion or rollback names each adapter's current
version (none: the adapter committed in adapters/); and the frozen regression set of reviewed
documents each promotion is checked on.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE adapter_versions (
    id                 bigserial PRIMARY KEY,
    adapter            text NOT NULL,          -- the type's adapter name: receipt, contract...
    version            integer NOT NULL,
    base_model_sha256  text NOT NULL,
    weights            bytea NOT NULL,         -- PEFT's adapter_model.safetensors
    config             jsonb NOT NULL,         -- PEFT's adapter_config.json
    manifest           jsonb NOT NULL,         -- Docket's manifest: training data, figures
    sha256             text NOT NULL,          -- of the weights
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (adapter, version)
);

CREATE TABLE adapter_promotions (
    id           bigserial PRIMARY KEY,
    adapter      text NOT NULL,
    version_id   bigint REFERENCES adapter_versions(id),  -- NULL: the committed adapter
    action       text NOT NULL CHECK (action IN ('promote', 'refuse', 'rollback')),
    decided_by   text NOT NULL,
    reason       text,
    comparison   jsonb,                      -- each field's figure, current and candidate
    decided_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adapter_promotions_adapter_idx ON adapter_promotions (adapter, id);

-- Reviewed documents set aside as a regression set: their reviewed records frozen as the
-- expected answers, and never trained on from then on.
CREATE TABLE regression_documents (
    document_id    uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    document_type  text NOT NULL,
    expected       jsonb NOT NULL,
    frozen_at      timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE regression_documents;
DROP TABLE adapter_promotions;
DROP TABLE adapter_versions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
