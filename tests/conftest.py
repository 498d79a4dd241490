"""Shared fixtures: the emulator in-process on a frozen virtual clock, and on a real loopback port."""

from __future__ import annotations

import contextlib
import copy
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings

from contract_tests.inprocess import ThreadedServer
from fake_askelephant.api.context import emulator_key
from fake_askelephant.app import create_app
from fake_askelephant.config import Settings
from fake_askelephant.core.timefmt import parse_iso
from fake_askelephant.emulator import Emulator
from tests.contract.spec_examples import DIALER_REQUEST

DEFAULT_KEY = "sk-apik_local.fakeaskelephant"
AUTH = {"Authorization": DEFAULT_KEY}
T0 = parse_iso("2026-03-09T11:59:00Z")

# CI runs three suites side by side on 2 cores: wall-clock checks say how busy the machine is, not whether the code
# is right. Hypothesis keeps its correctness checks; its timing ones (deadline, too_slow) are off.
settings.register_profile("fake-askelephant", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fake-askelephant")
# pytest-timeout's 120 s (pyproject) guards against hangs; a test that drives node, tsc or a whole process tree
# gets more room on a loaded machine unless it names its own limit.
SLOW_TEST_TIMEOUT_S = 480


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT_S))


@pytest.fixture(autouse=True)
def _processes_are_slow(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pytest -m "not slow"` is the inner loop: a test that starts a process must say so with @pytest.mark.slow."""
    if request.node.get_closest_marker("slow") is None:

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise AssertionError(f"{request.node.nodeid} starts a process: mark it @pytest.mark.slow")

        monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


def seed_call(**overrides: Any) -> dict[str, Any]:
    """The docs' dialer example (dialer-flow.md §2), a fresh copy each call."""
    body: dict[str, Any] = copy.deepcopy(DIALER_REQUEST)
    body.update(overrides)
    return body


async def problem(resp: Any, status: int, slug: str) -> dict[str, Any]:
    """Assert a complete problem+json error (api.md §4) and return its body."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    assert body["type"] == f"https://app.askelephant.ai/errors/{slug}"
    assert body["title"] == slug.replace("_", " ").title()
    assert body["status"] == status
    assert body["detail"]
    assert body["request_id"] == resp.headers["X-Request-Id"]
    if resp.url.path.startswith("/api/"):
        assert resp.headers["X-Api-Version"] == "2"
    return body


def frozen_settings(**overrides: Any) -> Settings:
    # No seed data: tests start from the bare default workspace unless they ask for fixtures.
    values: dict[str, Any] = {"seed": 1, "time_scale": 0.0, "start_time": T0, "fixtures": "none"}
    values.update(overrides)
    return Settings(**values)


class Api:
    """A test client with the default key and helpers for the control plane."""

    def __init__(self, client: TestClient, app: web.Application) -> None:
        self.client = client
        self.app = app

    @property
    def emulator(self) -> Emulator:
        return self.app[emulator_key]

    async def call(self, method: str, path: str, *, key: str | None = DEFAULT_KEY, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers.setdefault("Authorization", key)
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def create(self, body: dict[str, Any] | None = None, *, key: str = DEFAULT_KEY, **overrides: Any) -> Any:
        return await self.call("POST", "/api/v2/engagements", key=key, json=body or seed_call(**overrides))

    async def get(self, engagement_id: str, *, key: str = DEFAULT_KEY, expand: str | None = None) -> Any:
        path = f"/api/v2/engagements/{engagement_id}" + (f"?expand={expand}" if expand else "")
        return await self.call("GET", path, key=key)

    async def advance(self, seconds: float) -> None:
        resp = await self.client.post("/__admin/clock/advance", json={"seconds": seconds})
        assert resp.status == 200, await resp.text()

    async def new_key(self, scopes: list[str], workspace_id: str = "wrks_local", **extra: Any) -> str:
        resp = await self.client.post(
            "/__admin/api-keys", json={"scopes": scopes, "workspace_id": workspace_id, **extra}
        )
        assert resp.status == 201, await resp.text()
        key: str = (await resp.json())["key"]
        return key


@pytest.fixture
def make_api(aiohttp_client: Callable[..., Any]) -> Callable[..., Any]:
    async def factory(settings: Settings | None = None) -> Api:
        app = create_app(settings or frozen_settings())
        client = await aiohttp_client(app)
        return Api(client, app)

    return factory


@pytest.fixture
async def api(make_api: Callable[..., Any]) -> AsyncIterator[Api]:
    instance: Api = await make_api()
    yield instance
    # A scheduled job that raised is a bug even if no assertion noticed it.
    assert instance.emulator.scheduler.failures == []


@pytest.fixture
async def emulator_server() -> AsyncIterator[TestServer]:
    """The emulator on a real loopback port (for clients that speak HTTP only)."""
    server = TestServer(create_app(frozen_settings()), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@dataclass(frozen=True)
class OnAThread:
    app: web.Application
    origin: str  # http://127.0.0.1:PORT

    @property
    def emulator(self) -> Emulator:
        return self.app[emulator_key]


@contextlib.contextmanager
def served_on_a_thread(settings: Settings | None = None) -> Iterator[OnAThread]:
    """The emulator on its own event-loop thread over loopback, for synchronous callers (schemathesis, requests, a
    CLI's `main` that runs its own loop). The one in-thread server of the tests: the contract plugin's."""
    app = create_app(settings or frozen_settings())
    server = ThreadedServer(app).start()
    try:
        yield OnAThread(app, server.origin)
    finally:
        server.stop()
