"""The byte transcript of a run: what two runs with one seed must agree on, byte for byte.

Included: every request a step sent and the response (status, the headers below, body bytes), every
webhook request a sink received (headers and raw body), the event log and the delivery log.
Excluded, because they are wall-clock by design (docs/scenarios.md, Determinism): `svix-timestamp` /
`webhook-timestamp` and the signatures computed over them, `Date`/`Server` headers, and the delivery
log's `wall_time` and `duration_ms`. The target's base URL (a random port in-process) reads `<target>`.
Responses of a concurrent group are kept as a sorted multiset, since which of N simultaneous requests
the server reads first is up to the network stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core import jsonutil
from .target import Exchange

RESPONSE_HEADERS = (
    "Content-Type",
    "Location",
    "ETag",
    "X-Request-Id",
    "X-Api-Version",
    "Retry-After",
    "WWW-Authenticate",
    "Allow",
)
WALL_HEADERS = frozenset({"svix-timestamp", "svix-signature", "webhook-timestamp", "webhook-signature"})
WALL_FIELDS = frozenset({"wall_time", "duration_ms"})
MASK = "<wall-clock>"
TARGET = b"<target>"


def mask_wall(value: Any) -> Any:
    """The same JSON with wall-clock fields and headers masked (control-plane bodies carry them)."""
    if isinstance(value, dict):
        return {
            k: MASK if (k in WALL_FIELDS or (isinstance(k, str) and k.lower() in WALL_HEADERS)) else mask_wall(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_wall(v) for v in value]
    return value


def _text(body: bytes | None) -> str | None:
    return None if body is None else body.decode("utf-8", errors="replace")


def _response(exchange: Exchange) -> dict[str, Any]:
    lowered = {k.lower(): v for k, v in exchange.headers.items()}
    headers = {h: lowered[h.lower()] for h in RESPONSE_HEADERS if h.lower() in lowered}
    body: Any = _text(exchange.body)
    if exchange.path.startswith("/__admin") and exchange.body:
        parsed = exchange.parsed()
        if isinstance(parsed, dict | list):
            body = jsonutil.dumps(mask_wall(parsed)).decode()
    return {"status": exchange.status, "error": exchange.error, "headers": headers, "body": body}


def exchange_entry(step: int, label: str, virtual_ms: int, exchange: Exchange) -> dict[str, Any]:
    return {
        "kind": "http",
        "step": step,
        "label": label,
        "virtual_ms": virtual_ms,
        "request": {
            "method": exchange.method,
            "path": exchange.path,
            "headers": dict(sorted(exchange.request_headers.items(), key=lambda kv: kv[0].lower())),
            "body": _text(exchange.request_body),
        },
        "response": _response(exchange),
    }


def group_entry(step: int, label: str, virtual_ms: int, exchanges: Iterable[Exchange]) -> dict[str, Any]:
    """A concurrent group: responses sorted, request ids as a sorted set beside them."""
    responses = []
    request_ids = []
    for exchange in exchanges:
        response = _response(exchange)
        rid = response["headers"].pop("X-Request-Id", None)
        if isinstance(response["body"], str) and rid:
            response["body"] = response["body"].replace(rid, "<request-id>")
        request_ids.append(rid or "")
        responses.append(
            jsonutil.dumps(
                {"request": exchange_entry(step, label, virtual_ms, exchange)["request"], **response}
            ).decode()
        )
    return {
        "kind": "http-group",
        "step": step,
        "label": label,
        "virtual_ms": virtual_ms,
        "responses": sorted(responses),
        "request_ids": sorted(request_ids),
    }


def sink_entry(sink: str, item: dict[str, Any]) -> dict[str, Any]:
    headers = {k: v for k, v in sorted(item.get("headers", {}).items()) if k.lower() not in WALL_HEADERS}
    return {
        "kind": "webhook",
        "sink": sink,
        "virtual_time": item.get("virtual_time"),
        "headers": headers,
        "body": item.get("body"),
        "body_base64": item.get("body_base64"),
        "verified": item.get("verified"),
        "response_status": item.get("response_status"),
    }


def to_bytes(entries: Iterable[dict[str, Any]], base_url: str | None = None) -> bytes:
    """JSON Lines; orjson keeps insertion order, so equal runs give equal bytes.

    The target's base URL (an in-process emulator listens on a random port) becomes `<target>`.
    """
    data = b"".join(jsonutil.dumps(e) + b"\n" for e in entries)
    return data.replace(base_url.encode(), TARGET) if base_url else data
