"""Webhooks: standing subscriptions per API key, and every webhook's delivery log.

A subscription hears of the documents its key uploads (`scope: own`), or of all of them
(`scope: all`, admin keys). An upload's own callback (`callback_url`) is made by the upload.
Each event is signed: see `pipeline.webhooks.signing`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from psycopg import Connection
from pydantic import BaseModel, Field

from pipeline.api.access import allowed, require
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.settings import get_settings
from pipeline.storage import webhooks
from pipeline.storage.db import connect
from pipeline.storage.keys import ApiKey
from pipeline.webhooks import targets

router = APIRouter(tags=["webhooks"], responses=ERROR_RESPONSES)
Event = Literal["document.finished", "document.reviewed", "batch.finished"]


class NewSubscription(BaseModel):
    url: str = Field(description="http or https; Docket POSTs each event there as JSON")
    events: list[Event] = Field(
        default=["document.finished", "document.reviewed", "batch.finished"], min_length=1)
    scope: Literal["own", "all"] = Field(
        default="own", description="own: documents this key uploads; all: every document "
        "(admin keys)")


class Subscription(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    scope: str
    batch_id: uuid.UUID | None  # set for an upload's callback
    created_at: datetime


class CreatedSubscription(Subscription):
    secret: str = Field(description="signs each event (Docket-Signature); shown only here")


class Attempt(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None  # None: no answer (refused, timed out, not allowed)
    error: str | None  # None: delivered
    duration_ms: float


class Delivery(BaseModel):
    id: uuid.UUID  # also the event's `id`
    event: str
    document_id: uuid.UUID | None
    batch_id: uuid.UUID | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None  # pending only
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[Attempt]


class DeliveryPage(BaseModel):
    limit: int
    offset: int
    deliveries: list[Delivery]


@router.post("/v1/webhooks", status_code=201, response_model=CreatedSubscription)
def subscribe(body: NewSubscription,
              key: Annotated[ApiKey, Depends(require("read"))]) -> CreatedSubscription:
    """Subscribe a URL to events; the answer holds the signing secret, shown only once."""
    if body.scope == "all" and not allowed(key.role, "admin"):
        raise HTTPException(403, "Only an admin key may subscribe to every document's events "
                            "(scope 'all'); use scope 'own'.")
    if problem := targets.problem(body.url, get_settings()):
        raise HTTPException(422, problem)
    with connect() as conn:
        hook = webhooks.create(conn, body.url, key.id, scope=body.scope,
                               events=list(body.events))
        row = webhooks.get(conn, hook.id)
    return CreatedSubscription(**row, secret=hook.secret)  # type: ignore[arg-type]


@router.get("/v1/webhooks", response_model=list[Subscription])
def list_subscriptions(key: Annotated[ApiKey, Depends(require("read"))]) -> list[Subscription]:
    """This key's subscriptions (an admin key: everyone's)."""
    with connect() as conn:
        rows = webhooks.listing(conn, None if allowed(key.role, "admin") else key.id)
    return [Subscription(**row) for row in rows]


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
def unsubscribe(webhook_id: uuid.UUID,
                key: Annotated[ApiKey, Depends(require("read"))]) -> Response:
    """Stop a subscription or an upload's callback; its delivery log stays readable."""
    with connect() as conn:
        _owned(conn, webhook_id, key)
        webhooks.delete(conn, webhook_id)
    return Response(status_code=204)


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
def deliveries(
    webhook_id: uuid.UUID,
    key: Annotated[ApiKey, Depends(require("read"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**12)] = 0,
) -> DeliveryPage:
    """Each event sent to this webhook, newest first, with every attempt (status code, error,
    time) and, while it is pending, when the next one is due."""
    with connect() as conn:
        _owned(conn, webhook_id, key)
        rows = webhooks.deliveries(conn, webhook_id, limit, offset)
    return DeliveryPage(limit=limit, offset=offset, deliveries=[
        Delivery(**{**row, "next_attempt_at": row["next_attempt_at"]
                    if row["status"] == "pending" else None}) for row in rows])


def _owned(conn: Connection[Any], webhook_id: uuid.UUID, key: ApiKey) -> None:
    """404 unless the webhook exists and is the key's own (or the key is an admin's): another
    key's webhooks are not even confirmed to exist."""
    row = webhooks.get(conn, webhook_id)
    if row is None or (row["key_id"] != key.id and not allowed(key.role, "admin")):
        raise HTTPException(404, f"No webhook {webhook_id}.")
