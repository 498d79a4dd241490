"""DNS-rebinding defence: an emulator bound to loopback answers only requests addressed to a loopback name.

A page on `evil.example` can re-point its own name at 127.0.0.1 after loading. The browser then treats requests
to `http://evil.example:8787/…` as same-origin, so neither CORS nor the control plane's cross-site checks
(api/admin/access.py) see anything foreign — but the `Host` header still says `evil.example`. While `serve`
listens on a loopback address, a request whose `Host` is not `localhost`, `*.localhost`, a loopback IP, the
`--public-url` host or an `--allowed-host` gets 421 problem+json, before any route runs. Bound to another
interface (a container, `--host 0.0.0.0`) clients use names nobody can list in advance (compose service
names), so the check is off there and `--admin-token` is the lock (the banner says so).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..config import Settings
from .problems import Problem

ANY_HOST = "*"


def is_loopback_name(host: str) -> bool:
    """`localhost`, a name under `.localhost` (RFC 6761 §6.3), or a loopback IP literal."""
    name = host.lower().removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]").partition("%")[0]).is_loopback
    except ValueError:
        return False


def hostname_of(host_header: str) -> str | None:
    """The name in a `Host` header (`example.com:8787`, `[::1]:8787`), lower case; None when unreadable."""
    try:
        parts = urlsplit(f"//{host_header}")
        name = parts.hostname
        _ = parts.port  # a malformed port is unreadable too
    except ValueError:
        return None
    return name.removesuffix(".") if name else None


def allowed_names(settings: Settings) -> frozenset[str] | None:
    """The extra names a loopback-bound emulator answers to; None when every name is accepted."""
    if ANY_HOST in settings.allowed_hosts or not is_loopback_name(settings.host):
        return None
    names = {h.lower().removesuffix(".") for h in settings.allowed_hosts}
    if settings.public_url:
        public = urlsplit(settings.public_url).hostname
        if public:
            names.add(public.removesuffix("."))
    return frozenset(names)


@lru_cache(maxsize=256)  # a client sends the same Host header on every request: judge each text once
def refused_name(header: str, allowed: frozenset[str]) -> tuple[bool, str | None]:
    """(refused, the name read from the header) for a loopback-bound emulator answering `allowed` names too."""
    name = hostname_of(header)
    return name is None or not (is_loopback_name(name) or name in allowed), name


def host_middleware(allowed: frozenset[str]) -> Middleware:
    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Host")
        if header is not None:
            refused, name = refused_name(header, allowed)
            if refused:
                raise Problem(
                    421,
                    f"This emulator listens on loopback and answers only requests addressed to localhost or a "
                    f"loopback address, not {header!r} (a DNS-rebinding defence). To reach it under that name, start "
                    f"it with --allowed-host {name or 'NAME'} (or --public-url).",
                )
        return await handler(request)

    return check_host


def setup(app: web.Application, settings: Settings) -> None:
    """The Host check (create_app places it inside the edge, so a refusal is problem+json with a request id); none
    when every name is accepted."""
    allowed = allowed_names(settings)
    if allowed is not None:
        app.middlewares.append(host_middleware(allowed))
