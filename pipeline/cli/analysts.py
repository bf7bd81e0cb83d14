"""`docket query` (SQL as the read-only analyst role) and `docket export` (CSV / Parquet),
over the analytics views (`pipeline.storage.analytics`, `pipeline.analytics.exports`).

Heavy modules are imported inside the commands so that `docket --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline import doctypes
from pipeline.cli.common import console, err, progress

VIEWS = ", ".join([
    *(view for t in doctypes.REGISTRY.values() if t.query
      for view in (t.query.view, t.query.children_view, *t.query.extra_views)),
    "extraction_quality", "review_queue", "corrections"])
QUERY_TYPES = " or ".join(t.name for t in doctypes.REGISTRY.values() if t.query)
AMOUNT_TYPES = ", ".join(f"{t.name}s" for t in doctypes.REGISTRY.values()
                         if t.query and t.query.amount_column)
READ_ONLY = ("docket query runs as the read-only role docket_analyst: it may only read the "
             f"analytics views ({VIEWS}); it cannot write, create, or read other tables.")


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]{message}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


# Read-only transaction, no privilege, view not updatable, no such table (outside the views).
REFUSED = {"25006", "42501", "55000", "42P01"}


def _print_table(names: list[str], rows: list[tuple[Any, ...]], more: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipeline.analytics.exports import csv_value

    table = Table(*names, header_style="bold")
    for row in rows:
        table.add_row(*("[dim]null[/]" if v is None else str(csv_value(v)) for v in row))
    # Piped: no terminal width to fit, so do not squeeze the columns.
    (console if console.is_terminal else Console(width=240)).print(table)
    note = f" (first {len(rows)}; raise --max-rows for more)" if more else ""
    err.print(f"{len(rows)} rows{note}", highlight=False)


def query(
    sql_text: Annotated[str, typer.Argument(metavar="SQL", help="one SQL statement")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="a JSON array of objects")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="rows to show")] = 1000,
) -> None:
    """Run SQL against the analytics views as the read-only analyst role."""
    import psycopg

    from pipeline.storage.analytics import CannotConnect, run_readonly_sql

    try:
        names, rows, more = run_readonly_sql(sql_text, max_rows)
    except CannotConnect as exc:
        _fail(f"Cannot connect as the analyst role: {exc}. Run `docket migrate` (it creates "
              "the role), or set DOCKET_ANALYST_DATABASE_URL.")
        return
    except psycopg.Error as exc:
        said = str(exc).strip()
        if exc.sqlstate in REFUSED:
            _fail(f"{READ_ONLY}\nPostgres said: {said}")
        _fail(f"The query failed: {said}")
        return
    if as_csv:
        import csv

        from pipeline.analytics.exports import csv_value

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[csv_value(v) for v in row] for row in rows])
    elif as_json:
        import json

        print(json.dumps([dict(zip(names, row, strict=True)) for row in rows], default=str,
                         indent=2, ensure_ascii=False))
    else:
        _print_table(names, rows, more)


def export(
    doc_type: Annotated[str, typer.Option("--type", help=QUERY_TYPES)],
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    date_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    name: Annotated[str | None, typer.Option(help="the type's name filter (substring)")] = None,
    min_total: Annotated[str | None, typer.Option(help=f"{AMOUNT_TYPES}: total ≥")] = None,
    max_total: Annotated[str | None, typer.Option(help=f"{AMOUNT_TYPES}: total ≤")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code")] = None,
    status: Annotated[str | None, typer.Option(help="done or needs_review")] = None,
    batch: Annotated[str | None, typer.Option(help="batch id")] = None,
    q: Annotated[str | None, typer.Option(help="full-text search of the documents")] = None,
    sort: Annotated[str | None, typer.Option(help="column, '-column' for descending")] = None,
) -> None:
    """Export every matching record to CSV or Parquet (the API's filters)."""
    from pydantic import ValidationError

    from pipeline.analytics import exports
    from pipeline.storage import analytics as records
    from pipeline.storage.db import connect

    if fmt not in exports.FORMATS:
        _fail(f"Unknown format '{fmt}'; use one of: {', '.join(exports.FORMATS)}", 2)
    try:
        doctype = doctypes.get(doc_type)
        filters = records.RecordQuery.model_validate({
            "date_from": date_from, "date_to": date_to, "name": name, "min_total": min_total,
            "max_total": max_total, "currency": currency, "status": status, "batch_id": batch,
            "q": q, "sort": sort})
        records.validate(doctype, filters)
    except (ValueError, ValidationError) as exc:
        _fail(str(exc), 2)
        return
    writer = exports.write_csv if fmt == "csv" else exports.write_parquet
    with connect() as conn, out.open("wb") as file, progress() as bar:
        task = bar.add_task(f"{doctype.name}s → {out.name}",
                            total=records.count(conn, doctype, filters))

        def counted() -> Any:
            for chunk in records.iter_rows(conn, doctype, filters):
                yield chunk
                bar.advance(task, len(chunk))

        for data in writer(records.columns(conn, doctype), counted()):
            file.write(data)
        written = int(bar.tasks[0].completed)
    err.print(f"[green]{written} {doctype.name}s[/] → {out} ({out.stat().st_size} bytes)")

