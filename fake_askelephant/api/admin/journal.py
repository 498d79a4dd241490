"""Request journal: the last requests in a bounded ring buffer, `GET /__admin/requests`.

Each entry names the credential by its key id only (`apik_<id>`); the secret part of a key, the
Authorization header and bodies are never stored or logged.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from itertools import islice
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ...config import Settings
from ...core.models import Principal
from ...core.records import dataclass
from ...core.store import parse_api_key
from ...core.timefmt import format_ms, wall_ms
from ...emulator import Emulator
from .. import context
from ..auth import BEARER
from ..problems import CLIENT_CLOSED, client_gone
from ..queries import QueryErrors, once, parse_int
from ..responses import versioned_json
from .faults import dropped_key, fault_id_key

JOURNAL_LIMIT = 1000  # entries kept (emulator choice)
DEFAULT_PAGE = 100
# Container health probes and reading the journal itself would only bury the requests worth seeing.
UNJOURNALED = frozenset({"/__admin/health", "/__admin/requests"})

routes = web.RouteTableDef()


@dataclass(slots=True)  # not frozen: one is made per request, and a frozen __init__ costs a setattr call per field
class JournalEntry:
    """One request, as `GET /__admin/requests` lists it (`as_dict`); never changed once added."""

    request_id: str | None
    method: str
    path: str
    status: int | None  # null when the connection was dropped or the client went away
    latency_s: float  # as measured; listed as `latency_ms`, rounded when read (a float round costs ~0.3 µs)
    key_id: str | None
    workspace_id: str | None
    virtual_ms: int  # listed as `virtual_time` / `wall_time`, formatted when read: most entries never are
    wall_ms: int
    fault_id: str | None
    outcome: str  # "answered" | "reset" | "truncate" | "cancelled" | "client_abort" (status 499)
    warnings: tuple[str, ...] = ()  # what the response's Warning headers said (Bearer API key, ignored parameters)

    @property
    def latency_ms(self) -> float:
        return round(self.latency_s * 1000, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "key_id": self.key_id,
            "workspace_id": self.workspace_id,
            "virtual_time": format_ms(self.virtual_ms),
            "wall_time": format_ms(self.wall_ms),
            "fault_id": self.fault_id,
            "outcome": self.outcome,
            "warnings": list(self.warnings),
        }


class RequestJournal:
    def __init__(self, limit: int = JOURNAL_LIMIT) -> None:
        self.entries: deque[JournalEntry] = deque(maxlen=limit)
        self.version = 0  # moves on every add and clear: the listing's ETag

    def add(self, entry: JournalEntry) -> None:
        self.entries.append(entry)
        self.version += 1

    def clear(self) -> None:
        self.entries.clear()
        self.version += 1


journal_key = web.AppKey("journal_key", RequestJournal)


def credential_id(request: web.Request, principal: Principal | None) -> str | None:
    """The authenticated credential, else the id part of a presented API key; never its secret."""
    if principal is not None:
        return principal.credential_id
    header = request.headers.get("Authorization", "").strip()
    if header[: len(BEARER)].lower() == BEARER:
        header = header[len(BEARER) :].strip()
    parsed = parse_api_key(header)
    return f"apik_{parsed[0]}" if parsed else None


def journal_middleware(journal: RequestJournal, emulator: Emulator) -> Middleware:
    """The app's journal and emulator bound once (not looked up through the request, twice a request)."""

    @web.middleware
    async def journal_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Outermost, so latency covers faults and errors and the status is the one actually sent."""
        if request.path in UNJOURNALED:
            return await handler(request)
        started = time.perf_counter()
        status: int | None = None
        outcome = "cancelled"
        try:
            response = await handler(request)
            dropped = context.peek(request, dropped_key)
            sent = response.status
            outcome = dropped or ("client_abort" if sent == CLIENT_CLOSED else "answered")
            status = None if dropped == "reset" else sent
            return response
        except asyncio.CancelledError:
            if client_gone(request):  # the client went away mid-request: its abort, not ours
                status, outcome = CLIENT_CLOSED, "client_abort"
            raise
        finally:
            state = request._state  # context.peek, for the four keys at once
            principal = state.get(context.principal_key)
            warnings = state.get(context.warnings_key)
            journal.add(
                JournalEntry(  # positional: keywords cost twice as much, on every request
                    state.get(context.request_id_key),
                    request.method,
                    request.path,
                    status,
                    time.perf_counter() - started,  # latency_s
                    principal.credential_id if principal else credential_id(request, None),  # key_id
                    principal.workspace_id if principal else None,
                    emulator.clock.now_ms(),  # virtual_ms
                    wall_ms(),
                    state.get(fault_id_key),
                    outcome,
                    tuple(warnings) if warnings else (),
                )
            )

    return journal_requests


@routes.get("/__admin/requests")
async def list_requests(request: web.Request) -> web.Response:
    """Newest first; `limit` (1–1000, default 100), filters `method`, `status`, `path` (exact)."""
    errors = QueryErrors()
    once(request.query)
    limit = parse_int(request.query, "limit", errors, low=1, high=JOURNAL_LIMIT) or DEFAULT_PAGE
    status_filter = parse_int(request.query, "status", errors)
    errors.raise_if_any()
    method = request.query.get("method", "").upper() or None
    path = request.query.get("path") or None
    journal = request.app[journal_key]

    def build() -> dict[str, Any]:
        matched = (
            e
            for e in reversed(journal.entries)
            if (method is None or e.method == method)
            and (status_filter is None or e.status == status_filter)
            and (path is None or e.path == path)
        )
        page = list(islice(matched, limit + 1))
        return {"object": "list", "data": [e.as_dict() for e in page[:limit]], "has_more": len(page) > limit}

    return versioned_json(request, str(journal.version), build)


@routes.delete("/__admin/requests")
async def clear_requests(request: web.Request) -> web.Response:
    request.app[journal_key].clear()
    return web.Response(status=204)


def setup(app: web.Application, settings: Settings) -> None:
    journal = app[journal_key] = RequestJournal()
    app.middlewares.append(journal_middleware(journal, app[context.emulator_key]))
    app.add_routes(routes)
