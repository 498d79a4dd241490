"""Real-API mode is safe by construction: key from the environment only, reads and prefixed creates only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest
from aiohttp import web

from contract_tests.checks import Budget, run_check, select_checks
from contract_tests.http import HttpClient, LoopThread
from contract_tests.inprocess import ThreadedServer
from contract_tests.target import (
    API_KEY_ENV,
    AdminUnavailable,
    ApiClient,
    RealApiRefused,
    Target,
    TargetError,
    api_base_url,
    is_safe_real_request,
)


@pytest.fixture(scope="module")
def not_the_emulator() -> Iterator[str]:
    """A server with /api but no /__admin: what the real API looks like to the mode probe."""

    async def engagements(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": []})

    throttled = iter([True, True, False])

    async def throttled_once_twice(request: web.Request) -> web.Response:
        if next(throttled):
            return web.json_response({"status": 429}, status=429, headers={"Retry-After": "7"})
        return web.json_response({"object": "list", "data": []})

    app = web.Application()
    app.router.add_get("/api/v2/engagements", engagements)
    app.router.add_get("/api/v2/throttled", throttled_once_twice)
    server = ThreadedServer(app).start()
    try:
        yield server.origin + "/api"
    finally:
        server.stop()


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    with LoopThread() as lt:
        yield lt


@pytest.mark.parametrize(
    ("method", "path", "body", "safe"),
    [
        ("GET", "/v2/engagements", None, True),
        ("POST", "/v2/engagements", {"external_id": "contract-test:pool:1"}, True),
        ("POST", "/v2/engagements", {"external_id": "wavv-call-1"}, False),
        ("POST", "/v2/engagements", {"external_id": 5}, False),
        ("POST", "/v2/engagements", [{"external_id": "contract-test:x"}], False),
        ("POST", "/v2/companies", {"external_id": "contract-test:x"}, False),
        ("PUT", "/v2/engagements/ngmt_1/tags", {"tag_ids": []}, False),
        ("DELETE", "/v2/tags/tag_1", None, False),
        ("PATCH", "/v2/contacts/cnt_1", {}, False),
    ],
)
def test_only_reads_and_prefixed_creates_are_safe(method: str, path: str, body: object, safe: bool) -> None:
    assert is_safe_real_request(method, path, body) is safe


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        (b'{"type":', True),
        (b"[]", True),
        (b"\xff\xfe", True),
        (b'{"external_id":"contract-test:x"}', True),
        (b'{"external_id":"wavv-call-1","type":"CALL"}', False),
    ],
)
def test_raw_create_bodies_are_safe_unless_they_could_store(raw: bytes, safe: bool) -> None:
    assert is_safe_real_request("POST", "/v2/engagements", None, raw) is safe


def test_real_mode_needs_the_env_key(not_the_emulator: str, loop: LoopThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with pytest.raises(TargetError, match=API_KEY_ENV):
        Target.open(not_the_emulator, loop=loop)


def test_real_mode_refuses_a_key_argument(
    not_the_emulator: str, loop: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_KEY_ENV, "sk-apik_real.key")
    with pytest.raises(TargetError, match="only"):
        Target.open(not_the_emulator, loop=loop, api_key="sk-apik_other.key")


def test_forcing_emulator_mode_on_a_non_emulator_fails(not_the_emulator: str, loop: LoopThread) -> None:
    with pytest.raises(TargetError, match="__admin/health"):
        Target.open(not_the_emulator, mode="emulator", loop=loop)


def test_real_mode_refuses_writes_admin_and_destructive_checks(
    not_the_emulator: str, loop: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_KEY_ENV, "sk-apik_real.key")
    target = Target.open(not_the_emulator, loop=loop)
    try:
        assert target.mode == "real"
        assert target.api.get("/v2/engagements").status == 200
        with pytest.raises(RealApiRefused):
            target.api.request("DELETE", "/v2/tags/tag_1")
        with pytest.raises(RealApiRefused):
            target.api.create_engagement({"external_id": "not-ours"})
        with pytest.raises(AdminUnavailable):
            target.advance(10)
        with pytest.raises(AdminUnavailable):
            target.new_workspace()
        pooled = {target.creatable_external_id() for _ in range(50)}
        assert all(eid.startswith("contract-test:pool:") and not fresh for eid, fresh in pooled)
        assert len(pooled) <= 8
        admin_checks = [c for c in select_checks() if c.needs_admin]
        assert admin_checks
        for check in admin_checks:
            assert run_check(check, target, Budget(max_examples=1)).outcome == "skipped"
    finally:
        target.close()


def test_unreachable_target_is_a_target_error(loop: LoopThread, unused_tcp_port: int) -> None:
    with pytest.raises(TargetError, match="cannot reach"):
        Target.open(f"http://127.0.0.1:{unused_tcp_port}/api", loop=loop)


def test_real_mode_waits_out_429_with_retry_after(not_the_emulator: str, loop: LoopThread) -> None:
    slept: list[float] = []
    http = HttpClient(loop)
    try:
        client = ApiClient(http, not_the_emulator, "sk-apik_real.key", real=True, sleep=slept.append)
        assert client.get("/v2/throttled").status == 200
    finally:
        http.close()
    assert slept == [7.0, 7.0]


@pytest.mark.parametrize(
    ("given", "api"),
    [
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/api"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/api"),
        ("http://127.0.0.1:8787/api", "http://127.0.0.1:8787/api"),
        ("http://127.0.0.1:8787/api/", "http://127.0.0.1:8787/api"),
        ("https://app.askelephant.ai/api", "https://app.askelephant.ai/api"),
        ("https://app.askelephant.ai", "https://app.askelephant.ai/api"),
    ],
)
def test_target_url_takes_the_root_or_the_api_base(given: str, api: str) -> None:
    assert api_base_url(given) == api


def test_the_emulator_by_its_root(fake_askelephant_server: str, loop: LoopThread) -> None:
    """`askelephant-contract api --target-url http://HOST:PORT` (what `scenario run` takes) ran in real mode."""
    target = Target.open(fake_askelephant_server.removesuffix("/api"), loop=loop)
    try:
        assert target.mode == "emulator" and target.base_url == fake_askelephant_server
        assert target.api.get("/v2/engagements").status == 200
    finally:
        target.close()


@pytest.mark.parametrize("mode", ["auto", "emulator"])
def test_a_target_url_with_another_path_gets_a_hint(
    fake_askelephant_server: str, loop: LoopThread, mode: Literal["auto", "emulator"], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_KEY_ENV, "sk-apik_real.key")  # auto mode would otherwise stop at the missing key
    origin = fake_askelephant_server.removesuffix("/api")
    with pytest.raises(TargetError) as raised:
        Target.open(origin + "/api/v2", mode=mode, loop=loop)
    assert f"{origin}/api/v2/__admin/health does not answer" in str(raised.value)
    assert f"this host's emulator answers at {origin}: give its root {origin} or its API base {origin}/api" in str(
        raised.value
    )


def test_the_real_api_gets_one_mode_probe_and_no_more(loop: LoopThread, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrong-path hint probes the host's root only when the URL has a path of its own."""
    probes: list[str] = []

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/__admin"):
            probes.append(request.path)
        return await handler(request)

    server = ThreadedServer(web.Application(middlewares=[count])).start()
    monkeypatch.setenv(API_KEY_ENV, "sk-apik_real.key")
    try:
        for url in (server.origin, server.origin + "/api"):
            Target.open(url, loop=loop).close()
    finally:
        server.stop()
    assert probes == ["/__admin/health", "/__admin/health"]
