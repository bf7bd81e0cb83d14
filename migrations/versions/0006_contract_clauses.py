"""Contracts for clause review: agreement and expiration dates, renewal term and the notice
that stops it, each party's aliases, and the six reviewed clauses (one row each, present or
not, with the excerpt); the analysts' views gain them, and `contract_clauses` lists them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CONTRACTS_VIEW = """
CREATE VIEW analytics.contracts AS
SELECT c.document_id, d.filename, d.status, d.created_at AS uploaded_at, c.title,
       c.effective_date, c.effective_date_text, c.term, c.jurisdiction, c.termination_notice,
       c.signatories,
       coalesce((SELECT array_agg(p.name ORDER BY p.position) FROM contract_parties p
                 WHERE p.document_id = c.document_id), '{{}}') AS parties,
       run.adapter, run.source = 'review' AS reviewed{extra}
FROM contracts c
JOIN documents d ON d.id = c.document_id
JOIN extraction_runs run ON run.id = c.run_id;
COMMENT ON VIEW analytics.contracts IS
    'One row per extracted contract; parties is the names in the order the contract gives '
    'them{comment}.';
GRANT SELECT ON analytics.contracts TO docket_analyst;
"""

NEW_COLUMNS = """,
       c.agreement_date, c.agreement_date_text, c.expiration_date, c.expiration_date_text,
       c.renewal_term, c.renewal_notice,
       coalesce((SELECT array_agg(x.clause ORDER BY x.position) FROM contract_clauses x
                 WHERE x.document_id = c.document_id AND x.present), '{}') AS clauses_present"""

UPGRADE = """
ALTER TABLE contracts
    ADD COLUMN agreement_date date,
    ADD COLUMN agreement_date_text text,
    ADD COLUMN expiration_date date,
    ADD COLUMN expiration_date_text text,      -- 'perpetual' where it never expires
    ADD COLUMN renewal_term text,
    ADD COLUMN renewal_notice text;
CREATE INDEX contracts_expiration_date_idx ON contracts (expiration_date);
ALTER TABLE contract_parties ADD COLUMN aliases text[] NOT NULL DEFAULT '{}';

CREATE TABLE contract_clauses (
    document_id  uuid NOT NULL REFERENCES contracts(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    clause       text NOT NULL,
    present      boolean NOT NULL,
    excerpt      text,
    PRIMARY KEY (document_id, position)
);
CREATE INDEX contract_clauses_clause_idx ON contract_clauses (clause) WHERE present;

DROP VIEW analytics.contracts;
""" + CONTRACTS_VIEW.format(
    extra=NEW_COLUMNS, comment="; clauses_present names the reviewed clauses it has") + """
CREATE OR REPLACE VIEW analytics.contract_parties AS
SELECT p.document_id, p.position + 1 AS position, p.name, p.role, c.effective_date,
       c.jurisdiction, c.term, p.aliases
FROM contract_parties p JOIN contracts c ON c.document_id = p.document_id;

CREATE VIEW analytics.contract_clauses AS
SELECT x.document_id, x.position + 1 AS position, x.clause, x.present, x.excerpt, c.title,
       c.effective_date, c.expiration_date, c.jurisdiction
FROM contract_clauses x JOIN contracts c ON c.document_id = x.document_id;
COMMENT ON VIEW analytics.contract_clauses IS
    'The six reviewed clauses of each contract (change_of_control, anti_assignment, '
    'termination_for_convenience, non_compete, exclusivity, cap_on_liability), present or '
    'not, with the excerpt as the contract words it.';
GRANT SELECT ON analytics.contract_clauses TO docket_analyst;
"""

DOWNGRADE = """
DROP VIEW analytics.contract_clauses, analytics.contract_parties, analytics.contracts;
DROP TABLE contract_clauses;
ALTER TABLE contract_parties DROP COLUMN aliases;
ALTER TABLE contracts DROP COLUMN agreement_date, DROP COLUMN agreement_date_text,
    DROP COLUMN expiration_date, DROP COLUMN expiration_date_text, DROP COLUMN renewal_term,
    DROP COLUMN renewal_notice;
CREATE VIEW analytics.contract_parties AS
SELECT p.document_id, p.position + 1 AS position, p.name, p.role, c.effective_date,
       c.jurisdiction, c.term
FROM contract_parties p JOIN contracts c ON c.document_id = p.document_id;
COMMENT ON VIEW analytics.contract_parties IS 'One row per party of each contract.';
GRANT SELECT ON analytics.contract_parties TO docket_analyst;
""" + CONTRACTS_VIEW.format(extra="", comment="")


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
