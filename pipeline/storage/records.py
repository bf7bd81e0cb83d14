"""Extraction runs and typed record rows, written in one transaction per document.

Tables come from the type registry: a record's scalar fields go to `doctype.table` (columns
named as the fields), each list field in `doctype.child_tables` to its child table with a
`position`. Writing deletes the document's previous row first, so re-running a document
replaces its record and never duplicates it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg import Connection, sql
from psycopg.types.json import Jsonb

from pipeline.doctypes import DocType


def save_run(
    conn: Connection[Any],
    document_id: uuid.UUID,
    doctype: DocType,
    run: dict[str, Any],
    record: dict[str, Any] | None,
    fields: list[dict[str, Any]] | None = None,
) -> int:
    """Insert the extraction run with its fields' evidence and replace the typed rows;
    returns the run id. `run["source"]` is 'model' unless a reviewer wrote it ('review',
    with `run["reviewer"]` their key's name)."""
    row = conn.execute(
        """INSERT INTO extraction_runs (document_id, model, model_sha256, adapter, document_type,
               classifier, classifier_confidence, timings_ms, prompt_tokens, output_tokens,
               tokens_per_s, mean_token_prob, finished, raw_output, record, valid, violations,
               source, reviewer)
           VALUES (%(document_id)s, %(model)s, %(model_sha256)s, %(adapter)s, %(document_type)s,
               %(classifier)s, %(classifier_confidence)s, %(timings_ms)s, %(prompt_tokens)s,
               %(output_tokens)s, %(tokens_per_s)s, %(mean_token_prob)s, %(finished)s,
               %(raw_output)s, %(record)s, %(valid)s, %(violations)s, %(source)s, %(reviewer)s)
           RETURNING id""",
        {
            "source": "model",
            "reviewer": None,
            **run,
            "document_id": document_id,
            "document_type": doctype.name,
            "timings_ms": Jsonb(run["timings_ms"]),
            "record": Jsonb(record) if record is not None else None,
            "violations": Jsonb(run["violations"]),
        },
    ).fetchone()
    assert row is not None
    run_id: int = row["id"]
    for position, item in enumerate(fields or []):
        conn.execute(
            """INSERT INTO extracted_fields (run_id, document_id, position, path, value,
                   confidence, page, bboxes, char_start, char_end)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (run_id, document_id, position, item["path"], item["value"], item["confidence"],
             item["page"], Jsonb(item["bboxes"]), item["char_start"], item["char_end"]),
        )
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE document_id = %s").format(sql.Identifier(doctype.table)),
        (document_id,),
    )
    if record is not None:
        _insert(conn, doctype.table, {
            "document_id": document_id, "run_id": run_id,
            **{k: v for k, v in record.items() if k not in doctype.child_tables},
        })
        for field, table in doctype.child_tables.items():
            for position, item in enumerate(record.get(field) or []):
                _insert(conn, table, {"document_id": document_id, "position": position, **item})
    return run_id


def _insert(conn: Connection[Any], table: str, values: dict[str, Any]) -> None:
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    conn.execute(query, list(values.values()))


# What the records API and `docket query` show of a run (no raw output, no model hash).
RUN_SUMMARY = ("id", "created_at", "model", "adapter", "source", "reviewer", "document_type",
               "timings_ms", "prompt_tokens", "output_tokens", "tokens_per_s",
               "mean_token_prob", "finished", "record", "valid", "violations")


def _latest(columns: Sequence[str], document_id: sql.Composable) -> sql.Composed:
    """The one definition of a document's current run: its newest one (a reviewer's
    correction is a newer run than the model's)."""
    return sql.SQL(
        "SELECT {} FROM extraction_runs er WHERE er.document_id = {} ORDER BY er.id DESC LIMIT 1"
    ).format(sql.SQL(", ").join(map(sql.Identifier, columns)), document_id)


def latest_run(
    conn: Connection[Any], document_id: uuid.UUID, columns: Sequence[str] = RUN_SUMMARY
) -> dict[str, Any] | None:
    """The document's latest extraction run (`columns` of it), or None before its first."""
    return conn.execute(_latest(columns, sql.Placeholder()), (document_id,)).fetchone()


def latest_run_join(columns: Sequence[str], alias: str = "run") -> sql.Composed:
    """`LEFT JOIN LATERAL` of each `documents d` row to its latest run as `alias`: the
    `latest_run` of every row of a list query, in one statement."""
    return sql.SQL("LEFT JOIN LATERAL ({}) {} ON true").format(
        _latest(columns, sql.SQL("d.id")), sql.Identifier(alias)
    )


def batch_records(conn: Connection[Any], batch_id: uuid.UUID) -> list[dict[str, Any]]:
    """A batch's documents by filename, each with its latest run's record and violations
    (None for a document without a run)."""
    return conn.execute(
        sql.SQL("""SELECT b.filename, d.id, d.status, d.error, d.document_type, run.record,
                          run.violations
                   FROM batch_documents b JOIN documents d ON d.id = b.document_id {}
                   WHERE b.batch_id = %s ORDER BY b.filename""").format(
            latest_run_join(("record", "violations"))
        ),
        (batch_id,),
    ).fetchall()


def run_fields(conn: Connection[Any], run_id: int) -> list[dict[str, Any]]:
    """A run's per-field evidence, in answer order."""
    return conn.execute(
        """SELECT path, value, confidence, page, bboxes, char_start, char_end
           FROM extracted_fields WHERE run_id = %s ORDER BY position""",
        (run_id,),
    ).fetchall()
