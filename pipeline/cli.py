"""The `docket` command: ingest, run, extract, worker, api, and the operator's chores."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import cli_analysts, doctypes

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may come from a model hub at run time

app = typer.Typer(help="Docket: offline document extraction on CPU.", no_args_is_help=True)
model_app = typer.Typer(help="The base language model.", no_args_is_help=True)
app.add_typer(model_app, name="model")
router_app = typer.Typer(help="The document-type router.", no_args_is_help=True)
app.add_typer(router_app, name="router")
adapters_app = typer.Typer(help="Domain LoRA adapters (adapters/<name>/).", no_args_is_help=True)
app.add_typer(adapters_app, name="adapters")
keys_app = typer.Typer(help="API keys and their roles.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console()
err = Console(stderr=True)

TYPE_CHOICES = " | ".join(doctypes.REGISTRY)
DATASET_CHOICES = " | ".join(doctypes.DATASETS)
TypeOption = Annotated[
    str | None, typer.Option("--type", help=f"document type hint: {TYPE_CHOICES}")
]
Paths = Annotated[list[Path], typer.Argument(help="files, folders or .zip archives")]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    )


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def migrate() -> None:
    """Create the database if needed and apply all migrations."""
    from pipeline.settings import get_settings
    from pipeline.storage.db import create_database_if_missing
    from pipeline.storage.db import migrate as run_migrations

    url = get_settings().database_url
    create_database_if_missing(url)
    run_migrations(url)
    err.print(f"[green]Database is up to date[/] ({url})")


@model_app.command("prepare")
def model_prepare(
    model: Annotated[str | None, typer.Option(help="gemma-3-270m or smollm2-135m")] = None,
) -> None:
    """Convert the packaged GGUF weights to the cached forms the runtimes load (once): a
    transformers folder (training, reference) and its ONNX export (serving)."""
    from pipeline.settings import get_settings
    from pipeline.slm.models import prepare

    settings = get_settings()
    prepared = prepare(model or settings.model, settings.model_cache_dir)
    err.print(f"[green]{prepared.name}[/] ready at {prepared.path}")
    if settings.runtime == "onnx":
        from pipeline.slm.onnx_export import export

        exported = export(prepared)
        err.print(f"[green]{prepared.name}[/] ONNX export (int{exported.info['bits']}) ready at "
                  f"{exported.path}")


@router_app.command("train")
def router_train() -> None:
    """Train the router head on ../shared/datasets (our own conversion of each document)."""
    from pipeline.classify import ROUTER_DIR
    from pipeline.router_training import train_router
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime

    settings = get_settings()
    manifest = train_router(ROUTER_DIR, get_runtime(settings), settings, progress=err.print)
    console.print_json(data=manifest["dev"])


@router_app.command("eval")
def router_eval() -> None:
    """Accuracy of the committed router head on the dev splits."""
    from pipeline.router_training import evaluate_router
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime

    settings = get_settings()
    console.print_json(data=evaluate_router(get_runtime(settings), settings, progress=err.print))


@adapters_app.command("train")
def adapters_train(
    doc_type: Annotated[str | None, typer.Option(
        "--type", help=f"document type: {TYPE_CHOICES} (default: the dataset's)")] = None,
    data: Annotated[str | None, typer.Option(
        help=f"a registered dataset ({DATASET_CHOICES}) or a folder in one's layout; "
        "its train split")] = None,
    from_corrections: Annotated[bool, typer.Option(
        "--from-corrections", help="learn from reviewers' corrections in the database; "
        "without --data, continues training the type's current adapter")] = False,
    resume: Annotated[bool, typer.Option(
        "--continue", help="continue the type's current adapter (same rank and layers) "
        "instead of training a new one")] = False,
    epochs: Annotated[float, typer.Option(help="passes over the training data")] = 1.0,
    synthetic: Annotated[int | None, typer.Option(
        help="generated, fully labelled documents added (default: the dataset's)")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many documents")] = None,
    output: Annotated[Path | None, typer.Option(help="default: adapters/<type>/")] = None,
) -> None:
    """Train a LoRA adapter for a document type on Docket's own conversion of labelled data,
    on reviewers' corrections, or both."""
    from pipeline.settings import get_settings
    from pipeline.slm.adapters import ADAPTERS_DIR
    from pipeline.training.job import plan
    from pipeline.training.lora import TrainConfig, train

    settings = get_settings()
    with _progress() as bar:
        task = bar.add_task("converting", total=None)
        try:
            job = plan(doc_type, data, from_corrections, resume, synthetic, limit, settings,
                       lambda n, total: bar.update(task, completed=n, total=total))
        except ValueError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
        train_task = bar.add_task("training", total=None)

        def step(n: int, total: int, loss: float) -> None:
            bar.update(train_task, completed=n, total=total,
                       description=f"training (loss {loss:.3f})")
            if not err.is_terminal and (n % 10 == 0 or n == total):  # a log, not a screen
                err.print(f"step {n}/{total} loss {loss:.3f} {bar.tasks[-1].elapsed:.0f} s")

        manifest = train(job.targets, output or ADAPTERS_DIR / job.doc_type, settings,
                         TrainConfig(epochs=epochs), job.summary, step, job.init_adapter)
    console.print_json(data=manifest["training"])


@adapters_app.command("list")
def adapters_list() -> None:
    """The committed adapters, their base model and headline eval figures."""
    from pipeline.slm.adapters import available

    table = Table("adapter", "base model", "rank", "train docs", "train time", "eval")
    for a in available():
        m = a.manifest
        training = m.get("training", {})
        table.add_row(a.name, f"{m.get('base_model')} ({str(m.get('base_model_sha256'))[:12]})",
                      str(m.get("rank")), str(training.get("documents")),
                      f"{training.get('seconds', 0) / 60:.0f} min",
                      json.dumps(m.get("eval", {}).get("headline", {})))
    console.print(table)


@adapters_app.command("show")
def adapters_show(name: str) -> None:
    """One adapter's manifest."""
    from pipeline.slm.adapters import find

    try:
        console.print_json(data=find(name).manifest)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


EvalLimit = Annotated[int | None, typer.Option(help="the first N dev documents")]
ZeroShotLimit = Annotated[int | None, typer.Option(
    help="zero-shot (no adapter) on the first N of those (default: the same N; 0: skip)")]
ReportPath = Annotated[Path | None, typer.Option(help="where the JSON report goes")]


@adapters_app.command("eval")
def adapters_eval(
    name: Annotated[str, typer.Argument(help=f"an adapter's type: {TYPE_CHOICES}")],
    limit: EvalLimit = None,
    zero_shot_limit: ZeroShotLimit = None,
    report: ReportPath = None,
) -> None:
    """`docket eval` on the dev split of each dataset this adapter's type is scored on."""
    from pipeline import doctypes

    found = doctypes.datasets_of(name)
    if not found:
        scored = sorted({d.doc_type for d in doctypes.DATASETS.values()})
        err.print(f"[red]No evaluation dataset for '{name}':[/] types with one: "
                  f"{', '.join(scored)}.")
        raise typer.Exit(2)
    for data in found:
        eval_command(data.name, limit, zero_shot_limit, report)


@app.command("eval")
def eval_command(
    dataset: Annotated[str, typer.Option(help=f"{DATASET_CHOICES} (its dev split)")],
    limit: EvalLimit = None,
    zero_shot_limit: ZeroShotLimit = None,
    report: ReportPath = None,
) -> None:
    """Run the whole pipeline on a dataset's dev split and print the dataset's own scores."""
    from pipeline import doctypes, evaluation
    from pipeline.datasets import CACHE_DIR
    from pipeline.settings import get_settings
    from pipeline.slm.adapters import find
    from pipeline.slm.factory import get_runtime
    from pipeline.training.lora import write_manifest

    try:
        doctypes.dataset(dataset)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    settings = get_settings()
    runtime = get_runtime(settings)
    with _progress() as bar:
        tasks: dict[str, Any] = {}

        def step(mode: str, n: int, total: int) -> None:
            if mode not in tasks:
                tasks[mode] = bar.add_task(mode, total=total)
            bar.update(tasks[mode], completed=n)
            if not err.is_terminal and (n % 10 == 0 or n == total):
                err.print(f"{mode} {n}/{total}")

        result = evaluation.evaluate(dataset, runtime, settings, limit,
                                     limit if zero_shot_limit is None else zero_shot_limit, step)
    path = report or CACHE_DIR / "eval" / f"{dataset}.json"
    evaluation.write_report(result, path)
    _print_eval(result)
    summary = evaluation.headline(result)
    if result["adapter"] and limit is None:  # the full dev split: the adapter's own figures
        adapter = find(result["adapter"])
        write_manifest(adapter.path, {**adapter.manifest, "eval": {
            "dataset": dataset, "split": "dev", "headline": summary,
            "adapter": result["modes"]["adapter"], "created_at": result["created_at"]}})
    err.print(f"report: {path}")
    typer.echo(json.dumps(summary))


def _print_eval(result: dict[str, Any]) -> None:
    modes = result["modes"]
    table = Table(f"{result['dataset']} dev", *modes)
    rows: list[tuple[str, list[Any]]] = [("documents", [m["documents"] for m in modes.values()])]
    first: dict[str, Any] = next(iter(modes.values()), {})
    for key in first.get("fields", {}):
        rows.append((key, [m["fields"][key] for m in modes.values()]))
    for key in ("mean_accuracy", "f1", "router_accuracy", "schema_valid",
                "seconds_per_document", "output_tokens_mean"):
        if key in first:
            rows.append((key, [m[key] for m in modes.values()]))
    for mode in modes.values():
        mode["_cal"] = mode["calibration"]
    rows.append(("acc. ≥ / < threshold", [
        f"{m['_cal']['accuracy_above']} ({m['_cal']['fields_above']}) / "
        f"{m['_cal']['accuracy_below']} ({m['_cal']['fields_below']})" for m in modes.values()]))
    for mode in modes.values():
        del mode["_cal"]
    for name, values in rows:
        table.add_row(name, *(str(v) for v in values))
    console.print(table)
    if "context_recall" in result:
        console.print(f"labelled values in the model's context: {result['context_recall']}")


def _collect(paths: list[Path]) -> list[Any]:
    from pipeline.ingest import iter_uploads
    from pipeline.settings import get_settings

    try:
        return list(iter_uploads(paths, get_settings()))
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _store(paths: list[Path], doc_type: str | None, source: str) -> Any:
    from pipeline.ingest import store_uploads
    from pipeline.settings import get_settings
    from pipeline.storage.db import connect

    uploads = _collect(paths)
    with connect() as conn, _progress() as bar:
        task = bar.add_task("Storing", total=len(uploads))
        result = store_uploads(conn, uploads, get_settings(), source, doc_type,
                               progress=lambda _: bar.advance(task))
    for name, reason in result.refused:
        err.print(f"[yellow]refused[/] {name}: {reason}")
    return result


@app.command()
def ingest(
    paths: Paths,
    doc_type: TypeOption = None,
) -> None:
    """Store documents as one batch and queue them for the workers; prints the batch id."""
    from pipeline.queue import enqueue

    result = _store(paths, doc_type, "cli")
    queued = enqueue(result.to_process)
    duplicates = sum(s.duplicate for s in result.stored)
    err.print(f"{queued} queued, {duplicates} already known, {len(result.refused)} refused. "
              f"Follow it with: docket status {result.batch_id}")
    typer.echo(result.batch_id)


@app.command()
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
    with _progress() as bar:
        task = bar.add_task("Extracting", total=len(result.to_process))
        for document_id in result.to_process:
            try:
                process_document(document_id, runtime, settings)
            except Exception as exc:  # a bug in one document must not stop the batch
                fail_unexpectedly(document_id, settings, exc)
                err.print_exception()
            bar.advance(task)
    _print_batch(result.batch_id)


@app.command()
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


@app.command()
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


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="worker processes (each loads the model)")] = 1,
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Start a Celery worker that processes queued documents."""
    from workers.celery_app import app as celery_app

    celery_app.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
                            "--pool=prefork"])


@app.command()
def api(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    uvicorn.run("pipeline.api:app", host=host, port=port)


@app.command()
def requeue() -> None:
    """Queue every document the database says is unfinished (after a broker outage)."""
    from pipeline.queue import enqueue
    from pipeline.storage import documents
    from pipeline.storage.db import connect

    with connect() as conn:
        ids = documents.pending(conn)
    err.print(f"{enqueue(ids)} documents queued again")


@app.command()
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


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="uploader, reviewer, analyst or admin")],
    name: Annotated[str, typer.Option(help="who or what holds the key")],
) -> None:
    """Create an API key; the key is printed once (only its hash is stored)."""
    from pipeline.storage.db import connect
    from pipeline.storage.keys import ROLES, create_key

    if role not in ROLES:
        err.print(f"[red]Unknown role '{role}'[/]; use one of: {', '.join(ROLES)}")
        raise typer.Exit(2)
    with connect() as conn:
        key, secret = create_key(conn, name, role)
    err.print(f"[green]{role} key for {name}[/] (id {key.id}). It is shown only now; "
              "send it as the X-API-Key header:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list() -> None:
    """The keys: name, role, when created and last used (never the key itself)."""
    from pipeline.storage.db import connect
    from pipeline.storage.keys import list_keys

    with connect() as conn:
        rows = list_keys(conn)
    table = Table("id", "name", "role", "starts with", "created", "last used", "revoked")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["role"], r["prefix"] + "…",
                      f"{r['created_at']:%Y-%m-%d %H:%M}",
                      f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "",
                      f"{r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "")
    # Piped: no terminal width to fit, so do not squeeze the columns.
    (console if console.is_terminal else Console(width=200)).print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: uuid.UUID) -> None:
    """Revoke a key: it stops working at once."""
    from pipeline.storage.db import connect
    from pipeline.storage.keys import revoke_key

    with connect() as conn:
        if not revoke_key(conn, key_id):
            err.print(f"[red]No live key {key_id}[/]")
            raise typer.Exit(1)
    err.print(f"{key_id} revoked")


cli_analysts.register(app)

if __name__ == "__main__":
    sys.exit(app())
