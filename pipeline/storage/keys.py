"""API keys with roles. Only a key's sha256 is stored: a leaked database leaks no key.

Keys are 256-bit random tokens, so a plain (fast) hash is enough; a slow password hash is for
secrets people choose.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import Connection

ROLES = ("uploader", "reviewer", "analyst", "admin")
KEY_PREFIX = "dk_"


@dataclass(frozen=True)
class ApiKey:
    id: uuid.UUID
    name: str
    role: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection[Any], name: str, role: str) -> tuple[ApiKey, str]:
    """A new key for `role`; returns it with the secret, which is never shown again."""
    if role not in ROLES:
        raise ValueError(f"Unknown role '{role}'; use one of: {', '.join(ROLES)}")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(uuid.uuid4(), name, role)
    conn.execute(
        "INSERT INTO api_keys (id, name, role, key_hash, prefix) VALUES (%s, %s, %s, %s, %s)",
        (key.id, name, role, hash_key(secret), secret[:10]),
    )
    return key, secret


def find_key(conn: Connection[Any], secret: str) -> ApiKey | None:
    """The live (not revoked) key with this secret; None otherwise.

    Its last use is recorded at most once a minute: a read should not write on every request.
    """
    row = conn.execute(
        """SELECT id, name, role, last_used_at < now() - interval '1 minute'
                  OR last_used_at IS NULL AS stale
           FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL""",
        (hash_key(secret),),
    ).fetchone()
    if row is None:
        return None
    if row["stale"]:
        conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s", (row["id"],))
    return ApiKey(row["id"], row["name"], row["role"])


def list_keys(conn: Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, name, role, prefix, created_at, last_used_at, revoked_at
           FROM api_keys ORDER BY created_at"""
    ).fetchall()


def revoke_key(conn: Connection[Any], key_id: uuid.UUID) -> bool:
    """Revoke the key, and with it every review session signed in with it."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
            "RETURNING id", (key_id,),
        ).fetchone()
        conn.execute("UPDATE review_sessions SET revoked_at = now() WHERE key_id = %s "
                     "AND revoked_at IS NULL", (key_id,))
    return row is not None
