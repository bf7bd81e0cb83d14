"""`docket` commands for the models: the base model, the type router, the domain adapters,
and `docket eval` (the whole pipeline on a dataset's dev split; `pipeline.cli` registers
`eval_command` as a top-level command, the groups as `model`, `router` and `adapters`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import DATASET_CHOICES, TYPE_CHOICES, console, err, progress

model_app = typer.Typer(help="The base language model.", no_args_is_help=True)
router_app = typer.Typer(help="The document-type router.", no_args_is_help=True)
adapters_app = typer.Typer(help="Domain LoRA adapters (adapters/<name>/).", no_args_is_help=True)


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
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.training.router import train_router

    settings = get_settings()
    manifest = train_router(ROUTER_DIR, get_runtime(settings), settings, progress=err.print)
    console.print_json(data=manifest["dev"])


@router_app.command("eval")
def router_eval() -> None:
    """Accuracy of the committed router head on the dev splits."""
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.training.router import evaluate_router

    settings = get_settings()
    console.print_json(data=evaluate_router(get_runtime(settings), settings, progress=err.print))


@adapters_app.command("train")
def adapters_train(
    doc_type: Annotated[str | None, typer.Option(
        "--type", help=f"document type: {TYPE_CHOICES} (default: the dataset's)")] = None,
    data: Annotated[list[str] | None, typer.Option(
        help=f"a registered dataset ({DATASET_CHOICES}) or a folder in one's layout; "
        "its train split (repeat it to learn from several datasets of one type; NAME:N "
        "takes at most N documents of that one)")] = None,
    from_corrections: Annotated[bool, typer.Option(
        "--from-corrections", help="learn from reviewers' corrections in the database; "
        "without --data, continues training the type's current adapter")] = False,
    resume: Annotated[bool, typer.Option(
        "--continue", help="continue the type's current adapter (same rank and layers) "
        "instead of training a new one")] = False,
    epochs: Annotated[float, typer.Option(help="passes over the training data")] = 1.0,
    synthetic: Annotated[int | None, typer.Option(
        help="generated, fully labelled documents added (default: the dataset's)")] = None,
    limit: Annotated[int | None, typer.Option(
        help="at most this many documents of each dataset")] = None,
    output: Annotated[Path | None, typer.Option(
        help="where to write it (default: a run folder under the model cache; "
        "adapters/<type> replaces the committed adapter)")] = None,
) -> None:
    """Train a LoRA adapter for a document type on Docket's own conversion of labelled data,
    on reviewers' corrections, or both."""
    from pipeline.settings import get_settings
    from pipeline.training.job import plan
    from pipeline.training.lora import TrainConfig, train

    settings = get_settings()
    with progress() as bar:
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

        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        folder = output or settings.model_cache_dir / "adapter-runs" / f"{job.doc_type}-{stamp}"
        manifest = train(job.targets, folder, settings,
                         TrainConfig(epochs=epochs), job.summary, step, job.init_adapter)
    console.print_json(data=manifest["training"])
    _store_version(job.doc_type, folder)


def _store_version(doc_type: str, folder: Path) -> None:
    """Every training run becomes a version in Postgres, for workers elsewhere to get once
    it is promoted; without a database the folder is still there to register later."""
    import psycopg

    from pipeline.storage import adapter_versions
    from pipeline.storage.db import connect

    try:
        with connect() as conn:
            version = adapter_versions.store(conn, doc_type, folder, "docket adapters train")
    except psycopg.Error as exc:
        err.print(f"[yellow]Not stored as a version ({exc}); run `docket adapters register "
                  f"{doc_type} --from {folder}` when the database is reachable.[/]")
        return
    err.print(f"Stored as {doc_type} version {version}; make it current with `docket adapters "
              f"promote {doc_type} {version}` (refused if it is worse).")


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


def eval_command(
    dataset: Annotated[str, typer.Option(help=f"{DATASET_CHOICES} (its dev split)")],
    limit: EvalLimit = None,
    zero_shot_limit: ZeroShotLimit = None,
    report: ReportPath = None,
) -> None:
    """Run the whole pipeline on a dataset's dev split and print the dataset's own scores."""
    from pipeline import doctypes
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.training import evaluation
    from pipeline.training.datasets import CACHE_DIR

    try:
        doctypes.dataset(dataset)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    settings = get_settings()
    runtime = get_runtime(settings)
    with progress() as bar:
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
    if limit is None:  # the full dev split: the adapter's own figures
        evaluation.record_in_manifest(result)
    err.print(f"report: {path}")
    typer.echo(json.dumps(summary))


def _print_eval(result: dict[str, Any]) -> None:
    """The report as tables: per-mode figures, then the straight-through curve."""
    modes = result["modes"]
    table = Table(f"{result['dataset']} dev", *modes)
    rows: list[tuple[str, list[Any]]] = [("documents", [m["documents"] for m in modes.values()])]
    first: dict[str, Any] = next(iter(modes.values()), {})
    for key in first.get("fields", {}):
        loose = [m.get("fields_loose", {}).get(key) for m in modes.values()]
        rows.append((key, [f"{m['fields'][key]}" + (f" (loose {x})" if x is not None else "")
                           for m, x in zip(modes.values(), loose, strict=True)]))
    for key in ("mean_accuracy", "mean_accuracy_loose", "f1", "router_accuracy", "schema_valid",
                "seconds_per_document", "output_tokens_mean"):
        if key in first:
            rows.append((key, [m[key] for m in modes.values()]))
    for key in first.get("hand_labelled", {}):
        rows.append((f"hand-labelled: {key}",
                     [m.get("hand_labelled", {}).get(key) for m in modes.values()]))
    rows.append(("acc. ≥ / < threshold", [
        f"{m['calibration']['accuracy_above']} ({m['calibration']['fields_above']}) / "
        f"{m['calibration']['accuracy_below']} ({m['calibration']['fields_below']})"
        for m in modes.values()]))
    rows.append(("done: share / field acc.", [
        f"{m['straight_through']['done_share']} / {m['straight_through']['done_field_accuracy']}"
        for m in modes.values()]))
    for name, values in rows:
        table.add_row(name, *(str(v) for v in values))
    console.print(table)
    curve = Table("threshold", *(f"{mode}: done share / field acc." for mode in modes),
                  title="straight-through if the confidence threshold were…")
    for n, point in enumerate(first.get("straight_through", {}).get("curve", [])):
        curve.add_row(str(point["threshold"]), *(
            f"{m['straight_through']['curve'][n]['done_share']} / "
            f"{m['straight_through']['curve'][n]['done_field_accuracy']}"
            for m in modes.values()))
    console.print(curve)
    if "context_recall" in result:
        console.print(f"labelled values in the model's context: {result['context_recall']}")


@adapters_app.command("register")
def adapters_register(
    doc_type: Annotated[str, typer.Argument(help="the adapter's name (its type's)")],
    source: Annotated[Path | None, typer.Option(
        "--from", help="a trained adapter folder (default: adapters/<name>/)")] = None,
) -> None:
    """Store an adapter folder in Postgres as the adapter's next version (training does it
    for every run); workers use it once it is promoted."""
    from pipeline.slm.adapters import ADAPTERS_DIR
    from pipeline.storage import adapter_versions
    from pipeline.storage.db import connect

    folder = source or ADAPTERS_DIR / doc_type
    if not (folder / "adapter_model.safetensors").is_file():
        err.print(f"[red]{folder} holds no trained adapter (adapter_model.safetensors)[/]")
        raise typer.Exit(2)
    with connect() as conn:
        version = adapter_versions.store(conn, doc_type, folder, "docket adapters register")
    err.print(f"{doc_type} version {version} stored; promote it with "
              f"`docket adapters promote {doc_type} {version}`")
    typer.echo(version)


@adapters_app.command("versions")
def adapters_versions(doc_type: Annotated[str, typer.Argument(help="the adapter's name")]
                      ) -> None:
    """The adapter's versions in Postgres, which is current, and every decision."""
    from pipeline.storage import adapter_versions
    from pipeline.storage.db import connect

    with connect() as conn:
        versions = adapter_versions.listing(conn, doc_type)
        current = adapter_versions.current(conn).get(doc_type)
        decisions = adapter_versions.history(conn, doc_type)
    now = current.version if current else None
    table = Table("version", "current", "weights", "stored by", "at")
    table.add_row("committed", "yes" if now is None else "", "adapters/" + doc_type, "git", "")
    for v in versions:
        table.add_row(str(v["version"]), "yes" if v["version"] == now else "", v["sha256"][:12],
                      v["created_by"], f"{v['created_at']:%Y-%m-%d %H:%M}")
    console.print(table)
    for d in decisions:
        console.print(f"{d['decided_at']:%Y-%m-%d %H:%M} {d['action']} "
                      f"{d['version'] or 'committed'} by {d['decided_by']}: {d['reason']}")


@adapters_app.command("promote")
def adapters_promote(
    doc_type: Annotated[str, typer.Argument(help="the adapter's name")],
    version: Annotated[int, typer.Argument(help="a stored version")],
    limit: Annotated[int, typer.Option(
        help="dev documents of each of the type's datasets to compare on")] = 20,
    margin: Annotated[float, typer.Option(
        help="refuse if any labelled field's accuracy drops by more than this")] = 0.02,
) -> None:
    """Make a version current, if it is no worse than the current one on the type's dev
    documents (field by field); running workers use it from their next document."""
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.slm.live_adapters import sync
    from pipeline.storage.db import connect
    from pipeline.training.promotion import promote

    settings = get_settings()
    cache = settings.model_cache_dir / "adapter-versions"
    with err.status(f"Loading {settings.model}…"):
        runtime = get_runtime(settings)
    with connect() as conn, err.status(f"Comparing {doc_type} v{version} with the current "
                                       f"version on {limit} dev documents a dataset…"):
        sync(conn, runtime, cache)
        try:
            decision = promote(conn, doc_type, version, runtime, settings, cache, limit,
                               margin, "docket adapters promote")
        except (LookupError, RuntimeError) as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    console.print_json(data=decision.comparison)
    if not decision.promoted:
        err.print(f"[red]Refused[/]: {decision.reason}")
        raise typer.Exit(1)
    err.print(f"[green]Promoted[/] {doc_type} v{version}: {decision.reason}")


@adapters_app.command("rollback")
def adapters_rollback(doc_type: Annotated[str, typer.Argument(help="the adapter's name")]
                      ) -> None:
    """Go back to the version that was current before this one (or the committed adapter)."""
    from pipeline.storage import adapter_versions
    from pipeline.storage.db import connect

    with connect() as conn:
        found, version_id = adapter_versions.rollback_target(conn, doc_type)
        if not found:
            err.print(f"[red]{doc_type} has no promoted version to roll back from[/]")
            raise typer.Exit(1)
        adapter_versions.decide(conn, doc_type, version_id, "rollback",
                                "docket adapters rollback", "rolled back by hand")
        now = adapter_versions.current(conn).get(doc_type)
    version = now.version if now else None
    err.print(f"{doc_type} is now " + (f"version {version}" if version else
                                       "the committed adapter (adapters/" + doc_type + ")"))


@adapters_app.command("freeze")
def adapters_freeze(
    doc_type: Annotated[str, typer.Argument(help="a document type")],
    count: Annotated[int, typer.Option(min=1, help="reviewed documents to set aside")] = 20,
) -> None:
    """Set reviewed documents aside as the type's regression set: every promotion is checked
    on them, and no adapter trains on them from now on."""
    from pipeline.storage import adapter_versions
    from pipeline.storage.db import connect

    with connect() as conn:
        added = adapter_versions.freeze(conn, doc_type, count)
        total = len(adapter_versions.regression_set(conn, doc_type))
    err.print(f"{added} reviewed {doc_type}s set aside; the regression set holds {total}")
    typer.echo(total)
