"""The emulator a scenario runs against, spoken to over HTTP only: a fresh in-process one, or a running one.

One code path for both, so a scenario that passes in-process passes against `fake-askelephant serve`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ..api.context import emulator_key
from ..config import Settings
from ..core import jsonutil
from ..core.records import dataclass
from ..core.timefmt import format_ms, parse_iso

ADMIN = "/__admin"
ADMIN_TOKEN_ENV = "FAKE_ASKELEPHANT_ADMIN_TOKEN"  # noqa: S105 - a variable name
REQUEST_TIMEOUT_S = 60.0


class TargetError(Exception):
    """The emulator refused a control-plane call the runner needed (setup, clock, sinks)."""


@dataclass
class Exchange:
    """One HTTP request and what came back; `status` is None when no response arrived (reset, truncation)."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None

    def parsed(self) -> Any:
        """The body as JSON when it is JSON, as text otherwise, None when empty."""
        if not self.body:
            return None
        try:
            return jsonutil.loads(self.body)
        except jsonutil.JSONDecodeError:
            return self.body.decode("utf-8", errors="replace")

    def record(self) -> dict[str, Any]:
        """What `${step.…}` references see."""
        return {"status": self.status, "headers": dict(self.headers), "body": self.parsed(), "error": self.error}

    def summary(self) -> str:
        outcome = str(self.status) if self.status is not None else f"no response ({self.error})"
        return f"{self.method} {self.path} → {outcome}"


class Target:
    """HTTP to one emulator: the scenario's own requests plus the control-plane calls the runner makes."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, app: web.Application | None = None) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.app = app

    @property
    def in_process(self) -> bool:
        return self.app is not None

    def sink_url(self, name: str) -> str:
        return f"{self.base_url}{ADMIN}/sink/{name}"

    def scheduler_failures(self) -> list[str]:
        """Jobs that raised inside an in-process emulator: a bug in the emulator, so the run must fail."""
        if self.app is None:
            return []
        return [f"{name}: {type(exc).__name__}: {exc}" for name, exc in self.app[emulator_key].scheduler.failures]

    async def send(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None, *, limit_s: float | None = None
    ) -> Exchange:
        exchange = Exchange(method, path, dict(headers), body)
        try:
            async with self.session.request(
                method,
                self.base_url + path,
                headers=dict(headers),
                data=body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=limit_s if limit_s is not None else REQUEST_TIMEOUT_S),
            ) as resp:
                exchange.status = resp.status
                exchange.headers = {str(k): str(v) for k, v in resp.headers.items()}
                exchange.body = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            exchange.status = None
            exchange.error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return exchange

    async def admin(self, method: str, path: str, body: Any = None, *, limit_s: float | None = None) -> Any:
        """A control-plane call; raises TargetError with the emulator's problem detail on failure."""
        data = jsonutil.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        token = os.environ.get(ADMIN_TOKEN_ENV)  # a running emulator locked with --admin-token
        if token:
            headers["X-Admin-Token"] = token
        exchange = await self.send(method, ADMIN + path, headers, data, limit_s=limit_s)
        if exchange.status is None or not 200 <= exchange.status < 300:
            raise TargetError(f"{method} {ADMIN}{path} failed: {_problem_text(exchange)}")
        return exchange.parsed()

    # Clock ------------------------------------------------------------------------------------

    async def clock(self) -> tuple[int, float]:
        body = await self.admin("GET", "/clock")
        return parse_iso(body["now"]), float(body["time_scale"])

    async def now_ms(self) -> int:
        return (await self.clock())[0]

    async def advance_ms(self, ms: int) -> int:
        # No timeout: advancing runs every due webhook attempt, and real receivers may take 15 s each.
        body = await self.admin("POST", "/clock/advance", {"seconds": max(0, ms) / 1000}, limit_s=24 * 3600)
        return parse_iso(body["now"])

    async def set_clock(self, ms: int) -> None:
        await self.admin("POST", "/clock/set", {"now": format_ms(ms)}, limit_s=24 * 3600)

    async def next_due_ms(self) -> int | None:
        body = await self.admin("GET", "/scheduler")
        return parse_iso(body["next_due_at"]) if body.get("next_due_at") else None

    # Setup ------------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        body: dict[str, Any] = await self.admin("GET", "/health")
        return body

    async def reset_all(self) -> None:
        await self.admin("POST", "/reset?all=true")

    async def create_key(self, body: dict[str, Any]) -> str:
        created = await self.admin("POST", "/api-keys", body)
        return str(created["key"])

    async def create_endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = await self.admin("POST", "/webhook-endpoints", body)
        return created

    async def get_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.admin("GET", f"/webhook-endpoints/{endpoint_id}")
        return found

    async def configure_sink(self, name: str, body: dict[str, Any]) -> None:
        await self.admin("PUT", f"/sink/{name}", body)

    # Observation ------------------------------------------------------------------------------

    async def sink_requests(self, name: str) -> list[dict[str, Any]]:
        body = await self.admin("GET", f"/sink/{name}/requests")
        return list(body["data"])

    async def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        """Every attempt in the delivery log, following the cursor."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = "&".join(f"{k}={v}" for k, v in {**filters, "limit": "100"}.items())
            page = await self.admin("GET", f"/deliveries?{query}" + (f"&cursor={cursor}" if cursor else ""))
            out.extend(page["data"])
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return out

    async def events(self) -> list[dict[str, Any]]:
        """The whole event log in emission order, following the cursor (pages of 1000)."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self.admin("GET", "/events" + (f"?cursor={cursor}" if cursor else ""))
            out.extend(page["data"])
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return out


def _problem_text(exchange: Exchange) -> str:
    if exchange.status is None:
        return exchange.error or "no response"
    body = exchange.parsed()
    if isinstance(body, dict) and "detail" in body:
        errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
        return f"{exchange.status} {body['detail']}" + (f" ({errors})" if errors else "")
    return f"{exchange.status} {str(body)[:300]}"


def _client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=True,
    )


@contextlib.asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[Target]:
    """A fresh emulator on a loopback port of its own, torn down afterwards."""
    from ..app import create_app  # here, not at the top: the app's recording routes import this package

    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with _client_session() as session:
            yield Target(session, f"http://127.0.0.1:{port}", app)
    finally:
        await runner.cleanup()


def emulator_root(url: str) -> str:
    """`--target-url` either way: `http://h:p` or `http://h:p/api` -> `http://h:p` (`askelephant-contract api
    --target-url` takes the same two forms)."""
    return url.rstrip("/").removesuffix("/api")


@contextlib.asynccontextmanager
async def remote(base_url: str) -> AsyncIterator[Target]:
    """An emulator someone else started (`fake-askelephant serve`, a container), by its root or its API base."""
    async with _client_session() as session:
        yield Target(session, emulator_root(base_url))


async def unusable(base_url: str) -> str | None:
    """Why `base_url` is no emulator to run scenarios against, with the URL that would work when there is one."""
    root = emulator_root(base_url)
    health = await _health(root)
    if _healthy(health):
        return None
    outcome = f"answered {health.status}" if health.status is not None else f"did not answer ({health.error})"
    problem = f"{root}{ADMIN}/health {outcome}"
    parts = urlsplit(root)
    origin = f"{parts.scheme}://{parts.netloc}"
    if health.status == 404 and root != origin and _healthy(await _health(origin)):
        return (
            f"{problem}; this host's emulator answers at {origin}: give its root {origin} or its API base {origin}/api"
        )
    return f"{problem}: is this the emulator? --target-url takes its root (http://HOST:PORT) or its API base (http://HOST:PORT/api)."


async def _health(root: str) -> Exchange:
    async with remote(root) as target:
        return await target.send("GET", f"{ADMIN}/health", {}, None, limit_s=10)


def _healthy(health: Exchange) -> bool:
    body = health.parsed() if health.status == 200 else None
    return isinstance(body, dict) and body.get("status") == "ok"
