"""The memo type's tables and analytics views (a branch of its own: it depends on the core
schema, and a later core migration never has to know about it).

Revision ID: memo_0001
Create Date: 2026-12-03
"""

from alembic import op

revision = "memo_0001"
down_revision = None
branch_labels = ("memo",)
depends_on = "0003"

UPGRADE = """
CREATE TABLE memos (
    document_id  uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    run_id       bigint NOT NULL REFERENCES extraction_runs(id),
    subject      text,
    author       text,
    date         date,
    date_text    text
);
CREATE TABLE memo_recipients (
    document_id  uuid NOT NULL REFERENCES memos(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    name         text NOT NULL,
    PRIMARY KEY (document_id, position)
);
CREATE VIEW analytics.memos AS
SELECT m.document_id, d.filename, d.status, d.created_at AS uploaded_at, m.subject, m.author,
       m.date, m.date_text,
       (SELECT count(*) FROM memo_recipients r WHERE r.document_id = m.document_id)::int
           AS recipient_count,
       run.adapter, run.source = 'review' AS reviewed
FROM memos m
JOIN documents d ON d.id = m.document_id
JOIN extraction_runs run ON run.id = m.run_id;
CREATE VIEW analytics.memo_recipients AS
SELECT r.document_id, r.position + 1 AS position, r.name FROM memo_recipients r;
GRANT SELECT ON analytics.memos, analytics.memo_recipients TO docket_analyst;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP VIEW analytics.memo_recipients, analytics.memos; "
               "DROP TABLE memo_recipients, memos;")
