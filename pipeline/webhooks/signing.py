"""The `Docket-Signature` header: HMAC-SHA256 over "timestamp.body" under the webhook's secret.

The timestamp is signed with the body, so a receiver that refuses old timestamps refuses
replays; each event also has an `id`, the same on every retry, for receivers to drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Docket-Signature"
TOLERANCE_S = 300  # how old a signature `verify` accepts by default


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, tolerance_s: float = TOLERANCE_S,
           now: float | None = None) -> bool:
    """Whether `header` signs this exact `body` under `secret`, within `tolerance_s`: what a
    receiver checks before trusting an event."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
