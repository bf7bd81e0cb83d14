"""Connections and migrations. Plain psycopg 3; SQLAlchemy only because Alembic needs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipeline.settings import Settings, get_settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
ANALYST_ROLE = "docket_analyst"  # created read-only by migration 0003


def sqlalchemy_url(database_url: str | None = None) -> str:
    url = database_url or get_settings().database_url
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def connect(database_url: str | None = None) -> Iterator[psycopg.Connection[dict]]:
    """A connection whose `with conn.transaction()` blocks commit or roll back as a unit."""
    url = database_url or get_settings().database_url
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        yield conn


def ping(database_url: str | None = None, timeout_s: int | None = None) -> None:
    """Run a trivial query: raises if the database cannot be reached (the API's health)."""
    url = database_url or get_settings().database_url
    if timeout_s is not None:
        url = psycopg.conninfo.make_conninfo(url, connect_timeout=timeout_s)
    with connect(url) as conn:
        conn.execute("SELECT 1")


def analyst_url(settings: Settings | None = None) -> str:
    """The read-only analysts' connection: their own URL, or ours as the analyst role."""
    settings = settings or get_settings()
    if settings.analyst_database_url:
        return settings.analyst_database_url
    return psycopg.conninfo.make_conninfo(settings.database_url, user=ANALYST_ROLE)


def _alembic_config(database_url: str | None = None) -> Any:
    """Alembic's configuration: the core schema's versions and those of type packages that
    carry their own migrations."""
    from alembic.config import Config

    from pipeline import doctypes

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    locations = [MIGRATIONS / "versions", *doctypes.migration_dirs()]
    config.set_main_option("version_locations", os.pathsep.join(map(str, locations)))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url))
    return config


def migrate(database_url: str | None = None, revision: str = "heads") -> None:
    """Bring the database schema to `revision` with Alembic: by default every branch's head."""
    from alembic import command

    command.upgrade(_alembic_config(database_url), revision)


def migration_state(database_url: str | None = None) -> tuple[set[str], set[str]]:
    """(the revisions the database is at, the heads the code's migrations end in)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    config = _alembic_config(database_url)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    engine = create_engine(sqlalchemy_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current, heads


def create_database_if_missing(database_url: str) -> None:
    """Create the database named in the URL (first run on a fresh Postgres)."""
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    name = str(info.get("dbname") or "")
    if not name:
        return
    admin = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
