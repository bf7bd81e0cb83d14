"""Access: API keys with roles on every route, keys stored hashed, the analysts' database role
read-only. Real Postgres, the real app, keys made the way an admin makes them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pipeline.api import app
from pipeline.storage.db import analyst_url
from tests.conftest import headers
from tests.test_cli import docket

# Anonymous on purpose: health, metrics, the API's description, and the review sign-in form.
PUBLIC = {"/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs",
          "/docs/oauth2-redirect", "/redoc", "/review/login"}


def _concrete(path: str) -> str:
    values = {"doc_type": "receipt", "number": "1"}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), str(uuid.uuid4())),
                  path)


def _api_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path; FastAPI ≥ 0.165 keeps included routers nested."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes,
                                 prefix + route.include_context.prefix)
    return found


def _protected_routes() -> list[tuple[str, str]]:
    return [(method, _concrete(path)) for path, route in _api_routes(app.routes)
            if path not in PUBLIC for method in sorted(route.methods)]


def test_every_route_but_the_public_ones_refuses_a_missing_or_wrong_key(
    api_keys: dict[str, str],
) -> None:
    routes = _protected_routes()
    assert len(routes) >= 5  # documents, batches, records, review…
    client = TestClient(app, follow_redirects=False)
    assert client.get("/health/ready").status_code == 200
    for key in (None, "dk_not-a-key", api_keys["uploader"] + "x"):
        for method, path in routes:
            response = client.request(method, path,
                                      headers={"X-API-Key": key} if key else {})
            if path.startswith("/review"):  # a browser is sent to sign in instead
                assert response.status_code in (303, 307, 401), (method, path, key)
                if response.status_code != 401:
                    assert response.headers["location"].startswith("/review/login")
            else:
                assert response.status_code == 401, (method, path, key, response.text)
                assert "API key" in response.json()["detail"]


# (method, path, body) → roles allowed; the others must get 403 with a reason.
CASES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("POST", "/v1/documents", {"files": [("files", ("x.exe", b"MZ\x90\x00 not a doc"))]},
     {"uploader", "admin"}),
    ("GET", f"/v1/documents/{uuid.uuid4()}", {}, {"uploader", "reviewer", "analyst", "admin"}),
    ("GET", f"/v1/batches/{uuid.uuid4()}", {}, {"uploader", "reviewer", "analyst", "admin"}),
    ("GET", "/v1/records/receipt", {}, {"analyst", "admin"}),
    ("GET", "/v1/records/receipt/export?format=csv", {}, {"analyst", "admin"}),
    ("GET", f"/v1/documents/{uuid.uuid4()}/corrections", {}, {"reviewer", "admin"}),
    ("POST", f"/v1/documents/{uuid.uuid4()}/corrections", {"json": {"edits": {"total": "1"}}},
     {"reviewer", "admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "roles"), CASES,
                         ids=[f"{c[0]} {c[1][:30]}" for c in CASES])
def test_a_keys_role_limits_what_it_can_do(
    api_keys: dict[str, str], method: str, path: str, body: dict[str, Any], roles: set[str],
) -> None:
    client = TestClient(app)
    for role in api_keys:
        response = client.request(method, path, headers=headers(api_keys, role), **body)
        if role in roles:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code)
            article = "An" if role[0] in "aeiou" else "A"
            assert f"{article} {role} key may not" in response.json()["detail"]


def test_keys_are_stored_hashed_and_revocation_works_at_once(
    api_keys: dict[str, str], conn: psycopg.Connection,
) -> None:
    rows = conn.execute("SELECT * FROM api_keys").fetchall()
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert all(secret not in stored for secret in api_keys.values())

    made = docket("keys", "create", "--role", "analyst", "--name", "temp-analyst")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("dk_") and len(secret) > 40
    client = TestClient(app, headers={"X-API-Key": secret})
    assert client.get("/v1/records/receipt").status_code == 200
    key_id = conn.execute("SELECT id FROM api_keys WHERE name = 'temp-analyst'").fetchone()
    assert key_id is not None
    listed = docket("keys", "list")
    assert "temp-analyst" in listed.stdout and secret not in listed.stdout
    assert docket("keys", "revoke", str(key_id["id"])).returncode == 0
    assert client.get("/v1/records/receipt").status_code == 401
    bad = docket("keys", "create", "--role", "root", "--name", "x")
    assert bad.returncode == 2 and "Unknown role 'root'" in bad.stderr


def test_the_analyst_database_role_reads_views_and_cannot_write(database: str) -> None:
    with psycopg.connect(analyst_url(), autocommit=True) as analyst:
        assert analyst.execute("SELECT count(*) FROM receipts").fetchone() is not None
        for statement, error in [
            ("DELETE FROM analytics.receipts", psycopg.Error),
            ("UPDATE public.documents SET status = 'done'", psycopg.errors.ReadOnlySqlTransaction),
            ("CREATE TABLE analytics.mine (a int)", psycopg.errors.ReadOnlySqlTransaction),
            ("SELECT * FROM public.blobs", psycopg.errors.InsufficientPrivilege),
            ("SELECT * FROM public.api_keys", psycopg.errors.InsufficientPrivilege),
        ]:
            with pytest.raises(error):
                analyst.execute(statement)
        # Turning read-only off does not grant writes: the role has no write privileges.
        analyst.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("DELETE FROM public.receipts")
        with pytest.raises(psycopg.Error):
            analyst.execute("DELETE FROM analytics.receipts")
