"""Sign-in for the browser pages: an API key kept in the `docket_key` cookie.

A page calls `gate` first: without a key it redirects to /review/login (and back afterwards);
a key whose role may not review gets a 403 page naming the roles that may. The JSON routes do
not use the cookie; they take the key in X-API-Key like every other API route.
"""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pipeline.api.access import COOKIE_NAME, allowed, article, key_for, roles_that_may
from pipeline.api.errors import ERROR_RESPONSES
from pipeline.api.templating import templates
from pipeline.storage.keys import ApiKey

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
COOKIE_MAX_AGE = 12 * 3600


def _safe_next(target: str | None) -> str:
    """Only redirect within the review pages (no open redirect)."""
    if target and target.startswith("/review") and not target.startswith("//"):
        return target
    return "/review"


def gate(request: Request) -> ApiKey | Response:
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
