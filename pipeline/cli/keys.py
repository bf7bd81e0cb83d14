"""`docket keys`: API keys and their roles (only a key's hash is stored)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.common import console, err

keys_app = typer.Typer(help="API keys and their roles.", no_args_is_help=True)


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
