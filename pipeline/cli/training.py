"""`docket training`: the trainer that retrains adapters on reviewers' corrections by itself,
a run started by hand, and what the runs did."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import TYPE_CHOICES, console, err, progress

training_app = typer.Typer(help="Retraining adapters on reviewers' corrections.",
                           no_args_is_help=True)


@training_app.command("worker")
def training_worker(loglevel: Annotated[str, typer.Option()] = "INFO") -> None:
    """The trainer: checks every DOCKET_RETRAIN_CHECK_S, inside DOCKET_RETRAIN_WINDOW, for a
    type with DOCKET_RETRAIN_MIN_CORRECTIONS new corrections; one run at a time, at the
    lowest CPU priority. Run one per deployment (it carries the schedule)."""
    from workers.training_app import TRAINING_QUEUE, app, settings

    schedule = settings.model_cache_dir / "trainer-beat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    app.worker_main(["worker", f"--queues={TRAINING_QUEUE}", "--pool=prefork",
                     "--concurrency=1", "--beat", f"--schedule={schedule}",
                     f"--loglevel={loglevel}", "--hostname=trainer@%h"])


@training_app.command("run")
def training_run(
    doc_type: Annotated[str, typer.Argument(help=f"a type's adapter: {TYPE_CHOICES}")],
) -> None:
    """Retrain one adapter now, whatever the window and the count: scrub its corrections,
    continue its current version on them, and promote the result if the gate allows."""
    from pipeline import doctypes
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.training.retraining import run

    adapters = doctypes.adapters()
    if doc_type not in adapters:
        err.print(f"[red]No adapter '{doc_type}'[/]: one of {', '.join(adapters)}.")
        raise typer.Exit(2)
    settings = get_settings()
    with progress() as bar:
        tasks: dict[str, Any] = {}

        def show(stage: str, state: dict[str, Any]) -> None:
            label = state.get("comparing", stage)
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=None)
            bar.update(tasks[label], completed=state.get("step", 0), total=state.get("total"),
                       description=label + (f" (loss {state['loss']:.3f})"
                                            if "loss" in state else ""))

        outcome = run(doc_type, settings, lambda: get_runtime(settings), "docket training run",
                      listener=show)
    colour = {"promoted": "green", "refused": "yellow"}.get(outcome.status, "red")
    err.print(f"[{colour}]{outcome.status}[/]"
              + (f" {doc_type} v{outcome.version}" if outcome.version else "")
              + f": {outcome.reason}")
    if outcome.status in ("failed", "busy"):
        raise typer.Exit(1)


@training_app.command("status")
def training_status(
    doc_type: Annotated[str | None, typer.Argument(help="one adapter (default: all)")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """The latest training runs: stage and progress while running, then the outcome."""
    from pipeline.storage import training_runs
    from pipeline.storage.db import connect

    with connect() as conn:
        runs = training_runs.listing(conn, doc_type, limit)
    table = Table("run", "adapter", "status", "stage", "progress", "version", "by", "started",
                  "took", "reason")
    for r in runs:
        table.add_row(str(r["id"]), r["adapter"], r["status"], r["stage"],
                      describe_progress(r["progress"]) if r["status"] == "running" else "",
                      str(r["version"] or ""), r["triggered_by"],
                      f"{r['started_at']:%Y-%m-%d %H:%M}",
                      " ".join(f"{k} {r['stage_seconds'][k]:.0f}s" for k in training_runs.STAGES
                               if k in r["stage_seconds"]),
                      r["reason"] or "")
    console.print(table)


def describe_progress(state: dict[str, Any]) -> str:
    """'step 12/40, loss 0.412' / 'current: dataset 3/20'."""
    parts = []
    if "comparing" in state:
        parts.append(state["comparing"])
    if "step" in state:
        parts.append(f"{state['step']}/{state['total']}")
    if "loss" in state:
        parts.append(f"loss {state['loss']:.3f}")
    if "examples" in state and "step" not in state:
        parts.append(f"{state['examples']} examples")
    return ", ".join(parts)
