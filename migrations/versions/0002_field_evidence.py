"""Per-field confidence and provenance of each extraction run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE extracted_fields (
    run_id       bigint NOT NULL REFERENCES extraction_runs(id) ON DELETE CASCADE,
    document_id  uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position     integer NOT NULL,        -- order in the model's answer
    path         text NOT NULL,           -- 'total', 'items[0].amount', 'parties[1].name'
    value        text,                    -- as the model wrote it (null: not found)
    confidence   real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    page         integer,                 -- 1-based; null when the value is not in the text
    bboxes       jsonb NOT NULL DEFAULT '[]',  -- [{x0, y0, x1, y1}] per line, page units
    char_start   integer,                 -- span in the converted document's text
    char_end     integer,
    PRIMARY KEY (run_id, path)
);
CREATE INDEX extracted_fields_document_idx ON extracted_fields (document_id);
CREATE INDEX extracted_fields_confidence_idx ON extracted_fields (confidence);
"""

DOWNGRADE = "DROP TABLE extracted_fields;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
