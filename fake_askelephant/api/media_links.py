"""Short-lived signed download URLs for `expand=media_url` and the route that serves them (api.md §6.2).

Signed with the emulator's random media key (kept in the state file), so knowing the seed does not let anyone
mint a link; built on `--public-url` (or the address the server was reached on), so a forged Host header
cannot point a link at another host (issue #19).
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from ..core.models import Engagement
from . import context
from .problems import Problem

LIFETIME_MS = 15 * 60 * 1000
routes = web.RouteTableDef()


def _signature(secret: bytes, engagement_id: str, expires: int) -> str:
    return hmac.new(secret, f"{engagement_id}.{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def _secret(request: web.Request) -> bytes:
    return context.emulator(request).media_key


def media_link(request: web.Request, e: Engagement) -> str | None:
    """Null for transcript-only imports; otherwise valid for 15 virtual minutes."""
    if e.media_url is None:
        return None
    expires = (context.emulator(request).clock.now_ms() + LIFETIME_MS) // 1000
    origin = public_origin(request)
    return f"{origin}/__media/{e.id}?expires={expires}&signature={_signature(_secret(request), e.id, expires)}"


def public_origin(request: web.Request) -> str:
    """`--public-url`, else the local address the connection arrived on; never the request's Host header."""
    configured = request.app[context.settings_key].public_url
    if configured:
        return configured.rstrip("/")
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    if not sockname:
        return "http://127.0.0.1"
    host, port = str(sockname[0]), int(sockname[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@routes.get("/__media/{engagement_id}")
async def download_media(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    engagement_id = request.match_info["engagement_id"]
    raw_expires = request.query.get("expires", "")
    if not (raw_expires.isascii() and raw_expires.isdigit()):
        raise Problem(403, "This media link is malformed.")
    expires = int(raw_expires)
    good = hmac.compare_digest(_signature(_secret(request), engagement_id, expires), request.query.get("signature", ""))
    if not good:
        raise Problem(403, "This media link's signature is invalid.")
    if emulator.clock.now_ms() // 1000 > expires:
        raise Problem(403, "This media link has expired; fetch the engagement again with expand=media_url.")
    engagement = emulator.store.find_engagement_by_id(engagement_id)
    if engagement is None or engagement.media_url is None:
        raise Problem(404, "No media for this engagement.")
    return web.Response(status=302, headers={"Location": engagement.media_url})
