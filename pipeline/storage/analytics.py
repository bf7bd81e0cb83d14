"""Filter, sort, page, stream and aggregate records through the `analytics` views.

One query model serves the API, `docket export` and the benchmark, so a filter means the same
thing everywhere. SQL is composed with psycopg.sql: identifiers come from the type registry's
whitelist, values only ever travel as parameters.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg import Connection, sql
from psycopg.rows import tuple_row
from pydantic import BaseModel, Field

from pipeline.doctypes import REGISTRY, Aggregate, DocType, QueryConfig
from pipeline.storage import records
from pipeline.storage.db import analyst_url

SCHEMA = "analytics"
MAX_LIMIT = 1000


_QUERYABLE = {name: t.query for name, t in REGISTRY.items() if t.query is not None}
_DATES = " / ".join(f"{name} {q.date_column.replace('_', ' ')}" for name, q in _QUERYABLE.items())
_NAMES = " or ".join(f"{q.name_means} ({name}s)" for name, q in _QUERYABLE.items())
_AMOUNTS = ", ".join(f"{name}s" for name, q in _QUERYABLE.items() if q.amount_column)


class QueryError(ValueError):
    """A query that cannot mean anything for this type (the API answers 422)."""


class RecordQuery(BaseModel):
    """Filters, order and page of a records query; every filter is optional."""

    date_from: dt.date | None = Field(None, description=f"{_DATES} on or after this day")
    date_to: dt.date | None = Field(None, description="... on or before this day")
    name: str | None = Field(None, description=f"{_NAMES}: case-insensitive substring")
    min_total: Decimal | None = Field(None, description=f"{_AMOUNTS}: total at least this")
    max_total: Decimal | None = Field(None, description=f"{_AMOUNTS}: total at most this")
    currency: str | None = Field(None, description="ISO 4217 code, e.g. MYR")
    status: str | None = Field(None, description="done or needs_review (document status)")
    batch_id: uuid.UUID | None = Field(None, description="documents uploaded in this batch")
    q: str | None = Field(None, description="full-text search of the document's text "
                          "(web-search syntax: words, \"a phrase\", -not, or)")
    sort: str | None = Field(None, description="a sortable column; '-column' for descending. "
                             "Ties are broken by document_id, so pages are stable")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10**12)


@dataclass(frozen=True)
class Column:
    """A result column: its name and Postgres type (for typed exports)."""

    name: str
    type: str  # Postgres type name: 'numeric', 'date', 'uuid', 'text[]'
    precision: int | None = None
    scale: int | None = None


def config(doctype: DocType) -> QueryConfig:
    if doctype.query is None:
        known = ", ".join(sorted(n for n, t in REGISTRY.items() if t.query))
        raise QueryError(f"Document type '{doctype.name}' has no analytics view; "
                         f"queryable types: {known}")
    return doctype.query


def _view(name: str) -> sql.Composable:
    return sql.Identifier(SCHEMA, name)


def _conditions(cfg: QueryConfig, query: RecordQuery) -> tuple[list[sql.Composable], list[Any]]:
    """The query's filters as SQL conditions and their parameters."""
    parts: list[sql.Composable] = []
    params: list[Any] = []
    date = sql.Identifier(cfg.date_column)
    if query.date_from is not None:
        parts.append(sql.SQL("{} >= %s").format(date))
        params.append(query.date_from)
    if query.date_to is not None:
        parts.append(sql.SQL("{} <= %s").format(date))
        params.append(query.date_to)
    if query.name:
        pattern = "%" + escape_like(query.name) + "%"
        if cfg.name_is_array:
            parts.append(sql.SQL("EXISTS (SELECT 1 FROM unnest({}) n WHERE n ILIKE %s)")
                         .format(sql.Identifier(cfg.name_column)))
        else:
            parts.append(sql.SQL("{} ILIKE %s").format(sql.Identifier(cfg.name_column)))
        params.append(pattern)
    for value, op in ((query.min_total, ">="), (query.max_total, "<=")):
        if value is None:
            continue
        if cfg.amount_column is None:
            raise QueryError(f"min_total and max_total apply to {_AMOUNTS} only.")
        parts.append(sql.SQL("{} {} %s").format(sql.Identifier(cfg.amount_column), sql.SQL(op)))
        params.append(value)
    if query.currency:
        if cfg.amount_column is None:
            raise QueryError(f"currency applies to {_AMOUNTS} only.")
        parts.append(sql.SQL("currency = %s"))
        params.append(query.currency.upper())
    if query.status:
        parts.append(sql.SQL("status = %s"))
        params.append(query.status)
    if query.batch_id is not None:
        parts.append(sql.SQL("document_id IN (SELECT document_id FROM public.batch_documents "
                             "WHERE batch_id = %s)"))
        params.append(query.batch_id)
    if query.q:
        parts.append(sql.SQL("document_id IN (SELECT id FROM public.documents WHERE "
                             "text_search @@ websearch_to_tsquery('simple', %s))"))
        params.append(query.q)
    return parts, params


def _where(cfg: QueryConfig, query: RecordQuery,
           *extra: sql.Composable) -> tuple[sql.Composable, list[Any]]:
    """The WHERE clause (or nothing) and its parameters."""
    parts, params = _conditions(cfg, query)
    parts += extra
    if not parts:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params


def escape_like(text: str) -> str:
    """`text` matched literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_by(sort: str | None, allowed: tuple[str, ...], default: str,
             tie_breakers: tuple[str, ...] = ("document_id",)) -> sql.Composable:
    """ORDER BY a whitelisted column (nulls last either way), then the tie-breakers."""
    sort = sort or default
    column = sort.removeprefix("-")
    if column not in allowed:
        raise QueryError(f"Cannot sort by '{column}'; sortable columns: {', '.join(allowed)} "
                         "(prefix '-' for descending).")
    direction = sql.SQL("DESC" if sort.startswith("-") else "ASC")
    keys: list[sql.Composable] = [
        sql.SQL("{} {} NULLS LAST").format(sql.Identifier(column), direction)]
    keys += [sql.Identifier(c) for c in tie_breakers if c != column]
    return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(keys)


def _select(doctype: DocType, query: RecordQuery) -> tuple[sql.Composed, list[Any]]:
    """The whole matching, ordered query without LIMIT/OFFSET."""
    cfg = config(doctype)
    where, params = _where(cfg, query)
    order = order_by(query.sort, cfg.sortable, cfg.default_sort)
    return sql.SQL("SELECT * FROM {}").format(_view(cfg.view)) + where + order, params


def validate(doctype: DocType, query: RecordQuery) -> None:
    """Raise QueryError now, before a streamed response has started, if the query is bad."""
    _select(doctype, query)


def list_records(conn: Connection[Any], doctype: DocType,
                 query: RecordQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of matching rows and how many match in all."""
    select, params = _select(doctype, query)
    rows = conn.execute(select + sql.SQL(" LIMIT %s OFFSET %s"),
                        [*params, query.limit, query.offset]).fetchall()
    return rows, count(conn, doctype, query)


def get_record(conn: Connection[Any], doctype: DocType,
               document_id: uuid.UUID) -> dict[str, Any] | None:
    """The record's view row, its child rows, and the latest run with its fields' evidence."""
    cfg = config(doctype)
    row = conn.execute(sql.SQL("SELECT * FROM {} WHERE document_id = %s")
                       .format(_view(cfg.view)), [document_id]).fetchone()
    if row is None:
        return None
    children = conn.execute(
        sql.SQL("SELECT * FROM {} WHERE document_id = %s ORDER BY {}")
        .format(_view(cfg.children_view), sql.Identifier(cfg.children_order)), [document_id],
    ).fetchall()
    run = records.latest_run(conn, document_id)
    fields = records.run_fields(conn, run["id"]) if run else []
    return {"record": row, "children": children, "run": run, "fields": fields}


def columns(conn: Connection[Any], doctype: DocType) -> list[Column]:
    """The view's columns with their types, read from the server (no rows fetched)."""
    cfg = config(doctype)
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(_view(cfg.view)))
    result: list[Column] = []
    for d in cur.description or []:
        info = conn.adapters.types.get(d.type_code)
        name = info.name if info else "text"
        if info and d.type_code == info.array_oid:
            name += "[]"
        result.append(Column(d.name, name, d.precision, d.scale))
    return result


def count(conn: Connection[Any], doctype: DocType, query: RecordQuery) -> int:
    cfg = config(doctype)
    where, params = _where(cfg, query)
    row = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(_view(cfg.view)) + where,
                       params).fetchone()
    return int(row["n"]) if row else 0


def iter_rows(conn: Connection[Any], doctype: DocType, query: RecordQuery,
              chunk_size: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """Every matching row (limit and offset ignored), in chunks, via a server-side cursor:
    memory stays one chunk whatever the export's size. Columns as `columns()` gives them."""
    select, params = _select(doctype, query)
    with conn.transaction(), conn.cursor(name=f"export_{uuid.uuid4().hex}",
                                         row_factory=tuple_row) as cur:
        cur.itersize = chunk_size
        cur.execute(select, params)
        while chunk := cur.fetchmany(chunk_size):
            yield chunk


def aggregate(conn: Connection[Any], doctype: DocType, agg: Aggregate,
              query: RecordQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of the aggregate's groups over the matching records, and how many groups in
    all. Its SQL fragments are the type package's own text; values are parameters."""
    cfg = config(doctype)
    extra = [sql.SQL(agg.where)] if agg.where else []
    where, params = _where(cfg, query, *extra)
    groups = (sql.SQL("SELECT {} FROM {}").format(sql.SQL(agg.select), _view(cfg.view))
              + where + sql.SQL(" GROUP BY {}").format(sql.SQL(agg.group_by)))
    order = order_by(query.sort, agg.sortable, agg.default_sort, tie_breakers=agg.tie_breakers)
    rows = conn.execute(sql.SQL("SELECT * FROM (") + groups + sql.SQL(") g") + order
                        + sql.SQL(" LIMIT %s OFFSET %s"),
                        [*params, query.limit, query.offset]).fetchall()
    counted = conn.execute(sql.SQL("SELECT count(*) AS n FROM (") + groups + sql.SQL(") g"),
                           params).fetchone()
    return rows, int(counted["n"]) if counted else 0


class CannotConnect(Exception):
    """The analyst role could not connect (no role yet, or a wrong URL)."""


def run_readonly_sql(sql_text: str, max_rows: int) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    """Column names, up to `max_rows` rows, and whether there were more. Read-only twice
    over: the role's default, and this transaction's own READ ONLY."""
    import psycopg

    try:
        conn = psycopg.connect(analyst_url())
    except psycopg.OperationalError as exc:
        raise CannotConnect(str(exc).strip()) from exc
    with conn:
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute(sql_text)  # no parameters: '%' in the text stays as written
            if cur.description is None:
                return [], [], False
            names = [d.name for d in cur.description]
            rows = cur.fetchmany(max_rows + 1)
        conn.rollback()
    return names, rows[:max_rows], len(rows) > max_rows
