"""`docket scrub`: personal data out of training examples, tried on a file and measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import console, err

scrub_app = typer.Typer(help="Personal data out of training examples.", no_args_is_help=True)


@scrub_app.command("text")
def scrub_text(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a text file")],
    keep: Annotated[list[str] | None, typer.Option(
        help="a value to leave as it is (a field of the record); repeat it")] = None,
) -> None:
    """Print the file with its personal data replaced, and what was replaced (to stderr)."""
    from pipeline.training.scrub import Scrubber

    result = Scrubber().scrub(path.read_text(errors="replace"), protected=keep or [])
    for finding in result.findings:
        err.print(f"{finding.kind:15} {finding.text!r} → {result.surrogates[finding.text]!r}")
    typer.echo(result.text)


@scrub_app.command("eval")
def scrub_eval(
    json_out: Annotated[bool, typer.Option("--json", help="the figures as JSON")] = False,
    show_missed: Annotated[int, typer.Option(help="list this many missed values")] = 10,
) -> None:
    """Measure the scrubber on the labelled set (real dev documents with personal data of
    known kind and place put in): recall of personal data, record fields left intact."""
    from pipeline.settings import get_settings
    from pipeline.training.scrub_eval import build, evaluate

    with err.status("Building the labelled set (converting documents, cached)…"):
        texts = build(get_settings())
    with err.status(f"Scrubbing {len(texts)} documents…"):
        report = evaluate(texts)
    if json_out:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    table = Table("kind", "planted", "scrubbed", "recall")
    for kind, planted in sorted(report.planted.items()):
        table.add_row(kind, str(planted), str(report.found[kind]),
                      f"{report.found[kind] / planted:.3f}")
    table.add_row("all", str(sum(report.planted.values())), str(sum(report.found.values())),
                  f"{report.recall:.3f}", style="bold")
    console.print(table)
    console.print(f"record fields intact: {report.fields_intact}/{report.fields} "
                  f"({report.intact:.4f}) over {report.documents} documents")
    console.print(f"also replaced (not planted: real personal data, or mistaken): "
                  f"{dict(report.other_findings)}")
    for kind, value in report.missed[:show_missed]:
        console.print(f"[yellow]missed[/] {kind}: {value!r}")
    for broken in report.broken_fields[:show_missed]:
        console.print(f"[red]field changed[/] {broken}")
