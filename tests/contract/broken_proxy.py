"""A reverse proxy in front of the emulator that breaks one documented behaviour, to prove the suites notice.

Each mode is a bug a real implementation could have; the suites must fail against it while staying
emulator-agnostic (they only see HTTP). Each condition is something a healthy live target does (a running
clock); the suites must pass through it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

# Hop-by-hop or recomputed headers that must not be copied across the proxy.
_SKIP_HEADERS = {"host", "content-length", "transfer-encoding", "content-encoding", "connection"}
FORWARD_PATH = "/__proxy/forward"

MODES = {
    "replay_201": "a replayed create answers 201 instead of 200",
    "accept_javascript": "a javascript: external_url is swapped for a safe one and stored (201)",
    "list_skips_item": "every list page with two or more items drops its second item",
    "race_duplicates": "each create gets a unique external_id upstream, so nothing is idempotent",
    "errors_as_plain_json": "problem+json errors are served as application/json",
    "status_regresses": "every other GET of a COMPLETED engagement says PROCESSING",
    "garbage_is_500": "a create body that is not a JSON object answers 500",
    "reserialised_webhooks": "webhook bodies are re-serialised (spaced JSON) after signing",
    "cursor_forgets_query": "a cursor holds only its position: later pages ignore the first page's search, "
    "filters and order (the emulator before issue 20 §1)",
}

# Not bugs: conditions of a live target that every check must survive (they must pass through these).
CONDITIONS = {
    "live_clock": "the clock runs (time_scale reads 1) and a 60 s virtual minute passes before each follow-up "
    "list page (one with a cursor), as on a server whose pipeline moves records while a client pages",
}

upstream_key = web.AppKey("upstream", URL)
mode_key = web.AppKey("mode", str)
session_key = web.AppKey("session", aiohttp.ClientSession)
counter_key = web.AppKey("counter", itertools.count)
positions_key = web.AppKey("positions", dict)  # next_cursor handed out -> id of the last item of its page


def _copy_headers(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _SKIP_HEADERS}


async def _forward(request: web.Request, url: URL, body: bytes) -> tuple[int, dict[str, str], bytes]:
    session = request.app[session_key]
    async with session.request(
        request.method, url, data=body, headers=_copy_headers(request.headers), allow_redirects=False
    ) as resp:
        return resp.status, _copy_headers(resp.headers), await resp.read()


def _is_engagement_create(request: web.Request) -> bool:
    return request.method == "POST" and request.path == "/api/v2/engagements"


def _rewrite_request(request: web.Request, mode: str, body: bytes) -> bytes:
    if mode == "accept_javascript" and _is_engagement_create(request):
        payload = _json_object(body)
        url = payload.get("external_url") if payload else None
        if (
            payload
            and isinstance(url, str)
            and "javascript" in url.lower().replace("\t", "").replace("\n", "").replace("\r", "")
        ):
            return json.dumps({**payload, "external_url": "https://forged.example.com/deep-link"}).encode()
    if mode == "race_duplicates" and _is_engagement_create(request):
        payload = _json_object(body)
        if payload and isinstance(payload.get("external_id"), str):
            unique = f"{payload['external_id']}#{_tick(request)}"
            return json.dumps({**payload, "external_id": unique}).encode()
    if mode == "reserialised_webhooks" and request.method == "POST" and request.path == "/__admin/webhook-endpoints":
        payload = _json_object(body)
        if payload and isinstance(payload.get("url"), str):
            # Deliveries now pass through this proxy, which re-serialises them on the way (see forward()).
            proxy = URL(str(request.url)).with_path(FORWARD_PATH).with_query({"to": payload["url"]})
            return json.dumps({**payload, "url": str(proxy)}).encode()
    return body


def _rewrite_response(
    request: web.Request, mode: str, status: int, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    if mode == "replay_201" and _is_engagement_create(request) and status == 200:
        return 201, body
    is_list = request.method == "GET" and request.path == "/api/v2/engagements"
    if mode == "list_skips_item" and is_list and status == 200:
        page = json.loads(body)
        if len(page.get("data", [])) >= 2:
            del page["data"][1]
            return status, json.dumps(page).encode()
    if mode == "errors_as_plain_json" and headers.get("Content-Type", "").startswith("application/problem+json"):
        headers["Content-Type"] = "application/json"
    if mode == "live_clock" and request.method == "GET" and request.path == "/__admin/clock" and status == 200:
        return status, json.dumps({**json.loads(body), "time_scale": 1.0}).encode()
    if mode == "status_regresses" and request.method == "GET" and request.path.startswith("/api/v2/engagements/ngmt_"):
        engagement = json.loads(body) if status == 200 else {}
        if engagement.get("processing_status") == "COMPLETED" and _tick(request) % 2:
            return status, json.dumps({**engagement, "processing_status": "PROCESSING"}).encode()
    return status, body


def _tick(request: web.Request) -> int:
    """The proxy's request counter (odd/even alternation, unique suffixes)."""
    counter: itertools.count[int] = request.app[counter_key]
    return next(counter)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _live_clock(request: web.Request) -> None:
    """Before a follow-up list page, let a virtual minute pass upstream (mode live_clock)."""
    if request.method == "GET" and request.path == "/api/v2/engagements" and "cursor" in request.query:
        advance = request.app[upstream_key].with_path("/__admin/clock/advance")
        async with request.app[session_key].post(advance, json={"seconds": 60}) as resp:
            resp.raise_for_status()


async def _position_only_page(request: web.Request) -> web.Response:
    """Mode cursor_forgets_query: serve a follow-up page from the unfiltered, newest-first list, after the item
    the cursor stood for."""
    last_id = request.app[positions_key][request.query["cursor"]]
    limit = int(request.query.get("limit", "25"))
    url = request.app[upstream_key].with_path("/api/v2/engagements").with_query({"limit": "100"})
    status, headers, payload = await _forward(request, url, b"")
    items = json.loads(payload)["data"]
    ids = [i["id"] for i in items]
    rest = items[ids.index(last_id) + 1 :] if last_id in ids else []
    page = {"object": "list", "data": rest[:limit], "has_more": len(rest) > limit, "next_cursor": None}
    if page["has_more"]:
        page["next_cursor"] = f"forgetful-{_tick(request)}"
        request.app[positions_key][page["next_cursor"]] = rest[limit - 1]["id"]
    return web.Response(status=status, body=json.dumps(page).encode(), headers=headers)


def _remember_positions(request: web.Request, status: int, payload: bytes) -> None:
    if request.method == "GET" and request.path == "/api/v2/engagements" and status == 200:
        page = json.loads(payload)
        if page.get("next_cursor") and page["data"]:
            request.app[positions_key][page["next_cursor"]] = page["data"][-1]["id"]


async def proxy(request: web.Request) -> web.Response:
    mode = request.app[mode_key]
    body = await request.read()
    is_list = request.method == "GET" and request.path == "/api/v2/engagements"
    if mode == "cursor_forgets_query" and is_list and request.query.get("cursor") in request.app[positions_key]:
        return await _position_only_page(request)
    if mode == "live_clock":
        await _live_clock(request)
    if mode == "garbage_is_500" and _is_engagement_create(request) and _json_object(body) is None:
        return web.Response(status=500, text="Internal Server Error")
    body = _rewrite_request(request, mode, body)
    url = request.app[upstream_key].join(URL(request.path_qs, encoded=True))
    status, headers, payload = await _forward(request, url, body)
    status, payload = _rewrite_response(request, mode, status, headers, payload)
    if mode == "cursor_forgets_query":
        _remember_positions(request, status, payload)
    return web.Response(status=status, body=payload, headers=headers)


async def forward(request: web.Request) -> web.Response:
    """Relay a webhook delivery to its real receiver with the JSON re-serialised (signature now stale)."""
    body = await request.read()
    spaced = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    status, headers, payload = await _forward(request, URL(request.query["to"]), spaced)
    return web.Response(status=status, body=payload, headers=headers)


async def _session_ctx(app: web.Application) -> AsyncIterator[None]:
    app[session_key] = aiohttp.ClientSession()
    yield
    await app[session_key].close()


def build_broken_proxy(upstream_origin: str, mode: str) -> web.Application:
    """An app forwarding everything to ``upstream_origin`` with bug ``mode`` (one of ``MODES``) or live condition
    ``mode`` (one of ``CONDITIONS``)."""
    if mode not in MODES and mode not in CONDITIONS:
        raise ValueError(f"unknown mode {mode!r}")
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[upstream_key] = URL(upstream_origin)
    app[mode_key] = mode
    app[counter_key] = itertools.count()
    app[positions_key] = {}
    app.cleanup_ctx.append(_session_ctx)
    app.router.add_route("POST", FORWARD_PATH, forward)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app
