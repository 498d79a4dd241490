"""What a webhook endpoint received: the built-in sink's request log, or the delivery log for URL endpoints."""

from __future__ import annotations

from typing import Any

from ..core import jsonutil
from ..core.records import dataclass
from ..core.timefmt import format_ms, parse_iso
from ..webhooks.sink import TIMEOUT_S
from .target import Target


@dataclass(frozen=True)
class EndpointRef:
    """An endpoint as the runner knows it: scenario name (or its id) and where its deliveries are visible."""

    label: str
    id: str
    url: str
    secret: str | None
    sink: str | None  # built-in sink name; None: a URL endpoint, observed through the delivery log

    def root(self) -> dict[str, Any]:
        """`${endpoints.NAME.…}`."""
        return {"id": self.id, "url": self.url, "secret": self.secret, "sink": self.sink}


@dataclass(frozen=True)
class Received:
    """One request the endpoint got (every retry and duplicate is its own)."""

    svix_id: str | None
    type: str | None
    virtual_ms: int
    status: int | None  # what the endpoint answered; None: no answer (timeout, refused)
    body: Any
    raw: str | None
    verified: bool | None  # known for sinks only
    headers: dict[str, str]

    def view(self) -> dict[str, Any]:
        return {
            "svix_id": self.svix_id,
            "type": self.type,
            "virtual_time": format_ms(self.virtual_ms),
            "status": self.status,
            "verified": self.verified,
            "body": self.body,
        }


def _header(headers: dict[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(f"svix-{name}") or lowered.get(f"webhook-{name}")


def _parse(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return jsonutil.loads(raw)
    except jsonutil.JSONDecodeError:
        return raw


def from_sink(item: dict[str, Any]) -> Received:
    raw = item.get("body")
    body = _parse(raw)
    headers = dict(item.get("headers") or {})
    timed_out = float(item.get("delay_seconds") or 0) >= TIMEOUT_S
    return Received(
        svix_id=_header(headers, "id"),
        type=body.get("type") if isinstance(body, dict) else None,
        virtual_ms=parse_iso(item["virtual_time"]),
        status=None if timed_out else item.get("response_status"),
        body=body,
        raw=raw,
        verified=item.get("verified"),
        headers=headers,
    )


async def received(target: Target, endpoint: EndpointRef) -> list[Received]:
    """In arrival order."""
    if endpoint.sink is not None:
        return [from_sink(item) for item in await target.sink_requests(endpoint.sink)]
    attempts = await target.deliveries(endpoint_id=endpoint.id)
    envelopes = {e["id"]: e for e in await target.events()}
    out = []
    for a in attempts:
        body = envelopes.get(a["event_id"])
        out.append(
            Received(
                svix_id=a["svix_id"],
                type=a["type"],
                virtual_ms=parse_iso(a["virtual_time"]),
                status=a["response_status_code"],
                body=body,
                raw=jsonutil.dumps(body).decode() if body is not None else None,
                verified=None,
                headers={},
            )
        )
    return out
