"""The API against its own OpenAPI description: schemathesis generates requests for every
operation (valid and invalid), with an admin key; no answer may be a 5xx or break the schema.

Upload cases store their (generated) bytes as documents like any upload; their tasks go to a
broker database no worker reads (so `POST /v1/extract` answers 202 after a short wait), and
the documents (and asked-for training runs) are removed afterwards, so no later test's worker
or trainer spends time on them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pipeline import queue
from pipeline.api import app
from pipeline.settings import get_settings
from pipeline.storage.db import connect

# What the API promises: never a 5xx, and every answer (status, type, body) as its OpenAPI
# description says.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


UNREAD_BROKER = "redis://127.0.0.1:6379/9"


@pytest.fixture(scope="module")
def admin(api_keys: dict[str, str], database: str) -> Iterator[dict[str, str]]:
    started = dt.datetime.now(dt.UTC)
    saved = os.environ["DOCKET_BROKER_URL"]
    os.environ["DOCKET_BROKER_URL"] = UNREAD_BROKER
    os.environ["DOCKET_EXTRACT_WAIT_S"] = "0.5"  # no worker reads that broker: 202 at once
    os.environ["DOCKET_EXTRACT_MAX_WAIT_S"] = "0.5"  # even when a wait_s asks for longer
    get_settings.cache_clear()
    queue._client.cache_clear()
    try:
        yield {"X-API-Key": api_keys["admin"]}
    finally:
        os.environ["DOCKET_BROKER_URL"] = saved
        del os.environ["DOCKET_EXTRACT_WAIT_S"]
        del os.environ["DOCKET_EXTRACT_MAX_WAIT_S"]
        get_settings.cache_clear()
        queue._client.cache_clear()
        redis.Redis.from_url(UNREAD_BROKER).flushdb()
        with connect(database) as conn:
            conn.execute("DELETE FROM documents WHERE created_at >= %s", (started,))
            conn.execute("DELETE FROM webhooks WHERE created_at >= %s", (started,))
            # requested retraining runs: no later test's trainer may take them
            conn.execute("DELETE FROM training_runs WHERE started_at >= %s", (started,))


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_5xx_and_every_answer_fits_the_schema(case: Any, admin: dict[str, str]) -> None:
    case.call_and_validate(headers=admin, checks=CHECKS)
