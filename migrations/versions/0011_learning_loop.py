"""The learning loop: scheduled retraining runs with their progress and outcome, and the
router's embedding of each document it could not place, for clustering new kinds.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE training_runs (
    id            bigserial PRIMARY KEY,
    adapter       text NOT NULL,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('requested', 'running', 'promoted', 'refused', 'failed')),
    stage         text NOT NULL DEFAULT 'queued',   -- scrubbing, training, evaluating...
    progress      jsonb NOT NULL DEFAULT '{}',      -- step, total, loss of the stage
    stage_seconds jsonb NOT NULL DEFAULT '{}',      -- how long each stage took
    triggered_by  text NOT NULL,
    corrections   integer,                          -- new corrections that triggered it
    trained_through timestamptz,                    -- the newest correction it learned from
    version_id    bigint REFERENCES adapter_versions(id),
    reason        text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
-- One training job at a time, whatever the type and however many trainers run.
CREATE UNIQUE INDEX training_runs_one_running ON training_runs ((true))
    WHERE status = 'running';
-- An admin's request waits as a 'requested' row until the trainer takes it: one per adapter.
CREATE UNIQUE INDEX training_runs_one_request ON training_runs (adapter)
    WHERE status = 'requested';
CREATE INDEX training_runs_adapter_idx ON training_runs (adapter, id);

-- The router's embedding of a document it called unknown (float32 bytes), kept for
-- clustering; model_sha256 says which base weights made it.
CREATE TABLE document_embeddings (
    document_id   uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    model_sha256  text NOT NULL,
    embedding     bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE document_embeddings;
DROP TABLE training_runs;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
