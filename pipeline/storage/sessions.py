"""Review sessions: what the review pages' cookie stands for, held server-side.

The cookie holds a random session id (only its sha256 is stored); the session belongs to an
API key, expires, is revoked at sign-out, and ends when its key is revoked. Each session has a
CSRF token that its forms carry.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import Connection

from pipeline.storage.keys import ApiKey


@dataclass(frozen=True)
class Session:
    key: ApiKey
    csrf_token: str


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def create(conn: Connection[Any], key_id: uuid.UUID, hours: float) -> str:
    """A new session for the key, valid for `hours`; returns its id (the cookie's value)."""
    session_id = secrets.token_urlsafe(32)
    conn.execute(
        """INSERT INTO review_sessions (id_hash, key_id, csrf_token, expires_at)
           VALUES (%s, %s, %s, now() + make_interval(secs => %s))""",
        (_hash(session_id), key_id, secrets.token_urlsafe(32), hours * 3600),
    )
    return session_id


def find(conn: Connection[Any], session_id: str) -> Session | None:
    """The live session with this id: not expired, not revoked, its key not revoked."""
    row = conn.execute(
        """SELECT k.id, k.name, k.role, s.csrf_token FROM review_sessions s
           JOIN api_keys k ON k.id = s.key_id
           WHERE s.id_hash = %s AND s.revoked_at IS NULL AND s.expires_at > now()
             AND k.revoked_at IS NULL""",
        (_hash(session_id),),
    ).fetchone()
    if row is None:
        return None
    return Session(ApiKey(row["id"], row["name"], row["role"]), row["csrf_token"])


def revoke(conn: Connection[Any], session_id: str) -> None:
    conn.execute("UPDATE review_sessions SET revoked_at = now() WHERE id_hash = %s "
                 "AND revoked_at IS NULL", (_hash(session_id),))

