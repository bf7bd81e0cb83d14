"""Sign-in for the browser pages: a server-side review session, never the key in a cookie.

Signing in with a reviewer or admin API key creates a session (`pipeline.storage.sessions`);
the `docket_session` cookie holds only its random id. A page calls `gate` first: without a live
session it redirects to /review/login (and back afterwards); a key whose role may not review
gets a 403 page naming the roles that may. Every form posts the session's CSRF token, and the
sign-in form a token of its own (a cookie it must match), so another site cannot post a form
in a reviewer's name. The JSON routes take the key in X-API-Key, never a cookie.
"""

from __future__ import annotations

import hmac
import secrets
import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.api.access import allowed, article, key_for, roles_that_may
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.api.templating import templates
from pipeline.settings import get_settings
from pipeline.storage import sessions
from pipeline.storage.db import connect
from pipeline.storage.sessions import Session

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
SESSION_COOKIE = "docket_session"
LOGIN_CSRF_COOKIE = "docket_login_csrf"
CSRF_FIELD = "csrf_token"
EXPIRED_FORM = ("This form expired or did not come from Docket's review page (its security "
                "token does not match). Reload the page and try again.")


def _safe_next(target: str | None) -> str:
    """Only redirect within the review pages (no open redirect)."""
    if target and target.startswith("/review") and not target.startswith("//"):
        return target
    return "/review"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def current_session(request: Request) -> Session | None:
    """The live session of the request's cookie; or, for a program calling a page with the
    X-API-Key header, the key (no cookie, so no form of another site can carry it)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with connect() as conn:
            found = sessions.find(conn, session_id)
        if found is not None:
            return found
    key = key_for(request.headers.get("X-API-Key"))
    return Session(key, csrf_token="") if key is not None else None


def gate(request: Request) -> Session | Response:
    """The session if its key may review; otherwise the response to send instead."""
    session = current_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = urllib.parse.urlencode({"next": target})
        return RedirectResponse(f"/review/login?{query}", status_code=303)
    if not allowed(session.key.role, "review"):
        return templates.TemplateResponse(
            request, "forbidden.html",
            {"key": session.key, "roles": roles_that_may("review")}, status_code=403)
    return session


def csrf_problem(session: Session, form_token: object) -> Response | None:
    """A 403 answer unless a form of a cookie session carries that session's CSRF token."""
    if not session.csrf_token:  # signed by the X-API-Key header: no ambient credential
        return None
    if isinstance(form_token, str) and hmac.compare_digest(form_token, session.csrf_token):
        return None
    return HTMLResponse(EXPIRED_FORM, status_code=403)


@router.get("/review/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next), None, 200)


@router.post("/review/login", response_class=HTMLResponse, include_in_schema=False)
async def login(request: Request) -> Response:
    form = await request.form()
    target = _safe_next(str(form.get("next") or ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = str(form.get(CSRF_FIELD) or "")
    if not expected or not hmac.compare_digest(expected, given):
        return _login_page(request, target, EXPIRED_FORM, 403)
    key = key_for(str(form.get("key") or "").strip())
    if key is None or not allowed(key.role, "review"):
        message = (
            "That is not a valid API key (unknown or revoked)." if key is None else
            f"{article(key.role).capitalize()} {key.role} key cannot review documents; "
            f"sign in with a {roles_that_may('review')} key."
        )
        return _login_page(request, target, message, 401 if key is None else 403)
    hours = get_settings().review_session_hours
    with connect() as conn:
        session_id = sessions.create(conn, key.id, hours)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(hours * 3600), httponly=True,
                        samesite="strict", secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/review/login")
    return response


def _login_page(request: Request, target: str, error: str | None, status: int) -> Response:
    """The sign-in form, with its CSRF token in a hidden field and in a cookie it must match
    (the token the browser already holds, or a new one)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request, "login.html", {"next": target, "error": error, "csrf_token": token},
        status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True,
                        samesite="strict", secure=_secure(request), path="/review/login")
    return response


@router.post("/review/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """End the session on the server (its cookie is then worthless), then forget the cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with connect() as conn:
            session = sessions.find(conn, session_id)
            if session is not None:
                form = await request.form()
                if (refused := csrf_problem(session, form.get(CSRF_FIELD))) is not None:
                    return refused
                sessions.revoke(conn, session_id)
    response = RedirectResponse("/review/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
