"""Test fixtures on real parts: a fresh Postgres database, Redis, the real model, a real worker.

Tests use their own database (`docket_test`) and Redis database (15) so they never touch a
user's data (`DOCKET_TEST_DB`, `DOCKET_TEST_REDIS_DB` choose others); settings reach every
process (this one and the worker) through the environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "documents"
# Two test runs side by side (e.g. two developers' checkouts) set these apart.
TEST_DB = os.environ.get("DOCKET_TEST_DB", "docket_test")
TEST_REDIS_DB = os.environ.get("DOCKET_TEST_REDIS_DB", "15")
os.environ["DOCKET_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{TEST_DB}"
os.environ["DOCKET_BROKER_URL"] = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
os.environ["HF_HUB_OFFLINE"] = "1"
# Workers notice lost messages (an outage test restarts Redis) within seconds, not minutes.
os.environ["DOCKET_SWEEP_INTERVAL_S"] = "5"
os.environ["DOCKET_LOST_AFTER_S"] = "15"
# Webhook receivers in tests listen on this machine (an admin would allow-list an internal
# receiver the same way), and retry within seconds, not hours.
os.environ["DOCKET_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
os.environ["DOCKET_WEBHOOK_RETRY_SCHEDULE_S"] = "0.5,1,1,1"
os.environ["DOCKET_WEBHOOK_TIMEOUT_S"] = "3"
os.environ["DOCKET_WEBHOOK_DISPATCH_INTERVAL_S"] = "0.3"


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def database(settings) -> str:  # type: ignore[no-untyped-def]
    """A freshly created and migrated test database."""
    from pipeline.storage.db import migrate

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {TEST_DB}")
    migrate(settings.database_url)
    return str(settings.database_url)


@pytest.fixture(scope="session")
def api_keys(database: str) -> dict[str, str]:
    """One real API key per role, created the way an admin does: role → secret."""
    from pipeline.storage.db import connect
    from pipeline.storage.keys import ROLES, create_key

    with connect(database) as connection:
        return {role: create_key(connection, f"test-{role}", role)[1] for role in ROLES}


def headers(api_keys: dict[str, str], role: str) -> dict[str, str]:
    return {"X-API-Key": api_keys[role]}


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection]:
    from pipeline.storage.db import connect

    with connect(database) as connection:
        yield connection


@pytest.fixture(scope="session")
def broker(settings) -> str:  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(settings.broker_url)
    client.flushdb()
    return str(settings.broker_url)


@pytest.fixture(scope="session")
def runtime(settings):  # type: ignore[no-untyped-def]
    from pipeline.slm.factory import get_runtime

    return get_runtime(settings)


def start_worker(log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A real `docket worker` process (Celery, prefork, one child), started and ready."""
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "worker", "--concurrency", "1"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + 180
    while b"ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("worker did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.5)
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def worker(database: str, broker: str) -> Iterator[subprocess.Popen[bytes]]:
    """The test session's worker, loaded with the model at process start."""
    proc = start_worker(ROOT / "test-artifacts" / "worker.log")
    yield proc
    stop_worker(proc)


def scanned_pages(image: Path, pages: int) -> bytes:
    """A PDF of `pages` scanned pages, each the same scan (OCR: about a second a page); the
    bytes are new each time, so it is never a duplicate upload."""
    import io
    import uuid

    from PIL import Image

    scan = Image.open(image).convert("RGB")
    out = io.BytesIO()
    scan.save(out, "PDF", save_all=True, append_images=[scan.copy() for _ in range(pages - 1)],
              title=f"test scan {uuid.uuid4()}")
    return out.getvalue()


def wait_for_batch(conn: psycopg.Connection, batch_id: object, timeout: float = 600) -> dict:
    """Poll until no document of the batch is queued or processing; return counts by status."""
    from pipeline.storage import documents

    deadline = time.monotonic() + timeout
    while True:
        counts = documents.batch_counts(conn, batch_id)  # type: ignore[arg-type]
        assert counts is not None
        if counts["queued"] == 0 and counts["processing"] == 0:
            return counts
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch {batch_id} not finished: {counts}")
        time.sleep(1)


_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots this run took (the review page's browser test), for people."""
    shots = sorted(p for p in (ROOT / "test-artifacts").rglob("*.png")
                   if p.stat().st_mtime >= _STARTED)
    if shots:
        terminalreporter.write_sep("-", "screenshots taken by this run")
        for shot in shots:
            terminalreporter.write_line(str(shot))
