"""Webhooks: callback URLs per upload and standing subscriptions per API key, and the durable
log of every event to deliver (an outbox written in the same transaction as the status change
it reports) with each delivery attempt.

A batch is `sealed` once every file of its upload is stored (before that, its documents that
finished early do not make it finished) and `finished` once its `batch.finished` event was
written, so that event is written exactly once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE batches ADD COLUMN key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL;
ALTER TABLE batches ADD COLUMN sealed_at timestamptz;
ALTER TABLE batches ADD COLUMN finished_at timestamptz;
UPDATE batches SET sealed_at = created_at, finished_at = created_at;
CREATE INDEX batches_key_idx ON batches (key_id);

CREATE TABLE webhooks (
    id          uuid PRIMARY KEY,
    url         text NOT NULL,
    secret      text NOT NULL,               -- signs the events (HMAC-SHA256); shown once
    key_id      uuid REFERENCES api_keys(id) ON DELETE CASCADE,  -- its owner (NULL: the CLI)
    batch_id    uuid REFERENCES batches(id) ON DELETE CASCADE,   -- a callback of one upload
    scope       text NOT NULL DEFAULT 'own' CHECK (scope IN ('own', 'all')),
    events      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX webhooks_batch_idx ON webhooks (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX webhooks_key_idx ON webhooks (key_id);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,        -- also the event's id, for receivers to dedupe
    webhook_id       uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event            text NOT NULL,
    document_id      uuid REFERENCES documents(id) ON DELETE CASCADE,
    batch_id         uuid REFERENCES batches(id) ON DELETE CASCADE,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    queued_at        timestamptz,             -- handed to a delivery worker, not yet tried
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id            bigserial PRIMARY KEY,
    delivery_id   uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt       integer NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    status_code   integer,                    -- NULL: no answer (refused, timed out)
    error         text,
    duration_ms   real NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
"""

DOWNGRADE = """
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
ALTER TABLE batches DROP COLUMN finished_at;
ALTER TABLE batches DROP COLUMN sealed_at;
ALTER TABLE batches DROP COLUMN key_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
