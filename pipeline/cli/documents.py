"""`docket` commands for documents: the database, ingest and run, status, extract without a
database, reprocess and requeue, and the worker and API processes. `pipeline.cli` registers
them as top-level commands."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline import doctypes
from pipeline.cli.common import Paths, TypeOption, console, err, progress


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def migrate() -> None:
    """Create the database if needed and apply all migrations."""
    from pipeline.settings import get_settings
    from pipeline.storage.db import create_database_if_missing
    from pipeline.storage.db import migrate as run_migrations

    url = get_settings().database_url
    create_database_if_missing(url)
    run_migrations(url)
    err.print(f"[green]Database is up to date[/] ({url})")


def _collect(paths: list[Path]) -> list[Any]:
    from pipeline.ingest import iter_uploads
    from pipeline.settings import get_settings

    try:
        return list(iter_uploads(paths, get_settings()))
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _store(paths: list[Path], doc_type: str | None, source: str,
           callback_url: str | None = None) -> Any:
    from pipeline.ingest import store_uploads
    from pipeline.settings import get_settings
    from pipeline.storage.db import connect
    from pipeline.webhooks import targets

    settings = get_settings()
    if callback_url is not None and (problem := targets.problem(callback_url, settings)):
        err.print(f"[red]{problem}[/]")
        raise typer.Exit(2)
    uploads = _collect(paths)
    with connect() as conn, progress() as bar:
        task = bar.add_task("Storing", total=len(uploads))
        result = store_uploads(conn, uploads, settings, source, doc_type,
                               progress=lambda _: bar.advance(task), callback_url=callback_url)
    for name, reason in result.refused:
        err.print(f"[yellow]refused[/] {name}: {reason}")
    return result


def ingest(
    paths: Paths,
    doc_type: TypeOption = None,
    callback: Annotated[str | None, typer.Option(
        help="POST signed events to this URL: each document's end and the batch's")] = None,
) -> None:
    """Store documents as one batch and queue them for the workers; prints the batch id."""
    from pipeline.queue import enqueue

    result = _store(paths, doc_type, "cli", callback)
    queued = enqueue(result.to_process)
    duplicates = sum(s.duplicate for s in result.stored)
    err.print(f"{queued} queued, {duplicates} already known, {len(result.refused)} refused. "
              f"Follow it with: docket status {result.batch_id}")
    if result.webhook is not None:
        err.print(f"Events go to {callback}, signed with {result.webhook.secret} (shown only "
                  f"now); their log: docket webhooks deliveries {result.webhook.id}")
    typer.echo(result.batch_id)


def run(
    paths: Paths,
    doc_type: TypeOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Store and process documents in this process (no broker), then print their records."""
    from pipeline.process import fail_unexpectedly, process_document
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime

    _setup_logging(verbose)
    settings = get_settings()
    result = _store(paths, doc_type, "run")
    with err.status(f"Loading {settings.model}…"):
        runtime = get_runtime(settings)
    with progress() as bar:
        task = bar.add_task("Extracting", total=len(result.to_process))
        for document_id in result.to_process:
            try:
                process_document(document_id, runtime, settings)
            except Exception as exc:  # a bug in one document must not stop the batch
                fail_unexpectedly(document_id, settings, exc)
                err.print_exception()
            bar.advance(task)
    _print_batch(result.batch_id)


def status(batch_id: uuid.UUID) -> None:
    """Counts by status for a batch, and its documents' records."""
    _print_batch(batch_id)


def _print_batch(batch_id: uuid.UUID) -> None:
    from pipeline.settings import get_settings
    from pipeline.storage import documents, records
    from pipeline.storage.db import connect
    from pipeline.storage.documents import Status

    with connect() as conn:
        counts = documents.batch_counts(conn, batch_id)
        if counts is None:
            err.print(f"[red]No batch {batch_id}[/]")
            raise typer.Exit(1)
        rows = records.batch_records(conn, batch_id)
    table = Table(title=f"Batch {batch_id}", show_lines=True)
    for column in ("file", "type", "status", "extracted", "why"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if row["status"] == Status.NEEDS_REVIEW and row["violations"]:
            why = "\n".join(v["rule"] for v in row["violations"])  # full text: API and SQL
        else:
            why = row["error"] or ""
        table.add_row(Path(row["filename"]).name, row["document_type"] or "", row["status"],
                      _summarize(row["record"], row["document_type"]) if row["record"] else "",
                      f"[yellow]{why}[/]")
    console.print(table)
    console.print(" · ".join(f"{k}: {v}" for k, v in counts.items())
                  + "   (why: rule names; full messages in documents.error and the API)")
    url = get_settings().database_url
    found = [doctypes.REGISTRY[t] for t in sorted({r["document_type"] for r in rows
                                                   if r["document_type"] in doctypes.REGISTRY})]
    views = [t.query.view for t in found if t.query] or ["extraction_quality"]
    console.print(
        f"Next: API  http://127.0.0.1:8000/v1/batches/{batch_id} (after `docket api`)\n"
        f"      SQL  psql {url} -c 'SELECT * FROM analytics.{views[0]} LIMIT 20'"
    )


def _summarize(record: dict[str, Any], doc_type: str | None) -> str:
    """The fields an analyst looks at first (the type's `summary_fields`), one per line; a
    list field as its length, or its entries' names."""
    doctype = doctypes.REGISTRY.get(doc_type or "")
    lines = []
    for key in doctype.summary_fields if doctype else ():
        value = record.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            names = [v["name"] for v in value if isinstance(v, dict) and v.get("name")]
            value = "; ".join(names) if names else len(value)
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def extract(
    files: Annotated[list[Path], typer.Argument(help="documents to extract")],
    doc_type: TypeOption = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="one JSON object per line")] = False,
) -> None:
    """Extract records without the database: one JSON line per file (a stable contract)."""
    from pipeline.process import run_stages
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.storage.documents import Status

    settings = get_settings()
    runtime = get_runtime(settings)
    for path in files:
        if not path.is_file():
            err.print(f"[red]No such file: {path}[/]")
            raise typer.Exit(2)
        outcome = run_stages(path.read_bytes(), path.name, runtime, settings, doc_type)
        line = {
            "file": str(path),
            "document_type": outcome.document_type,
            "record": outcome.record_json(),
            "valid": outcome.status == Status.DONE,
            "errors": ([outcome.error] if outcome.status == Status.FAILED and outcome.error else [])
            + [f"{v['rule']}: {v['message']}" for v in outcome.violations_json()],
            "timings_ms": outcome.timings_ms,
            "adapter": outcome.extraction.generation.adapter if outcome.extraction else None,
            "fields": outcome.fields_json(),
        }
        typer.echo(json.dumps(line, ensure_ascii=False) if jsonl
                   else json.dumps(line, indent=2, ensure_ascii=False))


def worker(
    concurrency: Annotated[int, typer.Option(help="worker processes (each loads the model)")] = 1,
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Start a Celery worker that processes queued documents."""
    import os
    import tempfile

    from pipeline.settings import get_settings

    if get_settings().worker_metrics_port:  # see pipeline.worker_metrics
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                              tempfile.mkdtemp(prefix="docket-metrics-"))
    from workers.celery_app import app as celery_app

    celery_app.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
                            "--pool=prefork"])


def api(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    uvicorn.run("pipeline.api:app", host=host, port=port)


def requeue() -> None:
    """Queue every document the database says is unfinished (after a broker outage)."""
    from pipeline.queue import enqueue
    from pipeline.storage import documents
    from pipeline.storage.db import connect

    with connect() as conn:
        ids = documents.pending(conn)
    err.print(f"{enqueue(ids)} documents queued again")


def reprocess(document_id: uuid.UUID) -> None:
    """Run a document again; its record is replaced, not duplicated."""
    from pipeline.queue import enqueue
    from pipeline.storage import documents
    from pipeline.storage.db import connect

    with connect() as conn:
        if documents.get_document(conn, document_id) is None:
            err.print(f"[red]No document {document_id}[/]")
            raise typer.Exit(1)
        documents.requeue(conn, document_id)
    enqueue([document_id])
    err.print(f"{document_id} queued")
