"""`--media-fetch` (api.md §5.4): real GETs against loopback servers, every hop and DNS answer checked."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from fake_askelephant.core.errors import ValidationFailed
from fake_askelephant.media_fetch import MediaFetcher
from tests.conftest import Api, frozen_settings, problem, seed_call
from tests.reliability.audio import wav_bytes

FALLBACK = 777


def media_app() -> web.Application:
    app = web.Application()

    async def call(request: web.Request) -> web.Response:
        return web.Response(body=wav_bytes(2.5), content_type="audio/wav")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>not audio</html>", content_type="text/html")

    async def garbage_mp3(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00" * 2048, content_type="audio/mpeg")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        target = "/call.wav" if n == 0 else f"/hop/{n - 1}"
        raise web.HTTPFound(target)

    async def to_loopback(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://127.0.0.1/call.wav")  # not the allowed 127.0.0.1:PORT

    async def to_localhost_name(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://rebind.test/call.wav")

    app.router.add_get("/call.wav", call)
    app.router.add_get("/page.html", html)
    app.router.add_get("/broken.mp3", garbage_mp3)
    app.router.add_get("/missing.wav", missing)
    app.router.add_get("/hop/{n}", hop)
    app.router.add_get("/to-loopback", to_loopback)
    app.router.add_get("/to-rebind", to_localhost_name)
    return app


@pytest.fixture
async def media_server() -> Any:
    server = TestServer(media_app(), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


class FakeDns(AbstractResolver):
    """Names of our choosing resolve to loopback, as a rebinding attacker's DNS would answer."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.names:
            raise OSError(f"no such host {host}")
        return [{"hostname": host, "host": self.names[host], "port": port, "family": family, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


async def fetcher(allow: tuple[str, ...], **kwargs: Any) -> MediaFetcher:
    f = MediaFetcher(allow, fallback_duration=lambda url: FALLBACK, **kwargs)
    await f.start()
    return f


async def rejected(f: MediaFetcher, url: str) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as exc:
        await f.probe(url)
    (error,) = exc.value.errors
    assert error.field == "media_url"
    return error.code, error.message


async def test_allowed_local_audio_server_is_fetched_and_timed(make_api: Any, media_server: TestServer) -> None:
    host = f"127.0.0.1:{media_server.port}"
    api: Api = await make_api(frozen_settings(media_fetch=True, allow_media_hosts=(host,)))
    resp = await api.create(media_url=f"http://{host}/call.wav")
    assert resp.status == 201, await resp.text()
    eid = (await resp.json())["id"]
    pipeline = await (await api.client.get(f"/__admin/engagements/{eid}/pipeline")).json()
    assert pipeline["duration_seconds"] == 3  # ceil(2.5) read from the WAV header by mutagen
    await api.advance(600)
    assert (await (await api.get(eid)).json())["duration_seconds"] == 3


async def test_redirect_to_loopback_is_refused(make_api: Any, media_server: TestServer) -> None:
    host = f"127.0.0.1:{media_server.port}"
    api: Api = await make_api(frozen_settings(media_fetch=True, allow_media_hosts=(host,)))
    resp = await api.create(media_url=f"http://{host}/to-loopback")
    body = await problem(resp, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("media_url", "private_address")]
    assert "redirected to https://127.0.0.1/call.wav" in body["errors"][0]["message"]
    assert (await api.call("GET", "/api/v2/engagements")).status == 200
    assert (await (await api.call("GET", "/api/v2/engagements")).json())["data"] == []  # nothing stored


@pytest.mark.parametrize(
    ("path", "code", "needle"),
    [
        ("/page.html", "unsupported_media_type", "text/html"),
        ("/missing.wav", "media_unreachable", "HTTP 404"),
        ("/hop/3", "media_unreachable", "more than 3 redirects"),
    ],
)
async def test_refusals(media_server: TestServer, path: str, code: str, needle: str) -> None:
    f = await fetcher((f"127.0.0.1:{media_server.port}",))
    try:
        got_code, message = await rejected(f, f"http://127.0.0.1:{media_server.port}{path}")
    finally:
        await f.close()
    assert got_code == code and needle in message


async def test_three_redirects_are_followed(media_server: TestServer) -> None:
    f = await fetcher((f"127.0.0.1:{media_server.port}",))
    try:
        assert await f.probe(f"http://127.0.0.1:{media_server.port}/hop/2") == 3
    finally:
        await f.close()


async def test_unreadable_media_falls_back_to_the_offline_duration(media_server: TestServer) -> None:
    f = await fetcher((f"127.0.0.1:{media_server.port}",))
    try:
        assert await f.probe(f"http://127.0.0.1:{media_server.port}/broken.mp3") == FALLBACK
    finally:
        await f.close()


async def test_size_cap(media_server: TestServer) -> None:
    f = await fetcher((f"127.0.0.1:{media_server.port}",), max_bytes=1000)
    try:
        code, message = await rejected(f, f"http://127.0.0.1:{media_server.port}/call.wav")
    finally:
        await f.close()
    assert code == "media_unreachable" and "limit" in message


async def test_dns_answers_are_checked_before_connecting(media_server: TestServer) -> None:
    """A public-looking name that resolves to loopback is refused, also after a redirect (DNS rebinding)."""
    dns = FakeDns({"rebind.test": "127.0.0.1", "media.test": "127.0.0.1"})
    f = await fetcher((f"127.0.0.1:{media_server.port}",), resolver=dns)
    try:
        code, message = await rejected(f, "https://rebind.test/call.wav")
        assert code == "private_address" and "rebind.test resolves to one" in message
        code, _ = await rejected(f, f"http://127.0.0.1:{media_server.port}/to-rebind")
        assert code == "private_address"
    finally:
        await f.close()


async def test_allowed_names_skip_the_address_check(media_server: TestServer) -> None:
    """docker compose: `--allow-media-host media:8080` resolves to a private address and is fine."""
    dns = FakeDns({"media.test": "127.0.0.1"})
    f = await fetcher((f"media.test:{media_server.port}",), resolver=dns)
    try:
        assert await f.probe(f"http://media.test:{media_server.port}/call.wav") == 3
    finally:
        await f.close()


async def test_unreachable_host(media_server: TestServer) -> None:
    f = await fetcher((), resolver=FakeDns({}))
    try:
        code, message = await rejected(f, "https://nowhere.test/call.wav")
    finally:
        await f.close()
    assert code == "media_unreachable" and "nowhere.test" in message


async def test_offline_policy_still_runs_first(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(media_fetch=True))
    body = await problem(await api.create(media_url="http://127.0.0.1:9/x.wav"), 422, "validation_failed")
    assert body["errors"][0]["code"] == "insecure_scheme"
    body = await problem(await api.create(media_url="https://10.1.2.3/x.wav"), 422, "validation_failed")
    assert body["errors"][0]["code"] == "private_address"


async def test_pipeline_rules_script_media_without_fetching(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(media_fetch=True))
    await api.client.post("/__admin/pipeline-rules", json={"match": {"external_id": "x-*"}, "duration_seconds": 42})
    resp = await api.create(seed_call(external_id="x-1", media_url="https://unreachable.invalid/a.wav"))
    assert resp.status == 201
