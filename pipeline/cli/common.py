"""What the `docket` commands share: the two consoles, the progress bar, the type option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import doctypes

console = Console()
err = Console(stderr=True)

TYPE_CHOICES = " | ".join(doctypes.REGISTRY)
DATASET_CHOICES = " | ".join(doctypes.DATASETS)
TypeOption = Annotated[
    str | None, typer.Option("--type", help=f"document type hint: {TYPE_CHOICES}")
]
Paths = Annotated[list[Path], typer.Argument(help="files, folders or .zip archives")]


def progress() -> Progress:
    """A bar on stderr: description, bar, n/total, elapsed."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    )

