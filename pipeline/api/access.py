"""Who may call what: every endpoint but health needs an API key, and the key's role decides.

A key comes in the `X-API-Key` header; the review pages use a session instead (see
`pipeline.api.signin`). Create keys with `docket keys create --role ROLE --name NAME`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Security
from fastapi.security import APIKeyHeader

from pipeline.storage.db import connect
from pipeline.storage.keys import ApiKey, find_key

_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="an API key from `docket keys create`")

# What each role may do; a permission names an action, and each endpoint requires one.
PERMISSIONS: dict[str, tuple[frozenset[str], str]] = {
    "upload": (frozenset({"uploader", "admin"}), "upload documents"),
    "read": (frozenset({"uploader", "reviewer", "analyst", "admin"}),
             "read documents and batches"),
    "review": (frozenset({"reviewer", "admin"}), "review and correct records"),
    "query": (frozenset({"analyst", "admin"}), "query and export records"),
    "admin": (frozenset({"admin"}), "manage Docket"),
}

MISSING_KEY = ("An API key is required: send it in the X-API-Key header. An admin creates one "
               "with `docket keys create --role ROLE --name NAME`.")
BAD_KEY = "This API key is not valid (unknown or revoked); ask an admin for a new one."


def key_for(secret: str | None) -> ApiKey | None:
    """The live key with this secret, or None."""
    if not secret:
        return None
    with connect() as conn:
        return find_key(conn, secret)


def authenticate(header: Annotated[str | None, Security(_header)]) -> ApiKey:
    secret = header
    if not secret:
        raise HTTPException(401, MISSING_KEY, headers={"WWW-Authenticate": "APIKey"})
    key = key_for(secret)
    if key is None:
        raise HTTPException(401, BAD_KEY, headers={"WWW-Authenticate": "APIKey"})
    return key


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission][0]


def article(word: str) -> str:
    """'an' uploader, 'a' reviewer."""
    return "an" if word[:1] in "aeiou" else "a"


def roles_that_may(permission: str) -> str:
    """'reviewer or admin': the roles a permission needs, in words."""
    return " or ".join(sorted(PERMISSIONS[permission][0], reverse=True))


def require(permission: str) -> Callable[[ApiKey], ApiKey]:
    """A dependency: the caller's key, if its role has `permission`; 401/403 otherwise."""
    roles, action = PERMISSIONS[permission]

    def dependency(key: Annotated[ApiKey, Depends(authenticate)]) -> ApiKey:
        if key.role not in roles:
            raise HTTPException(
                403, f"{article(key.role).capitalize()} {key.role} key may not {action}; that "
                f"needs a key with the role {roles_that_may(permission)}.",
            )
        return key

    return dependency
