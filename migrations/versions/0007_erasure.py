"""Erasure and retention: an original's bytes may be erased (retention keeps the record), and
the `erasures` table records who erased which document or original, and when, without any of
its content.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE blobs ALTER COLUMN data DROP NOT NULL;
ALTER TABLE blobs ADD COLUMN erased_at timestamptz;
CREATE TABLE erasures (
    id           bigserial PRIMARY KEY,
    document_id  uuid NOT NULL,              -- no foreign key: the document may be gone
    what         text NOT NULL CHECK (what IN ('document', 'original')),
    erased_by    text NOT NULL,              -- the key's name, or the retention rule
    key_id       uuid REFERENCES api_keys(id) ON DELETE SET NULL,
    erased_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasures_document_idx ON erasures (document_id);
"""

DOWNGRADE = """
DROP TABLE erasures;
DELETE FROM documents d USING blobs b WHERE b.sha256 = d.sha256 AND b.data IS NULL;
DELETE FROM blobs WHERE data IS NULL;
ALTER TABLE blobs DROP COLUMN erased_at;
ALTER TABLE blobs ALTER COLUMN data SET NOT NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
