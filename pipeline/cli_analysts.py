"""`docket query` and `docket export` (to be built)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the analysts' commands to the `docket` command."""
