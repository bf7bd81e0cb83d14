"""Sending events: one attempt of one delivery, and the dispatcher that hands out what is due.

Postgres holds the schedule: a failed attempt sets when the next is due (the waits of
`DOCKET_WEBHOOK_RETRY_SCHEDULE_S`, a day and more by default), and the dispatcher, a thread of
each webhook worker, sends a Celery task for each delivery that is due. The broker only holds
the "try now" messages, so neither a Redis restart nor a long wait loses an event.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from pipeline.settings import Settings
from pipeline.storage import webhooks
from pipeline.storage.db import connect
from pipeline.webhooks import signing, targets

log = logging.getLogger(__name__)
USER_AGENT = "Docket-Webhooks/1"


def attempt(delivery_id: uuid.UUID, settings: Settings) -> str | None:
    """Try a pending delivery once and log the attempt; returns its new status (None: it was
    not pending, or another worker holds it). The row stays locked while the receiver
    answers, so two workers never send one delivery at once."""
    with connect(settings.database_url) as conn, conn.transaction():
        row = webhooks.lock_pending(conn, delivery_id)
        if row is None:
            return None
        number = row["attempts"] + 1
        body = json.dumps(row["payload"], ensure_ascii=False, separators=(",", ":")).encode()
        started = time.perf_counter()
        status_code, error = _post(row["url"], row["secret"], row["event"], delivery_id, body,
                                   settings)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        status = webhooks.record_attempt(conn, delivery_id, number, status_code, error,
                                         duration_ms, _retry_in(number, settings))
    log.info("webhook delivery %s attempt %d → %s (%s)", delivery_id, number, status,
             status_code or error)
    return status


def _post(url: str, secret: str, event: str, delivery_id: uuid.UUID, body: bytes,
          settings: Settings) -> tuple[int | None, str | None]:
    """POST the event to the checked address; (status code, None) when the receiver took it,
    else the error. Only the status is kept of an answer, never its body: what an internal
    service would say must not come back through the delivery log."""
    refused, address = targets.pinned(url, settings)
    if refused or address is None:
        return None, refused or "no address to call"
    target = httpx.URL(url)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.netloc.decode("ascii"),
        "Docket-Event": event,
        "Docket-Delivery": str(delivery_id),
        signing.HEADER: signing.signature(secret, body, int(time.time())),
    }
    try:
        with httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False) as client:
            request = client.build_request(
                "POST", target.copy_with(host=address), content=body, headers=headers,
                extensions={"sni_hostname": target.host})  # TLS still checks the name
            response = client.send(request, stream=True)  # the body is never read
            response.close()
    except Exception as exc:  # any failure is this attempt's, logged; the delivery goes on
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _retry_in(attempt_number: int, settings: Settings) -> float | None:
    """The wait before the next attempt (a tenth of it random, so the deliveries a receiver's
    outage piled up do not all come back at once); None: this was the last attempt."""
    schedule = settings.webhook_retry_schedule_s
    if attempt_number > len(schedule):
        return None
    wait = schedule[attempt_number - 1]
    return wait * (1 + random.uniform(0, 0.1))


def dispatch(settings: Settings, send: Callable[[uuid.UUID], object]) -> int:
    """Hand every delivery that is due to `send` (a Celery task); returns how many."""
    lost_after_s = max(60.0, settings.webhook_timeout_s * 6)
    sent = 0
    while True:
        with connect(settings.database_url) as conn:
            due = webhooks.claim_due(conn, 100, lost_after_s)
            try:
                for delivery_id in due:
                    send(delivery_id)
                    sent += 1
            except Exception:
                webhooks.unclaim(conn, due[due.index(delivery_id):])
                raise
        if len(due) < 100:
            return sent


def start_dispatcher(settings: Settings, send: Callable[[uuid.UUID], object]
                     ) -> threading.Thread:
    """Dispatch every `DOCKET_WEBHOOK_DISPATCH_INTERVAL_S` in a daemon thread; an outage of
    Postgres or Redis only skips a round."""

    def loop() -> None:
        while True:
            try:
                dispatch(settings, send)
            except Exception as exc:  # an outage: try again next round
                log.warning("webhook dispatch skipped: %s", exc)
            time.sleep(settings.webhook_dispatch_interval_s)

    thread = threading.Thread(target=loop, name="webhook-dispatcher", daemon=True)
    thread.start()
    return thread
