"""The review page (server-rendered HTML) and the corrections API.

Browser pages authenticate with the `docket_key` cookie set by /review/login; without one
they redirect there, and a key whose role may not review gets a 403 page naming the role
needed. The JSON routes take the key like every other API route (`require("review")`).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from pipeline import doctypes, review
from pipeline.api.access import (
    COOKIE_NAME,
    allowed,
    article,
    key_for,
    require,
    roles_that_may,
)
from pipeline.api.documents import DocumentView
from pipeline.api.documents import get_document as document_view
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.document import Document
from pipeline.page_images import NoPageImage, has_page_images, original, render_page
from pipeline.settings import get_settings
from pipeline.storage import documents, records
from pipeline.storage.db import connect
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PER_PAGE = 50
COOKIE_MAX_AGE = 12 * 3600
FIELD_PREFIX = "field:"  # form inputs are named field:<path>


# --- JSON API -------------------------------------------------------------------------------


class CorrectionRequest(BaseModel):
    edits: dict[str, str | None] = Field(
        description="field path → corrected value as printed ('total', 'items[0].amount'); "
        "empty or null clears it"
    )
    run_id: int | None = Field(
        default=None, description="the run these edits were made against; if it is no longer "
        "the latest, the request is refused with 409 instead of overwriting newer values"
    )


class CorrectionView(BaseModel):
    id: int
    path: str
    old_value: str | None
    new_value: str | None
    reviewer: str
    key_id: uuid.UUID | None
    run_id: int
    new_run_id: int
    created_at: dt.datetime


def _corrections_error(exc: Exception) -> HTTPException:
    if isinstance(exc, review.CorrectionError):
        return HTTPException(422, {"message": str(exc), "fields": exc.problems})
    if isinstance(exc, review.StaleEdit):
        return HTTPException(409, str(exc))
    if isinstance(exc, review.NotReviewable):
        return HTTPException(404 if isinstance(exc, review.DocumentNotFound) else 409, str(exc))
    raise exc


@router.post("/v1/documents/{document_id}/corrections", response_model=DocumentView)
def correct_document(
    document_id: uuid.UUID, body: CorrectionRequest,
    key: Annotated[ApiKey, Depends(require("review"))],
) -> DocumentView:
    """Correct values of the document's latest run; returns the re-validated document."""
    try:
        with connect() as conn:
            review.apply_corrections(conn, document_id, body.edits, key, body.run_id)
    except (review.CorrectionError, review.StaleEdit, review.NotReviewable) as exc:
        raise _corrections_error(exc) from exc
    return document_view(document_id)


@router.get("/v1/documents/{document_id}/corrections", response_model=list[CorrectionView],
            dependencies=[Depends(require("review"))])
def list_corrections(document_id: uuid.UUID) -> list[CorrectionView]:
    """The audit trail: every corrected value, newest first."""
    with connect() as conn:
        if documents.get_document(conn, document_id) is None:
            raise HTTPException(404, f"No document {document_id}.")
        return [CorrectionView.model_validate(row) for row in review.history(conn, document_id)]


# --- Sign-in --------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only redirect within the review pages (no open redirect)."""
    if target and target.startswith("/review") and not target.startswith("//"):
        return target
    return "/review"


def _gate(request: Request) -> ApiKey | Response:
    """The cookie's key if it may review; otherwise the response to send instead."""
    key = key_for(request.cookies.get(COOKIE_NAME) or request.headers.get("X-API-Key"))
    if key is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = urllib.parse.urlencode({"next": target})
        return RedirectResponse(f"/review/login?{query}", status_code=303)
    if not allowed(key.role, "review"):
        return _refused(request, key)
    return key


def _refused(request: Request, key: ApiKey) -> Response:
    return templates.TemplateResponse(
        request, "forbidden.html", {"key": key, "roles": roles_that_may("review")},
        status_code=403
    )


@router.get("/review/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": _safe_next(next)})


@router.post("/review/login", response_class=HTMLResponse, include_in_schema=False)
async def login(request: Request) -> Response:
    form = await request.form()
    secret = str(form.get("key") or "").strip()
    target = _safe_next(str(form.get("next") or ""))
    key = key_for(secret)
    if key is None or not allowed(key.role, "review"):
        message = (
            "That is not a valid API key (unknown or revoked)." if key is None else
            f"{article(key.role).capitalize()} {key.role} key cannot review documents; "
            f"sign in with a {roles_that_may('review')} key."
        )
        return templates.TemplateResponse(
            request, "login.html", {"next": target, "error": message},
            status_code=401 if key is None else 403,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE_NAME, secret, max_age=COOKIE_MAX_AGE, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https",
                        path="/")
    return response


@router.post("/review/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/review/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


# --- Pages ----------------------------------------------------------------------------------


@router.get("/review", response_class=HTMLResponse, include_in_schema=False)
def review_list(
    request: Request,
    status: str | None = None,
    type: str | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    key = _gate(request)
    if isinstance(key, Response):
        return key
    status = status if status in documents.STATUSES else None
    doc_type = type if type in doctypes.REGISTRY else None
    with connect() as conn:
        rows, total = review.queue(conn, status, doc_type, q or None, page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    filters = {k: v for k, v in (("status", status), ("type", doc_type), ("q", q)) if v}
    return templates.TemplateResponse(request, "list.html", {
        "key": key, "rows": rows, "total": total, "page": page, "pages": pages,
        "status": status, "type": doc_type, "q": q or "", "statuses": documents.STATUSES,
        "types": list(doctypes.REGISTRY), "filters": filters,
        "threshold": get_settings().confidence_threshold,
    })


def _level(confidence: float | None, threshold: float) -> str:
    if confidence is None:
        return "none"
    return "high" if confidence >= 0.9 else "medium" if confidence >= threshold else "low"


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")


def _marked_text(text: str, fields: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The text cut into (segment, field path or None) around the fields' char spans."""
    spans = sorted((f["char_start"], f["char_end"], f["path"]) for f in fields
                   if f["char_start"] is not None and f["char_end"] is not None)
    out: list[tuple[str, str | None]] = []
    at = 0
    for start, end, path in spans:
        if start < at:
            continue  # overlaps a span already marked
        out += [(text[at:start], None), (text[start:end], path)]
        at = end
    out.append((text[at:], None))
    return [(segment, path) for segment, path in out if segment]


def _new_entry_inputs(doctype: doctypes.DocType, draft: dict[str, Any]) -> list[dict[str, Any]]:
    """One blank entry per list field (a missed receipt line, party, signatory) to add."""
    out = []
    for name, entries in draft.items():
        if not isinstance(entries, list):
            continue
        entry = f"{name}[{len(entries)}]"
        names = review.entry_fields(doctype, name)
        paths = [f"{entry}.{field}" for field in names] if names is not None else [entry]
        out += [{"path": path, "value": "", "id": "field-" + _slug(path), "new": True,
                 "group": f"Add to {name} (leave blank to add nothing)", "confidence": None,
                 "level": "none", "flagged": False, "located": True} for path in paths]
    return out


def _document_context(
    document_id: uuid.UUID, key: ApiKey
) -> dict[str, Any] | None:
    settings = get_settings()
    with connect() as conn:
        doc = documents.get_document(conn, document_id)
        if doc is None:
            return None
        content = conn.execute("SELECT content FROM documents WHERE id = %s",
                               (document_id,)).fetchone()
        run = conn.execute(
            """SELECT id, document_type, raw_output, record, valid, violations, source,
                      reviewer, model, adapter, created_at
               FROM extraction_runs WHERE document_id = %s ORDER BY id DESC LIMIT 1""",
            (document_id,),
        ).fetchone()
        fields = records.run_fields(conn, run["id"]) if run else []
        trail = review.history(conn, document_id)
    document = (Document.model_validate(content["content"])
                if content and content["content"] else None)
    evidence = {f["path"]: f for f in fields}
    # Values a reviewer typed (their latest correction still stands) show as corrected.
    latest: dict[str, str | None] = {}
    for c in trail:  # newest first
        latest.setdefault(c["path"], c["new_value"])
    corrected = {path for path, value in latest.items()
                 if path in evidence and evidence[path]["value"] == value}

    def level(path: str, confidence: float | None) -> str:
        if path in corrected:
            return "corrected"
        return _level(confidence, settings.confidence_threshold)

    inputs: list[dict[str, Any]] = []
    if run is not None and run["document_type"] in doctypes.REGISTRY:
        doctype = doctypes.get(run["document_type"])
        draft = review.draft_from_output(doctype, run["raw_output"])
        flagged = {p for v in run["violations"] for p in v.get("fields", [])}
        for path, value in review.leaves(draft).items():
            confidence = evidence[path]["confidence"] if path in evidence else None
            inputs.append({
                "path": path, "value": value or "", "id": "field-" + _slug(path),
                "group": path.rsplit(".", 1)[0] if "]." in path else None,
                "confidence": confidence,
                "level": level(path, confidence),
                "flagged": path in flagged or path.split("[")[0] in flagged
                or path.rsplit(".", 1)[0] in flagged,
                "located": path in evidence and evidence[path]["page"] is not None,
            })
        inputs += _new_entry_inputs(doctype, draft)
    pages = []
    if document is not None:
        for page in document.pages:
            boxes = []
            if page.width and page.height:
                for f in fields:
                    if f["page"] != page.number or f["value"] is None:
                        continue
                    for box in f["bboxes"]:
                        boxes.append({
                            "path": f["path"], "confidence": f["confidence"],
                            "level": level(f["path"], f["confidence"]),
                            "left": 100 * box["x0"] / page.width,
                            "top": 100 * box["y0"] / page.height,
                            "width": 100 * (box["x1"] - box["x0"]) / page.width,
                            "height": 100 * (box["y1"] - box["y0"]) / page.height,
                        })
            pages.append({"number": page.number, "boxes": boxes,
                          "ratio": (page.height / page.width) if page.width and page.height
                          else None})
    return {
        "key": key, "doc": doc, "run": run, "inputs": inputs, "trail": trail, "pages": pages,
        "images": has_page_images(doc["mime_type"]) and bool(pages),
        "field_levels": {f["path"]: level(f["path"], f["confidence"]) for f in fields},
        "text_segments": _marked_text(document.text(), [f for f in fields if f["value"]])
        if document is not None else [],
        "levels": {"high": "≥ 0.9", "medium": f"≥ {settings.confidence_threshold}",
                   "low": f"< {settings.confidence_threshold}"},
    }


@router.get("/review/documents/{document_id}", response_class=HTMLResponse,
            include_in_schema=False)
def review_document(request: Request, document_id: uuid.UUID, saved: int | None = None
                    ) -> Response:
    key = _gate(request)
    if isinstance(key, Response):
        return key
    context = _document_context(document_id, key)
    if context is None:
        raise HTTPException(404, f"No document {document_id}.")
    if saved is not None:
        context["notice"] = (f"Saved: {saved} value{'s' if saved != 1 else ''} corrected."
                             if saved else "Saved: values confirmed, nothing changed.")
    return templates.TemplateResponse(request, "document.html", context)


@router.post("/review/documents/{document_id}", response_class=HTMLResponse,
             include_in_schema=False)
async def save_document(request: Request, document_id: uuid.UUID) -> Response:
    key = _gate(request)
    if isinstance(key, Response):
        return key
    form = await request.form()
    edits = {name[len(FIELD_PREFIX):]: str(value) for name, value in form.multi_items()
             if name.startswith(FIELD_PREFIX)}
    run_id = str(form.get("run_id") or "")
    try:
        with connect() as conn:
            result = review.apply_corrections(
                conn, document_id, edits, key, int(run_id) if run_id.isdigit() else None
            )
    except (review.CorrectionError, review.StaleEdit, review.NotReviewable) as exc:
        context = _document_context(document_id, key)
        if context is None:
            raise HTTPException(404, f"No document {document_id}.") from exc
        problems = exc.problems if isinstance(exc, review.CorrectionError) else {}
        if isinstance(exc, review.CorrectionError):
            for item in context["inputs"]:  # keep what the reviewer typed
                item["value"] = edits.get(item["path"], item["value"])
                item["problem"] = problems.get(item["path"])
        context["error"] = str(exc)
        status = 422 if isinstance(exc, review.CorrectionError) else 409
        return templates.TemplateResponse(request, "document.html", context, status_code=status)
    return RedirectResponse(
        f"/review/documents/{document_id}?saved={len(result.changes)}", status_code=303
    )


@router.get("/review/documents/{document_id}/pages/{number}.png", include_in_schema=False)
def page_image(request: Request, document_id: uuid.UUID, number: int) -> Response:
    key = _gate(request)
    if isinstance(key, Response):
        return key
    with connect() as conn:
        found = original(conn, document_id)
    if found is None:
        raise HTTPException(404, f"No document {document_id}.")
    try:
        png = render_page(found[0], found[1], number)
    except NoPageImage as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})
