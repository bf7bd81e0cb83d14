"""Health for orchestrators, and outages answered as 503 with `Retry-After`.

- `/health/live`: the process answers (restart it if not).
- `/health/ready`: it can serve: the database and the broker answer and the schema is at the
  migrations' head (send it traffic only then).
While Postgres or Redis is down, any route that needs it answers 503 with `Retry-After` and a
sentence saying what is down and whether anything was kept, never a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
import psycopg
import redis
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pipeline.settings import get_settings
from pipeline.storage import db

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 3


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: str  # "ready" or "unavailable"
    checks: dict[str, Check]


def check_database() -> Check:
    try:
        db.ping(timeout_s=CHECK_TIMEOUT_S)
    except psycopg.Error as exc:
        return Check(ok=False, detail=f"PostgreSQL cannot be reached: {_first_line(exc)}")
    return Check(ok=True, detail="PostgreSQL answers")


def check_broker() -> Check:
    try:
        redis.Redis.from_url(get_settings().broker_url, socket_timeout=CHECK_TIMEOUT_S,
                             socket_connect_timeout=CHECK_TIMEOUT_S).ping()
    except redis.RedisError as exc:
        return Check(ok=False, detail=f"Redis (the queue) cannot be reached: {exc}")
    return Check(ok=True, detail="Redis answers")


def check_migrations() -> Check:
    try:
        current, heads = db.migration_state()
    except Exception as exc:  # noqa: BLE001 - any failure here means "not ready", with why
        return Check(ok=False, detail=f"The schema's version cannot be read: {_first_line(exc)}")
    if current != heads:
        return Check(ok=False, detail=f"The schema is at {sorted(current) or 'nothing'}, the "
                     f"code needs {sorted(heads)}: run `docket migrate`.")
    return Check(ok=True, detail=f"The schema is at the head ({', '.join(sorted(heads))})")


@router.get("/health/live")
def live() -> dict[str, str]:
    """The process answers; no dependency is checked (a database outage must not get the API
    restarted)."""
    return {"status": "ok"}


@router.get("/health/ready", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "a dependency is down"}})
def ready(response: Response) -> Readiness:
    """The database and broker answer and the schema is at the migrations' head."""
    checks = {"database": check_database(), "broker": check_broker()}
    checks["migrations"] = (check_migrations() if checks["database"].ok
                            else Check(ok=False, detail="not checked: the database is down"))
    if all(c.ok for c in checks.values()):
        return Readiness(status="ready", checks=checks)
    response.status_code = 503
    response.headers["Retry-After"] = str(get_settings().retry_after_s)
    return Readiness(status="unavailable", checks=checks)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _unavailable(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=503,
                        headers={"Retry-After": str(get_settings().retry_after_s)})


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: database unreachable: %s", request.method, request.url.path,
                _first_line(exc))
    return _unavailable(
        f"The database cannot be reached, so nothing was stored or read. Retry after "
        f"{get_settings().retry_after_s} s; an upload sent again is recognised, never doubled.")


async def _broker_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: broker unreachable: %s", request.method, request.url.path,
                _first_line(exc))
    return _unavailable(
        "The queue (Redis) cannot be reached. What you sent was stored and will be processed "
        "once the queue is back (the workers queue unfinished documents again); sending it "
        f"again after {get_settings().retry_after_s} s is safe: the same bytes are recognised.")


def install(app: FastAPI) -> None:
    """The health routes, and outages answered as 503 with `Retry-After`."""
    app.include_router(router)
    handlers: dict[Any, Any] = {
        psycopg.OperationalError: _database_down,
        kombu.exceptions.OperationalError: _broker_down,
        redis.ConnectionError: _broker_down,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
