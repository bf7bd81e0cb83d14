"""Which URLs a webhook may call.

A callback URL is chosen by whoever uploads, so it could point Docket's servers at internal
services (server-side request forgery). Only http and https are allowed, and a host must either
be on the admin's allow-list (`DOCKET_WEBHOOK_ALLOWED_HOSTS`; a listed host may be internal) or,
with no list, resolve to public addresses only. The check runs when the URL is given and again
before each attempt, since what a name resolves to can change.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
import urllib.parse

import httpx

from pipeline.settings import Settings


def problem(url: str, settings: Settings) -> str | None:
    """Why Docket will not call `url`, or None (an allow-listed host is not looked up)."""
    return check(url, settings, resolve=False)[0]


def pinned(url: str, settings: Settings) -> tuple[str | None, str | None]:
    """(why not, None), or (None, the checked address to connect to). The request goes to
    that very address, so a name that answers differently the second time (DNS rebinding)
    cannot send it elsewhere."""
    return check(url, settings, resolve=True)


def check(url: str, settings: Settings, resolve: bool) -> tuple[str | None, str | None]:
    try:
        httpx.URL(url)
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (ValueError, httpx.InvalidURL) as exc:
        return f"'{url}' is not a valid URL ({exc}).", None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{url}' is not an http or https URL.", None
    if parts.username or parts.password:
        return "A webhook URL may not hold credentials; the signature authenticates Docket.", None
    host = parts.hostname.lower()
    allowed = [pattern.lower() for pattern in settings.webhook_allowed_hosts]
    listed = any(fnmatch.fnmatchcase(host, pattern) for pattern in allowed)
    if allowed and not listed:
        return (f"Webhooks may not call '{host}': it is not among the hosts an admin allowed "
                "(DOCKET_WEBHOOK_ALLOWED_HOSTS)."), None
    if listed and not resolve:
        return None, None
    try:
        addresses = sorted({str(info[4][0]).split("%")[0] for info in socket.getaddrinfo(
            host, port, proto=socket.IPPROTO_TCP)})
    except OSError as exc:
        return f"The webhook host '{host}' cannot be resolved ({exc}).", None
    internal = [a for a in addresses if not ipaddress.ip_address(a).is_global]
    if internal and not listed:
        return (f"Webhooks may not call '{host}': it resolves to an internal address "
                f"({', '.join(internal)}). An admin can allow it in "
                "DOCKET_WEBHOOK_ALLOWED_HOSTS."), None
    return None, addresses[0]
