"""The emulator for a vendor's own tests: `FakeAskElephant`, one isolated workspace on a running emulator.

The `fake_askelephant` pytest fixture (fake_askelephant/pytest_plugin.py) hands one to every test; it is also
usable without pytest: `InProcessEmulator().start()` serves the emulator on a loopback port from a thread, and
`FakeAskElephant.open(origin)` gives a fresh workspace on it (or on any `fake-askelephant serve`).

Isolation is by workspace: each FakeAskElephant has its own workspace and `workspace:admin` key, so tests that
share one emulator (pytest-xdist workers, a CI service container) never see each other's engagements, contacts,
events, webhook endpoints or sinks, and an `external_id` used by one test is new to every other. The virtual
clock is the emulator's, shared: `advance` moves it for everyone on that emulator.

Calls are blocking (the standard library's urllib, no proxy) and every one has an awaitable twin on `.aio`
(run on a worker thread): an async test whose own webhook receiver runs on its event loop must `await
fake_askelephant.aio.advance(…)`, since a blocking advance would hold the loop that receiver needs while the
emulator delivers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .core.records import dataclass

if TYPE_CHECKING:
    from aiohttp import web

    from .config import Settings

ADMIN_SCOPE = "workspace:admin"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_TIMEOUT_S = 60.0


class ApiError(Exception):
    """A non-2xx answer: its status and problem+json body."""

    def __init__(self, method: str, url: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {url} → {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # the parsed JSON, or None for an empty body


def http(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Response:
    """One JSON request; any status comes back as a Response (never raises for 4xx/5xx)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    data = None if body is None else json.dumps(body).encode()
    sent = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data, sent, method=method)  # noqa: S310  (http(s), checked above)
    try:
        with _NO_PROXY.open(request, timeout=_TIMEOUT_S) as answer:
            status, got, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, dict(error.headers), error.read()
    return Response(status, got, json.loads(raw) if raw else None)


def _ok(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
    answer = http(method, url, body, headers)
    if not 200 <= answer.status < 300:
        raise ApiError(method, url, answer.status, answer.body)
    return answer.body


@dataclass(frozen=True)
class Workspace:
    """A workspace of its own and a key for it."""

    workspace_id: str
    api_key: str
    scopes: tuple[str, ...]


@dataclass
class Sink:
    """The emulator's built-in webhook sink, subscribed to this workspace's events: what a receiver would get."""

    fake: FakeAskElephant
    name: str
    endpoint_id: str
    secret: str

    @property
    def url(self) -> str:
        return f"{self.fake.admin_url}/sink/{self.name}"

    def requests(self) -> list[dict[str, Any]]:
        """Every delivery received, oldest first: headers, body, `verified` (the signature checked out)."""
        answer: dict[str, Any] = _ok("GET", f"{self.url}/requests")
        return list(answer["data"])

    def events(self) -> list[dict[str, Any]]:
        """The bodies of the verified deliveries, parsed; an unverified one raises (it never should)."""
        found = []
        for request in self.requests():
            if not request["verified"]:
                raise AssertionError(f"sink {self.name} got an unverified delivery: {request['verification']}")
            found.append(json.loads(request["body"]))
        return found


@dataclass
class FakeAskElephant:
    """One workspace on a running emulator, with the control-plane calls a test needs."""

    origin: str  # http://127.0.0.1:PORT
    workspace: Workspace
    _sinks: int = field(default=0, repr=False)

    @classmethod
    def open(cls, origin: str, scopes: Iterable[str] = (ADMIN_SCOPE,)) -> FakeAskElephant:
        """A fresh workspace (and a key with `scopes`) on the emulator at `origin`."""
        origin = origin.rstrip("/").removesuffix("/api")
        return cls(origin, new_workspace(origin, scopes))

    @property
    def base_url(self) -> str:
        """Where your client points: http://127.0.0.1:PORT/api."""
        return f"{self.origin}/api"

    @property
    def admin_url(self) -> str:
        return f"{self.origin}/__admin"

    @property
    def api_key(self) -> str:
        return self.workspace.api_key

    @property
    def workspace_id(self) -> str:
        return self.workspace.workspace_id

    @property
    def aio(self) -> AsyncFakeAskElephant:
        return AsyncFakeAskElephant(self)

    # The public API, with this workspace's key -------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Response:
        """`path` under /api (e.g. "/v2/engagements"); any status comes back."""
        return http(method, self.base_url + path, body, {"Authorization": self.api_key, **(headers or {})})

    def get(self, path: str) -> Any:
        """The parsed 2xx body; any other status raises ApiError."""
        return _ok("GET", self.base_url + path, None, {"Authorization": self.api_key})

    def post(self, path: str, body: Any = None) -> Any:
        return _ok("POST", self.base_url + path, body, {"Authorization": self.api_key})

    def put(self, path: str, body: Any = None) -> Any:
        return _ok("PUT", self.base_url + path, body, {"Authorization": self.api_key})

    # The control plane -------------------------------------------------------------------------------------

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the virtual clock; returns once everything due ran (webhooks delivered). → the clock."""
        clock: dict[str, Any] = _ok("POST", f"{self.admin_url}/clock/advance", {"seconds": seconds})
        return clock

    def set_time(self, when: datetime | str) -> dict[str, Any]:
        """Set the virtual clock (forward only, like a real one); an aware datetime or an RFC 3339 string."""
        now = when.isoformat() if isinstance(when, datetime) else when
        clock: dict[str, Any] = _ok("POST", f"{self.admin_url}/clock/set", {"now": now})
        return clock

    def now(self) -> dict[str, Any]:
        clock: dict[str, Any] = _ok("GET", f"{self.admin_url}/clock")
        return clock

    def events(self, type: str | None = None, engagement_id: str | None = None) -> list[dict[str, Any]]:
        """This workspace's events, oldest first (the envelopes webhooks carry)."""
        query = {"workspace_id": self.workspace_id, "type": type, "engagement_id": engagement_id}
        encoded = urllib.parse.urlencode({k: v for k, v in query.items() if v})
        answer: dict[str, Any] = _ok("GET", f"{self.admin_url}/events?{encoded}")
        return list(answer["data"])

    def sink(self, name: str = "default", event_types: Iterable[str] | None = None) -> Sink:
        """A webhook endpoint of this workspace delivering to the emulator's sink, which records and verifies
        each request (`event_types`: all when None)."""
        self._sinks += 1
        sink_name = f"{self.workspace_id}-{name}-{self._sinks}"
        secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()
        spec: dict[str, Any] = {
            "url": f"{self.admin_url}/sink/{sink_name}",
            "secret": secret,
            "workspace_id": self.workspace_id,
        }
        if event_types is not None:
            spec["event_types"] = list(event_types)
        endpoint = _ok("POST", f"{self.admin_url}/webhook-endpoints", spec)
        return Sink(self, sink_name, endpoint["id"], secret)

    def reset(self) -> None:
        """Clear this workspace (resources, events, deliveries, scheduled work, rules); its keys stay."""
        _ok("POST", f"{self.admin_url}/reset?workspace_id={self.workspace_id}")

    def new_workspace(self, scopes: Iterable[str] = (ADMIN_SCOPE,)) -> FakeAskElephant:
        """Another isolated workspace on the same emulator."""
        return FakeAskElephant(self.origin, new_workspace(self.origin, scopes))

    def new_key(self, scopes: Iterable[str]) -> str:
        """Another key for this workspace, with exactly `scopes` (e.g. to test a 403)."""
        body = {"scopes": list(scopes), "workspace_id": self.workspace_id}
        created: dict[str, Any] = _ok("POST", f"{self.admin_url}/api-keys", body)
        return str(created["key"])


def new_workspace(origin: str, scopes: Iterable[str] = (ADMIN_SCOPE,)) -> Workspace:
    workspace_id = f"wrks_{uuid.uuid4().hex}"  # unique across processes sharing one emulator
    body = {"scopes": list(scopes), "workspace_id": workspace_id}
    created = _ok("POST", f"{origin}/__admin/api-keys", body)
    return Workspace(workspace_id, created["key"], tuple(created["scopes"]))


@dataclass(frozen=True)
class AsyncFakeAskElephant:
    """`await`-able twins of FakeAskElephant's calls, each run on a worker thread so the caller's loop stays free."""

    sync: FakeAskElephant

    async def request(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        return await asyncio.to_thread(self.sync.request, method, path, body, headers)

    async def get(self, path: str) -> Any:
        return await asyncio.to_thread(self.sync.get, path)

    async def post(self, path: str, body: Any = None) -> Any:
        return await asyncio.to_thread(self.sync.post, path, body)

    async def put(self, path: str, body: Any = None) -> Any:
        return await asyncio.to_thread(self.sync.put, path, body)

    async def advance(self, seconds: float) -> dict[str, Any]:
        return await asyncio.to_thread(self.sync.advance, seconds)

    async def set_time(self, when: datetime | str) -> dict[str, Any]:
        return await asyncio.to_thread(self.sync.set_time, when)

    async def events(self, type: str | None = None, engagement_id: str | None = None) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.sync.events, type, engagement_id)

    async def sink(self, name: str = "default", event_types: Iterable[str] | None = None) -> Sink:
        return await asyncio.to_thread(self.sync.sink, name, event_types)

    async def sink_events(self, sink: Sink) -> list[dict[str, Any]]:
        return await asyncio.to_thread(sink.events)

    async def reset(self) -> None:
        await asyncio.to_thread(self.sync.reset)

    async def new_workspace(self, scopes: Iterable[str] = (ADMIN_SCOPE,)) -> FakeAskElephant:
        return await asyncio.to_thread(self.sync.new_workspace, scopes)


class InProcessEmulator:
    """The emulator on 127.0.0.1:0, served from a daemon thread with its own event loop (frozen clock, seed 1
    unless `settings` say otherwise), so blocking and async tests alike can call it over real TCP."""

    def __init__(self, settings: Settings | None = None) -> None:
        from .config import Settings

        self.settings = settings or Settings(seed=1, time_scale=0.0)
        self.origin = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-askelephant", daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> InProcessEmulator:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)
        return self

    async def _start(self) -> None:
        from aiohttp import web

        from .app import create_app

        self._runner = web.AppRunner(create_app(self.settings), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.origin = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=60)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=60)
        self._loop.close()
