"""Datasheets: the typed table, its specifications and its two condition tables, and the
analysts' views (datasheets, one row per specification, one row per condition).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CONDITION_COLUMNS = """
    document_id  uuid NOT NULL REFERENCES datasheets(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    parameter    text,
    symbol       text,
    min          text,                  -- as printed: '-40', '4.8'
    typ          text,
    max          text,
    unit         text,
    PRIMARY KEY (document_id, position)
"""

UPGRADE = f"""
CREATE TABLE datasheets (
    document_id                  uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    run_id                       bigint NOT NULL REFERENCES extraction_runs(id),
    product_name                 text,
    model_numbers                text[] NOT NULL DEFAULT '{{}}',
    manufacturer                 text,
    document_revision            text,
    document_revision_date       date,
    document_revision_date_text  text,
    microcontroller              text
);
CREATE INDEX datasheets_product_idx ON datasheets (product_name);
CREATE INDEX datasheets_model_numbers_idx ON datasheets USING gin (model_numbers);

CREATE TABLE datasheet_specifications (
    document_id  uuid NOT NULL REFERENCES datasheets(document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    "group"      text,
    name         text,
    value        text NOT NULL,
    unit         text,
    PRIMARY KEY (document_id, position)
);
CREATE TABLE datasheet_operating_conditions ({CONDITION_COLUMNS});
CREATE TABLE datasheet_maximum_ratings ({CONDITION_COLUMNS});

CREATE VIEW analytics.datasheets AS
SELECT s.document_id, d.filename, d.status, d.created_at AS uploaded_at, s.product_name,
       s.model_numbers, s.manufacturer, s.document_revision, s.document_revision_date,
       s.document_revision_date_text, s.microcontroller,
       (SELECT count(*) FROM datasheet_specifications x
        WHERE x.document_id = s.document_id)::int AS specification_count,
       ((SELECT count(*) FROM datasheet_operating_conditions x
         WHERE x.document_id = s.document_id)
        + (SELECT count(*) FROM datasheet_maximum_ratings x
           WHERE x.document_id = s.document_id))::int AS condition_count,
       run.adapter, run.source = 'review' AS reviewed
FROM datasheets s
JOIN documents d ON d.id = s.document_id
JOIN extraction_runs run ON run.id = s.run_id;
COMMENT ON VIEW analytics.datasheets IS
    'One row per extracted datasheet: the product, its SKUs, the document revision and its '
    'date (parsed from the printed text), the microcontroller.';

CREATE VIEW analytics.datasheet_specifications AS
SELECT x.document_id, x.position + 1 AS position, s.product_name, x."group", x.name,
       x.value, x.unit
FROM datasheet_specifications x JOIN datasheets s ON s.document_id = x.document_id;
COMMENT ON VIEW analytics.datasheet_specifications IS
    'One row per specification of a datasheet, values as printed; position counts from 1.';

CREATE VIEW analytics.datasheet_conditions AS
SELECT x.document_id, 'operating' AS kind, x.position + 1 AS position, s.product_name,
       x.parameter, x.symbol, x.min, x.typ, x.max, x.unit
FROM datasheet_operating_conditions x JOIN datasheets s ON s.document_id = x.document_id
UNION ALL
SELECT x.document_id, 'absolute_maximum' AS kind, x.position + 1, s.product_name,
       x.parameter, x.symbol, x.min, x.typ, x.max, x.unit
FROM datasheet_maximum_ratings x JOIN datasheets s ON s.document_id = x.document_id;
COMMENT ON VIEW analytics.datasheet_conditions IS
    'Operating conditions and absolute maximum ratings of each datasheet, one row per '
    'parameter (kind tells which table), limits as printed.';

GRANT SELECT ON analytics.datasheets, analytics.datasheet_specifications,
    analytics.datasheet_conditions TO docket_analyst;
"""

DOWNGRADE = """
DROP VIEW analytics.datasheet_conditions, analytics.datasheet_specifications,
    analytics.datasheets;
DROP TABLE datasheet_maximum_ratings, datasheet_operating_conditions,
    datasheet_specifications, datasheets;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
