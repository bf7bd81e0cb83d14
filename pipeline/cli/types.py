"""`docket types`: new kinds of documents among those the router could not place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import console, err

types_app = typer.Typer(help="New kinds of documents (what the router calls unknown).",
                        no_args_is_help=True)

MinClusterSize = Annotated[int, typer.Option(
    min=2, help="the fewest documents that make a group")]


@types_app.command("suggest")
def types_suggest(
    min_cluster_size: MinClusterSize = 5,
    samples: Annotated[int, typer.Option(min=0, help="sample documents per group")] = 3,
    limit: Annotated[int, typer.Option(
        min=1, help="the most recent unknown documents to look at")] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")
                       ] = False,
) -> None:
    """Group the documents the router called unknown, with their words and samples.

    Documents without a stored vector (processed before vectors were kept) are embedded
    now with the model, and stored.
    """
    from pipeline.classify import RouterError
    from pipeline.new_kinds.suggest import suggest
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.storage.db import connect

    settings = get_settings()
    try:
        with connect() as conn:
            runtime = None
            if _missing_vectors(conn, limit):
                err.print("embedding unknown documents that have no vector yet…")
                runtime = get_runtime(settings)
            result = suggest(conn, runtime, min_cluster_size, samples, limit)
    except RouterError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=1))
        return
    table = Table("documents", "common words", "for example",
                  title=f"{len(result.clusters)} groups among {result.unknown_documents} "
                        "unknown documents")
    for group in result.clusters:
        table.add_row(str(group.size), ", ".join(group.words),
                      "\n".join(f"{s.filename} ({s.id[:8]}): {s.first_line}"
                                for s in group.samples))
    console.print(table)
    err.print(f"{result.noise} of {result.clustered} clustered documents in no group "
              f"(min cluster size {result.min_cluster_size}); {result.embedded_now} embedded "
              "now. A group worth a type: see \"Adding a document type\" in the README.")


def _missing_vectors(conn: Any, limit: int) -> bool:
    """Whether any of the documents looked at lacks a vector by the router's weights (only
    then is the model loaded)."""
    from pipeline import doctypes
    from pipeline.classify import get_head
    from pipeline.storage import embeddings

    rows = embeddings.unknown_documents(conn, get_head().model_sha256, doctypes.UNKNOWN, limit)
    return any(row["embedding"] is None for row in rows)


@types_app.command("measure")
def types_measure(
    per_kind: Annotated[int, typer.Option(
        min=2, help="documents of each dataset and each unseen kind")] = 25,
    seed: Annotated[int, typer.Option(help="which documents are sampled")] = 0,
    min_cluster_size: MinClusterSize = 5,
    report: Annotated[Path | None, typer.Option(
        help="where the JSON report goes (default ~/.cache/docket/eval/new-kinds.json)")
    ] = None,
) -> None:
    """Measure it: dev documents of the known types plus kinds the router never saw (man
    pages, Python source, C headers, config files on this machine); the real router, then
    the clusters of what it calls unknown: purity, coverage, noise."""
    from pipeline.settings import get_settings
    from pipeline.slm.factory import get_runtime
    from pipeline.training.datasets import CACHE_DIR, write_atomic
    from pipeline.training.new_kinds_eval import measure

    settings = get_settings()
    result = measure(get_runtime(settings), settings, per_kind, seed, min_cluster_size,
                     progress=err.print)
    path = report or CACHE_DIR / "eval" / "new-kinds.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(result, indent=1) + "\n").encode())
    print_measurement(result)
    err.print(f"report: {path}")


def print_measurement(result: dict[str, Any]) -> None:
    kinds = Table("kind", "router saw it", "documents", "called unknown", "in own cluster",
                  "coverage", title="the mix")
    for kind, row in result["kinds"].items():
        kinds.add_row(kind, "yes" if row["seen_by_router"] else "no", str(row["documents"]),
                      str(row["unknown"]), str(row["in_own_cluster"]), f"{row['coverage']:.2f}")
    console.print(kinds)
    clusters = Table("size", "majority kind", "share", "common words",
                     title=f"{len(result['clusters'])} clusters of {result['unknown']} unknown")
    for row in result["clusters"]:
        clusters.add_row(str(row["size"]), row["majority"], f"{row['majority_share']:.2f}",
                         ", ".join(row["words"]))
    console.print(clusters)

    def figure(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    console.print(f"purity {figure(result['purity'])} · coverage of unseen kinds "
                  f"{figure(result['coverage'])} · noise share {figure(result['noise_share'])}"
                  f" · unseen kinds found: {', '.join(result['unseen_kinds_found']) or 'none'}")
