"""The review pages (server-rendered HTML): the list of documents, one document's form, its
page images, and the retraining runs that learn from the reviews.

Every page is behind `signin.gate`. What a document's page shows is built by
`pipeline.review.document_page`; saving the form goes through `pipeline.review` like the
corrections API, so both refuse and accept the same edits.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from pipeline import doctypes, review
from pipeline.api.access import allowed
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.api.signin import CSRF_FIELD, csrf_problem, gate
from pipeline.api.templating import templates
from pipeline.queue import wake_trainer
from pipeline.review.page_images import NoPageImage, render_page
from pipeline.settings import get_settings
from pipeline.storage import documents, training_runs
from pipeline.storage.db import connect
from pipeline.storage.documents import Status
from pipeline.storage.sessions import Session

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
PER_PAGE = 50
FIELD_PREFIX = "field:"  # form inputs are named field:<path>


@router.get("/review", response_class=HTMLResponse, include_in_schema=False)
def review_list(
    request: Request,
    status: str | None = None,
    type: str | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    session = gate(request)
    if isinstance(session, Response):
        return session
    status = status if status in list(Status) else None
    doc_type = type if type in doctypes.REGISTRY else None
    with connect() as conn:
        rows, total = review.queue(conn, status, doc_type, q or None, page, PER_PAGE)
        running = [r for r in training_runs.listing(conn, limit=1) if r["status"] == "running"]
    pages = max(1, -(-total // PER_PAGE))
    filters = {k: v for k, v in (("status", status), ("type", doc_type), ("q", q)) if v}
    return templates.TemplateResponse(request, "list.html", {
        **_signed(session), "rows": rows, "total": total, "page": page, "pages": pages,
        "status": status, "type": doc_type, "q": q or "", "statuses": list(Status),
        "types": list(doctypes.REGISTRY), "filters": filters,
        "threshold": get_settings().confidence_threshold, "running": running,
    })


@router.get("/review/training", response_class=HTMLResponse, include_in_schema=False)
def training_page(request: Request, requested: str | None = None) -> Response:
    """The retraining runs: a running one's stage and progress (the page refreshes itself
    while one runs), then each outcome and its reason."""
    session = gate(request)
    if isinstance(session, Response):
        return session
    settings = get_settings()
    with connect() as conn:
        runs = training_runs.listing(conn, limit=50)
    return templates.TemplateResponse(request, "training.html", {
        **_signed(session), "runs": runs, "requested": requested,
        "adapters": doctypes.adapters(),
        "admin": allowed(session.key.role, "admin"), "settings": settings,
        "running": any(r["status"] in ("requested", "running") for r in runs),
        "stages": training_runs.STAGES,
    })


@router.post("/review/training", response_class=HTMLResponse, include_in_schema=False)
async def request_training_run(request: Request) -> Response:
    """An admin asks the trainer for a run now (whatever the window and the count)."""
    signed = await _signed_form(request)
    if isinstance(signed, Response):
        return signed
    session, form = signed
    adapter = str(form.get("adapter") or "")
    if not allowed(session.key.role, "admin"):
        raise HTTPException(403, "Only an admin may start a training run.")
    if adapter not in doctypes.adapters():
        raise HTTPException(422, f"No adapter '{adapter}'.")
    with connect() as conn:
        training_runs.request(conn, adapter, f"{session.key.name} on the review page")
    wake_trainer()
    return RedirectResponse(f"/review/training?requested={adapter}", status_code=303)


async def _signed_form(request: Request) -> tuple[Session, FormData] | Response:
    """A posted form's session and fields, or the answer to give instead: sign-in for no
    session, 403 for a form without the session's CSRF token."""
    session = gate(request)
    if isinstance(session, Response):
        return session
    form = await request.form()
    if (refused := csrf_problem(session, form.get(CSRF_FIELD))) is not None:
        return refused
    return session, form


def _signed(session: Session) -> dict[str, Any]:
    """What every page shows of its session: who is signed in, the token its forms carry."""
    return {"key": session.key, "csrf_token": session.csrf_token}


def _context(document_id: uuid.UUID, session: Session) -> dict[str, Any] | None:
    """The document page's template context for this reviewer (None: no such document)."""
    with connect() as conn:
        page = review.document_page(conn, document_id, get_settings().confidence_threshold)
    return None if page is None else {**_signed(session), **page}


@router.get("/review/documents/{document_id}", response_class=HTMLResponse,
            include_in_schema=False)
def review_document(request: Request, document_id: uuid.UUID, saved: int | None = None
                    ) -> Response:
    session = gate(request)
    if isinstance(session, Response):
        return session
    context = _context(document_id, session)
    if context is None:
        raise HTTPException(404, f"No document {document_id}.")
    if saved is not None:
        context["notice"] = (f"Saved: {saved} value{'s' if saved != 1 else ''} corrected."
                             if saved else "Saved: values confirmed, nothing changed.")
    return templates.TemplateResponse(request, "document.html", context)


@router.post("/review/documents/{document_id}", response_class=HTMLResponse,
             include_in_schema=False)
async def save_document(request: Request, document_id: uuid.UUID) -> Response:
    signed = await _signed_form(request)
    if isinstance(signed, Response):
        return signed
    session, form = signed
    edits = {name[len(FIELD_PREFIX):]: str(value) for name, value in form.multi_items()
             if name.startswith(FIELD_PREFIX)}
    run_id = str(form.get("run_id") or "")
    try:
        with connect() as conn:
            result = review.apply_corrections(
                conn, document_id, edits, session.key, int(run_id) if run_id.isdigit() else None
            )
    except (review.CorrectionError, review.StaleEdit, review.NotReviewable) as exc:
        context = _context(document_id, session)
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
    session = gate(request)
    if isinstance(session, Response):
        return session
    with connect() as conn:
        found = documents.original(conn, document_id)
    if found is None:
        raise HTTPException(404, f"No document {document_id}.")
    if found[0] is None:
        raise HTTPException(410, f"The original of {document_id} was erased by the retention "
                            "rule; its text and record are kept.")
    try:
        png = render_page(found[0], found[1], number)
    except NoPageImage as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})
