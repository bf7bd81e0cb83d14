"""`docket webhooks`: the delivery worker, and a webhook's delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, err

webhooks_app = typer.Typer(help="Webhook deliveries.", no_args_is_help=True)


@webhooks_app.command("worker")
def webhooks_worker(
    concurrency: Annotated[int | None, typer.Option(
        help="deliveries at once (default DOCKET_WEBHOOK_CONCURRENCY)")] = None,
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Send webhook events (apart from the extraction workers: it never loads the model)."""
    from workers.webhook_app import WEBHOOK_QUEUE, app, settings

    app.worker_main(["worker", f"--queues={WEBHOOK_QUEUE}", "--pool=threads",
                     f"--concurrency={concurrency or settings.webhook_concurrency}",
                     f"--loglevel={loglevel}", "--hostname=webhooks@%h"])


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    webhook_id: uuid.UUID,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """A webhook's events, newest first, with each attempt."""
    from pipeline.storage import webhooks
    from pipeline.storage.db import connect

    with connect() as conn:
        if webhooks.get(conn, webhook_id) is None:
            err.print(f"[red]No webhook {webhook_id}[/]")
            raise typer.Exit(1)
        rows = webhooks.deliveries(conn, webhook_id, limit, 0)
    table = Table("event", "document or batch", "status", "attempt", "at", "answer")
    for row in rows:
        subject = str(row["document_id"] or row["batch_id"])
        for attempt in row["attempt_log"] or [None]:
            table.add_row(
                row["event"], subject, row["status"],
                str(attempt["attempt"]) if attempt else "-",
                f"{attempt['attempted_at']:%Y-%m-%d %H:%M:%S}" if attempt else "-",
                (attempt["error"] or str(attempt["status_code"])) if attempt else "not tried yet")
    console.print(table)
