"""The review page end to end on real parts: a sample processed by the real pipeline and model,
the real API under uvicorn, a reviewer in headless Chromium correcting a value, and the audit
trail, review run, typed row and training example checked in Postgres.

Screenshots go to test-artifacts/review/ (list, document, invalid value, after save, a refused
sign-in, a DOCX shown as text).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.storage.db import connect
from tests.conftest import ROOT, SAMPLES

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "review"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _process(database: str, runtime: Any, settings: Any, name: str) -> uuid.UUID:
    """Store a sample the way an upload does and run it through the real pipeline."""
    from pipeline.process import process_document
    from pipeline.storage.documents import add_document, create_batch

    with connect(database) as conn:
        stored = add_document(conn, create_batch(conn, "test"), name, (SAMPLES / name).read_bytes())
    process_document(stored.document_id, runtime, settings)
    return stored.document_id


@pytest.fixture(scope="module")
def receipt_id(database: str, runtime: Any, settings: Any) -> uuid.UUID:
    return _process(database, runtime, settings, "receipt-cafe.png")


@pytest.fixture(scope="module")
def server(database: str, api_keys: dict[str, str]) -> Iterator[str]:
    """The real API in its own process (uvicorn), on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = ROOT / "test-artifacts" / "review-api.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "pipeline.api:app", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy(),
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("API did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.3)
        yield base
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium): "
                    "apt-get install chromium (scripts/test.sh does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _new_page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(90_000)  # two shared CPU cores: be patient, not flaky
    return page


def _sign_in(browser: Any, base: str, secret: str) -> Any:
    page = _new_page(browser)
    page.goto(f"{base}/review")
    assert "/review/login" in page.url  # no cookie yet → the sign-in form
    page.get_by_label("API key").fill(secret)
    page.click("#sign-in")
    page.wait_for_load_state()
    return page


def _counts(conn: psycopg.Connection, document_id: uuid.UUID) -> dict[str, int]:
    row = conn.execute(
        """SELECT (SELECT count(*) FROM extraction_runs WHERE document_id = %(d)s) AS runs,
                  (SELECT count(*) FROM corrections WHERE document_id = %(d)s) AS corrections,
                  (SELECT count(*) FROM training_examples WHERE document_id = %(d)s) AS examples
        """, {"d": document_id},
    ).fetchone()
    assert row is not None
    return dict(row)


def _new_total(old: str | None) -> str:
    """A total that differs from the model's, as printed on a receipt."""
    from schemas.common import parse_money

    amount = parse_money(old) if old else None
    return f"{(amount or Decimal('9')) + Decimal('1.25'):.2f}"


def test_without_a_cookie_pages_redirect_to_sign_in(server: str) -> None:
    for path in ("/review", f"/review/documents/{uuid.uuid4()}"):
        response = httpx.get(server + path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/review/login?next=")


def test_a_key_without_the_review_role_is_refused(
    server: str, browser: Any, api_keys: dict[str, str]
) -> None:
    page = _new_page(browser)
    page.goto(f"{server}/review/login")
    page.get_by_label("API key").fill(api_keys["uploader"])
    page.click("#sign-in")
    assert "An uploader key cannot review" in page.inner_text("#login-error")
    assert "reviewer" in page.inner_text("#login-error")
    assert "docket_session" not in {c["name"] for c in page.context.cookies()}  # no session
    _shot(page, "login-refused")
    page.close()
    # An uploader key sent to a page some other way (the header) gets the 403 page.
    response = httpx.get(f"{server}/review", headers={"X-API-Key": api_keys["uploader"]})
    assert response.status_code == 403 and "reviewer or admin" in response.text
    # A cookie holding a key, as the page once set it, signs nobody in.
    response = httpx.get(f"{server}/review", headers={
        "Cookie": f"docket_key={api_keys['reviewer']}; docket_session={api_keys['reviewer']}"},
        follow_redirects=False)
    assert response.status_code == 303
    response = httpx.get(f"{server}/v1/documents/{uuid.uuid4()}/corrections",
                         headers={"X-API-Key": api_keys["uploader"]})
    assert response.status_code == 403
    with httpx.Client(base_url=server) as client:
        client.get("/review/login")  # the sign-in form's token, in its cookie and the form
        token = client.cookies["docket_login_csrf"]
        bad = client.post("/review/login", data={"key": "dk_not-a-key", "csrf_token": token})
        assert bad.status_code == 401 and "not a valid API key" in bad.text
        # A sign-in form posted from elsewhere (no matching token) is refused, valid key or not.
        forged = httpx.post(f"{server}/review/login",
                            data={"key": api_keys["reviewer"], "csrf_token": token})
        assert forged.status_code == 403 and "security token" in forged.text
        assert "docket_session" not in forged.cookies


def test_a_review_session_is_held_by_the_server_and_ends_with_sign_out_or_its_key(
    server: str, browser: Any, api_keys: dict[str, str], database: str,
) -> None:
    from pipeline.storage.keys import create_key, revoke_key

    with connect(database) as c:
        key, secret = create_key(c, "test-short-lived-reviewer", "reviewer")
    page = _sign_in(browser, server, secret)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "docket_session"]
    assert secret not in cookie["value"] and api_keys["reviewer"] not in cookie["value"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    with connect(database) as c:
        row = c.execute("SELECT expires_at - created_at AS life, csrf_token FROM "
                        "review_sessions WHERE key_id = %s", (key.id,)).fetchone()
    assert row is not None and row["life"].total_seconds() == 12 * 3600
    session = {"Cookie": f"docket_session={cookie['value']}"}
    assert httpx.get(f"{server}/review", headers=session).status_code == 200

    # A form without the session's CSRF token (another site posting it) is refused.
    forged = httpx.post(f"{server}/review/logout", headers=session, data={})
    assert forged.status_code == 403 and "security token" in forged.text
    assert httpx.get(f"{server}/review", headers=session).status_code == 200  # still signed in
    assert page.locator('header input[name="csrf_token"]').get_attribute(
        "value") == row["csrf_token"]

    # Signing out ends the session on the server: the old cookie no longer opens a page.
    page.click("text=Sign out")
    page.wait_for_url("**/review/login")
    response = httpx.get(f"{server}/review", headers=session, follow_redirects=False)
    assert response.status_code == 303 and "/review/login" in response.headers["location"]
    page.close()

    # Revoking the key ends its sessions.
    page = _sign_in(browser, server, secret)
    assert "Signed in as" in page.inner_text("header")
    with connect(database) as c:
        assert revoke_key(c, key.id)
    page.goto(f"{server}/review")
    assert "/review/login" in page.url
    _shot(page, "session-ended")
    page.close()


def test_reviewer_corrects_a_receipt_in_the_browser(
    server: str, browser: Any, api_keys: dict[str, str], receipt_id: uuid.UUID,
    conn: psycopg.Connection,
) -> None:
    page = _sign_in(browser, server, api_keys["reviewer"])
    assert any(c["name"] == "docket_session" for c in page.context.cookies())

    # The list shows the processed receipt with its status.
    row = page.locator(f'tr[data-document-id="{receipt_id}"]')
    assert row.count() == 1
    assert "receipt-cafe.png" in row.inner_text()
    _shot(page, "list")
    page.get_by_label("Status").select_option("failed")
    page.click("#filters button[type=submit]")
    assert page.locator(f'tr[data-document-id="{receipt_id}"]').count() == 0  # filtered out
    page.goto(f"{server}/review?q=cafe")
    row = page.locator(f'tr[data-document-id="{receipt_id}"]')
    row.locator("a.document-link").click()
    page.wait_for_url(f"**/review/documents/{receipt_id}")

    # The page image loaded, with field boxes drawn over it.
    assert page.locator("img.page-image").count() == 1
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.page-image')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    boxes = page.locator(".sheet .box")
    assert boxes.count() >= 1
    box = boxes.first.bounding_box()
    sheet = page.locator(".sheet").first.bounding_box()
    assert box and sheet and box["width"] > 0 and box["height"] > 0
    assert sheet["x"] <= box["x"] <= sheet["x"] + sheet["width"]  # inside the page
    assert sheet["y"] <= box["y"] <= sheet["y"] + sheet["height"]
    _shot(page, "document")

    total = page.locator('input[data-path="total"]')
    old_total = total.input_value() or None
    before = _counts(conn, receipt_id)
    status_before = page.get_attribute("#document-status", "data-status")

    # An amount that is not one: the error names the field, nothing is written.
    total.fill("twelve")
    page.click("#save")
    error = page.inner_text("#form-error")
    assert "total" in error and "not an amount" in error
    assert page.locator('input[data-path="total"]').input_value() == "twelve"  # kept
    _shot(page, "invalid-value")
    assert _counts(conn, receipt_id) == before
    status = conn.execute("SELECT status FROM documents WHERE id = %s", (receipt_id,)).fetchone()
    assert status is not None and status["status"] == status_before

    # A real correction.
    new_total = _new_total(old_total)
    page.goto(f"{server}/review/documents/{receipt_id}")
    page.locator('input[data-path="total"]').fill(new_total)
    page.click("#save")
    page.wait_for_url(f"**/review/documents/{receipt_id}?saved=*")
    assert "Saved" in page.inner_text("#notice")
    assert page.locator('input[data-path="total"]').input_value() == new_total
    assert page.locator('#history tr[data-path="total"]').count() == 1
    assert page.get_attribute("#run-source", "data-source") == "review"
    _shot(page, "after-save")
    page.close()

    # Postgres: audit trail, review run, typed row, training example, status.
    correction = conn.execute(
        "SELECT * FROM corrections WHERE document_id = %s AND path = 'total'", (receipt_id,)
    ).fetchone()
    assert correction is not None
    assert correction["old_value"] == old_total and correction["new_value"] == new_total
    assert correction["reviewer"] == "test-reviewer" and correction["key_id"] is not None
    run = conn.execute(
        "SELECT * FROM extraction_runs WHERE document_id = %s ORDER BY id DESC LIMIT 1",
        (receipt_id,),
    ).fetchone()
    assert run is not None and run["source"] == "review" and run["reviewer"] == "test-reviewer"
    assert run["id"] == correction["new_run_id"] and run["model"] == "gemma-3-270m"
    assert json.loads(run["raw_output"])["total"] == new_total
    assert all(v["rule"] != "low_confidence" for v in run["violations"])
    field = conn.execute(
        "SELECT confidence FROM extracted_fields WHERE run_id = %s AND path = 'total'",
        (run["id"],),
    ).fetchone()
    assert field is not None and field["confidence"] == 1.0
    receipt = conn.execute(
        "SELECT total, run_id FROM receipts WHERE document_id = %s", (receipt_id,)
    ).fetchone()
    assert receipt is not None and receipt["total"] == Decimal(new_total)
    assert receipt["run_id"] == run["id"]
    example = conn.execute(
        "SELECT * FROM training_examples WHERE document_id = %s", (receipt_id,)
    ).fetchone()
    assert example is not None and example["draft"]["total"] == new_total
    assert example["document_type"] == "receipt"
    doc = conn.execute("SELECT status, error FROM documents WHERE id = %s",
                       (receipt_id,)).fetchone()
    assert doc is not None
    if run["violations"]:
        assert doc["status"] == "needs_review"
        assert all(v["rule"] in doc["error"] for v in run["violations"])
    else:
        assert doc["status"] == "done" and doc["error"] is None


def test_corrections_json_api(
    server: str, api_keys: dict[str, str], receipt_id: uuid.UUID
) -> None:
    reviewer = {"X-API-Key": api_keys["reviewer"]}
    url = f"{server}/v1/documents/{receipt_id}/corrections"
    response = httpx.post(url, json={"edits": {"payment_method": "Mastercard"}}, headers=reviewer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["record"]["payment_method"] == "Mastercard" and body["id"] == str(receipt_id)
    assert any(f["path"] == "payment_method" and f["confidence"] == 1.0 for f in body["fields"])
    refused = httpx.post(url, json={"edits": {"total": "abc"}}, headers=reviewer)
    assert refused.status_code == 422 and "total" in refused.json()["detail"]["fields"]
    stale = httpx.post(url, json={"edits": {"total": "1.00"}, "run_id": 0}, headers=reviewer)
    assert stale.status_code == 409
    trail = httpx.get(url, headers=reviewer).json()
    assert trail[0]["path"] == "payment_method" and trail[0]["new_value"] == "Mastercard"
    assert trail[0]["reviewer"] == "test-reviewer"

    # A line the model missed is added past the list's end; clearing its values removes it.
    n = len(body["record"]["items"])
    added = {f"items[{n}].description": "Iced Teh Tarik", f"items[{n}].quantity": "1",
             f"items[{n}].unit_price": "6.50", f"items[{n}].amount": "6.50"}
    body = httpx.post(url, json={"edits": added}, headers=reviewer).json()
    assert body["record"]["items"][n]["description"] == "Iced Teh Tarik"
    assert body["record"]["items"][n]["amount"] == "6.50"
    body = httpx.post(url, json={"edits": dict.fromkeys(added, "")}, headers=reviewer).json()
    assert len(body["record"]["items"]) == n
    removed = [c for c in httpx.get(url, headers=reviewer).json()
               if c["path"] == f"items[{n}].description"]
    assert [(c["old_value"], c["new_value"]) for c in removed] == [
        ("Iced Teh Tarik", None), (None, "Iced Teh Tarik")]
    assert httpx.post(url, json={"edits": {}},
                      headers={"X-API-Key": api_keys["uploader"]}).status_code == 403
    missing = f"{server}/v1/documents/{uuid.uuid4()}/corrections"
    assert httpx.post(missing, json={"edits": {}}, headers=reviewer).status_code == 404


def test_correcting_a_contract_party_and_an_invalid_answer(
    database: str, runtime: Any, settings: Any, conn: psycopg.Connection
) -> None:
    """apply_corrections on a list path, and on a run whose answer did not validate."""
    from pipeline import doctypes, review
    from pipeline.storage import records
    from pipeline.storage.keys import ApiKey

    contract_id = _process(database, runtime, settings, "contract-nda.pdf")
    key_row = conn.execute("SELECT id, name, role FROM api_keys WHERE name = 'test-admin'"
                           ).fetchone()
    assert key_row is not None
    admin = ApiKey(key_row["id"], key_row["name"], key_row["role"])
    run = conn.execute("SELECT * FROM extraction_runs WHERE document_id = %s ORDER BY id DESC",
                       (contract_id,)).fetchone()
    assert run is not None
    draft = review.draft_from_output(doctypes.get("contract"), run["raw_output"])
    if not draft["parties"]:
        pytest.fail(f"the model found no party in the NDA: {run['raw_output']}")

    result = review.apply_corrections(
        conn, contract_id, {"parties[0].name": "Acme Widgets Ltd"}, admin, run["id"]
    )
    assert [c.path for c in result.changes] == ["parties[0].name"]
    party = conn.execute("SELECT name FROM contract_parties WHERE document_id = %s AND "
                         "position = 0", (contract_id,)).fetchone()
    assert party is not None and party["name"] == "Acme Widgets Ltd"
    with pytest.raises(review.CorrectionError, match=r"no field 'parties\[0\]\.email'"):
        review.apply_corrections(conn, contract_id, {"parties[0].email": "x@y.z"}, admin)
    with pytest.raises(review.CorrectionError, match="one after another"):
        review.apply_corrections(conn, contract_id, {"parties[9].name": "X"}, admin)

    # An answer that did not fit the schema (output_invalid: no record) is corrected from
    # its raw draft: the reviewer fills the empty party name.
    broken = {**review.draft_from_output(doctypes.get("contract"), run["raw_output"]),
              "parties": [{"name": "", "role": None}]}
    bad_run = {k: run[k] for k in ("model", "model_sha256", "adapter", "classifier",
                                   "classifier_confidence", "timings_ms", "prompt_tokens",
                                   "output_tokens", "tokens_per_s", "mean_token_prob",
                                   "finished")}
    bad_run.update(raw_output=json.dumps(broken), valid=False, violations=[
        {"rule": "output_invalid", "message": "does not fit", "fields": []}])
    with conn.transaction():
        bad_id = records.save_run(conn, contract_id, doctypes.get("contract"), bad_run, None, [])
    with pytest.raises(review.CorrectionError, match="parties\\[0\\].name is required"):
        review.apply_corrections(conn, contract_id, {"title": "NDA"}, admin)
    result = review.apply_corrections(
        conn, contract_id, {"parties[0].name": "Acme Widgets Ltd"}, admin, bad_id
    )
    assert result.corrected_run_id == bad_id
    row = conn.execute("SELECT record FROM extraction_runs WHERE id = %s",
                       (result.run_id,)).fetchone()
    assert row is not None and row["record"]["parties"][0]["name"] == "Acme Widgets Ltd"
    assert result.status == ("needs_review" if result.violations else "done")
    assert any(v["rule"] == "parties_missing" for v in result.violations)  # one party left
    example = conn.execute("SELECT draft FROM training_examples WHERE document_id = %s",
                           (contract_id,)).fetchone()
    assert example is not None and example["draft"]["parties"][0]["name"] == "Acme Widgets Ltd"
    assert len(review.history(conn, contract_id)) == 2


def test_a_document_without_page_images_shows_its_text_marked(
    server: str, browser: Any, api_keys: dict[str, str], database: str, runtime: Any,
    settings: Any,
) -> None:
    document_id = _process(database, runtime, settings, "contract-services.docx")
    page = _sign_in(browser, server, api_keys["admin"])
    page.goto(f"{server}/review/documents/{document_id}")
    assert page.locator("img.page-image").count() == 0
    assert page.locator("#document-text mark[data-path]").count() >= 1
    assert page.locator("#correction-form input[data-path]").count() >= 1
    _shot(page, "document-text")
    page.close()
