"""Review sessions: signing in to the review pages makes a server-side session (its cookie holds
a random id, never the API key); a session expires, is revoked at sign-out, and ends with its
key. Only the id's sha256 is stored, like the keys'.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE review_sessions (
    id_hash      text PRIMARY KEY,
    key_id       uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,              -- every form of the session carries it
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX review_sessions_key_idx ON review_sessions (key_id);
"""

DOWNGRADE = "DROP TABLE review_sessions;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
