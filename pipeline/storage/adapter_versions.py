"""Adapter versions and their promotions, in Postgres (migration 0010).

A training run stores its adapter as a new version; `docket adapters promote` makes one
current (after the gate in `pipeline.training.promotion`), `rollback` goes back. The current
version of an adapter is the one its latest promotion or rollback names; with none, the
adapter committed in `adapters/` is current (`version_id` None).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

WEIGHTS = "adapter_model.safetensors"
CONFIG = "adapter_config.json"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Current:
    adapter: str
    version_id: int | None  # None: the committed adapter
    version: int | None
    sha256: str | None


def store(conn: Connection[Any], adapter: str, folder: Path, created_by: str) -> int:
    """Store a trained adapter folder as the adapter's next version; returns its number."""
    weights = (folder / WEIGHTS).read_bytes()
    manifest = json.loads((folder / MANIFEST).read_text())
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"adapter:{adapter}",))
        row = conn.execute(
            "SELECT coalesce(max(version), 0) + 1 AS next FROM adapter_versions "
            "WHERE adapter = %s", (adapter,),
        ).fetchone()
        assert row is not None
        manifest = {**manifest, "version": row["next"]}
        conn.execute(
            """INSERT INTO adapter_versions (adapter, version, base_model_sha256, weights,
                      config, manifest, sha256, created_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
            (adapter, row["next"], manifest["base_model_sha256"], weights,
             Jsonb(json.loads((folder / CONFIG).read_text())), Jsonb(manifest),
             hashlib.sha256(weights).hexdigest(), created_by),
        )
    return int(row["next"])


def listing(conn: Connection[Any], adapter: str) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, version, sha256, created_by, created_at, manifest -> 'training' AS training
           FROM adapter_versions WHERE adapter = %s ORDER BY version""",
        (adapter,),
    ).fetchall()


def get(conn: Connection[Any], adapter: str, version: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, version, sha256, manifest FROM adapter_versions "
        "WHERE adapter = %s AND version = %s", (adapter, version),
    ).fetchone()


def current(conn: Connection[Any]) -> dict[str, Current]:
    """Each adapter's current version, as its latest promotion or rollback says."""
    rows = conn.execute(
        """SELECT DISTINCT ON (p.adapter) p.adapter, p.version_id, v.version, v.sha256
           FROM adapter_promotions p LEFT JOIN adapter_versions v ON v.id = p.version_id
           WHERE p.action IN ('promote', 'rollback') ORDER BY p.adapter, p.id DESC"""
    ).fetchall()
    return {r["adapter"]: Current(r["adapter"], r["version_id"], r["version"], r["sha256"])
            for r in rows}


def history(conn: Connection[Any], adapter: str) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT p.id, p.action, v.version, p.decided_by, p.reason, p.comparison, p.decided_at
           FROM adapter_promotions p LEFT JOIN adapter_versions v ON v.id = p.version_id
           WHERE p.adapter = %s ORDER BY p.id""",
        (adapter,),
    ).fetchall()


def decide(conn: Connection[Any], adapter: str, version_id: int | None, action: str,
           decided_by: str, reason: str | None = None,
           comparison: dict[str, Any] | None = None) -> None:
    conn.execute(
        """INSERT INTO adapter_promotions (adapter, version_id, action, decided_by, reason,
                  comparison) VALUES (%s, %s, %s, %s, %s, %s)""",
        (adapter, version_id, action, decided_by, reason,
         Jsonb(comparison) if comparison is not None else None),
    )


def rollback_target(conn: Connection[Any], adapter: str) -> tuple[bool, int | None]:
    """What a rollback goes back to: (False, None) when nothing was promoted; otherwise
    (True, the version id promoted before the current one, None for the committed adapter).
    Promotions stack up and each rollback takes the top one off, so rolling back twice goes
    two promotions back."""
    stack: list[int] = []
    for row in conn.execute(
        """SELECT action, version_id FROM adapter_promotions
           WHERE adapter = %s AND action IN ('promote', 'rollback') ORDER BY id""",
        (adapter,),
    ):
        if row["action"] == "promote":
            stack.append(row["version_id"])
        elif stack:
            stack.pop()
    if not stack:
        return False, None
    return True, stack[-2] if len(stack) > 1 else None


def materialize(conn: Connection[Any], version_id: int, cache_dir: Path) -> Path:
    """The version's folder (config, weights, manifest), written once under `cache_dir`
    (named by adapter, version and weights' hash): what the runtime loads."""
    row = conn.execute(
        "SELECT adapter, version, sha256 FROM adapter_versions WHERE id = %s", (version_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"No adapter version {version_id}")
    folder = cache_dir / f"{row['adapter']}-v{row['version']}-{row['sha256'][:16]}"
    if (folder / MANIFEST).is_file():
        return folder
    full = conn.execute(
        "SELECT weights, config, manifest FROM adapter_versions WHERE id = %s", (version_id,)
    ).fetchone()
    assert full is not None
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / WEIGHTS).write_bytes(bytes(full["weights"]))
    (tmp / CONFIG).write_text(json.dumps(full["config"]))
    (tmp / MANIFEST).write_text(json.dumps(full["manifest"]))
    try:
        tmp.replace(folder)
    except OSError:  # another process wrote it first: the same bytes
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def freeze(conn: Connection[Any], document_type: str, count: int) -> int:
    """Set aside up to `count` more reviewed documents of the type as its regression set
    (newest reviews first): their reviewed records become the expected answers, and training
    leaves them out from now on. Returns how many were added."""
    rows = conn.execute(
        """INSERT INTO regression_documents (document_id, document_type, expected)
           SELECT t.document_id, t.document_type, r.record FROM training_examples t
           JOIN LATERAL (SELECT record, source FROM extraction_runs
                         WHERE document_id = t.document_id ORDER BY id DESC LIMIT 1) r ON true
           WHERE t.document_type = %s AND r.source = 'review' AND r.record IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM regression_documents g
                             WHERE g.document_id = t.document_id)
           ORDER BY t.updated_at DESC LIMIT %s
           ON CONFLICT DO NOTHING RETURNING document_id""",
        (document_type, count),
    ).fetchall()
    return len(rows)


def regression_set(conn: Connection[Any], document_type: str) -> list[dict[str, Any]]:
    """The type's frozen documents: `document_id`, `expected` (the record), `content`."""
    return conn.execute(
        """SELECT g.document_id, g.expected, d.content FROM regression_documents g
           JOIN documents d ON d.id = g.document_id
           WHERE g.document_type = %s AND d.content IS NOT NULL ORDER BY g.frozen_at, 1""",
        (document_type,),
    ).fetchall()
