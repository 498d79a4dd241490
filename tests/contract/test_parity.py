"""Record-and-compare (issue 20): `fake-askelephant proxy` records exchanges with an upstream, `askelephant-contract
parity` replays them against the emulator. With the emulator itself upstream nothing differs; with an upstream
altered on purpose, every alteration is reported."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from contract_tests import parity
from contract_tests.cli import main as contract_main
from fake_askelephant.app import create_app
from fake_askelephant.cli import main as emulator_main
from fake_askelephant.proxy import make_app as make_proxy
from tests.conftest import DEFAULT_KEY, frozen_settings, seed_call, served_on_a_thread

CREATE = seed_call(external_id="contract-test:parity-1", participants=[])
ONE_ENGAGEMENT = re.compile(r"^/api/v2/engagements/ngmt_[A-Za-z0-9]+$")


async def record_session(aiohttp_server: Any, aiohttp_client: Any, upstream: web.Application, out: Path) -> None:
    server = await aiohttp_server(upstream)
    proxy = await aiohttp_client(make_proxy(str(server.make_url("/api")), DEFAULT_KEY, out))
    created = await proxy.post("/api/v2/engagements", json=CREATE)
    engagement = await created.json()
    assert (await proxy.get(f"/api/v2/engagements/{engagement['id']}")).status == 200
    await proxy.post("/api/v2/engagements", json={**CREATE, "external_id": "contract-test:parity-2"})
    first = await (await proxy.get("/api/v2/engagements", params={"limit": "1"})).json()
    await proxy.get("/api/v2/engagements", params={"cursor": first["next_cursor"]})
    contacts = await (await proxy.get("/api/v2/contacts", params={"limit": "2"})).json()
    await proxy.get(f"/api/v2/contacts/{contacts['data'][0]['id']}")
    await proxy.get("/api/v2/engagements/ngmt_01KK97DZX0NOTHINGHERE0000")
    # Not forwarded, not recorded: a write the real-mode rules refuse, and a create without the prefix.
    assert (await proxy.delete(f"/api/v2/engagements/{engagement['id']}")).status == 403
    refused = await proxy.post("/api/v2/engagements", json=seed_call(external_id="mine"))
    assert refused.status == 403


async def replay_against_fresh_emulator(recording: Path) -> list[parity.Difference]:
    with served_on_a_thread(frozen_settings(fixtures="sample")) as target:
        return await asyncio.to_thread(parity.replay, parity.load(recording), target.origin + "/api", DEFAULT_KEY)


async def test_the_emulator_upstream_has_no_differences(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path
) -> None:
    recording = tmp_path / "session.jsonl"
    await record_session(aiohttp_server, aiohttp_client, create_app(frozen_settings(fixtures="sample")), recording)
    lines = recording.read_text().splitlines()
    assert len(lines) == 8  # the two refused requests are not in it
    text = "\n".join(lines)
    assert DEFAULT_KEY not in text and "Authorization" not in text  # no secret recorded
    assert not re.search(r"ngmt_[0-9A-Z]{26}", text) and "@datetime" in text and "@cursor1" in text  # normalised
    exchanges = [json.loads(line) for line in lines]
    assert exchanges[0]["response"]["status"] == 201 and exchanges[-1]["response"]["status"] == 404
    assert await replay_against_fresh_emulator(recording) == []


def altered_upstream() -> web.Application:
    """The emulator with one deliberate difference per kind parity compares."""
    app = create_app(frozen_settings(fixtures="sample"))

    @web.middleware
    async def alter(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        resp = await handler(request)
        assert isinstance(resp, web.Response)
        if request.method == "POST" and request.path == "/api/v2/engagements":
            resp.set_status(200)  # status
        elif request.method == "GET" and ONE_ENGAGEMENT.match(request.path) and resp.status == 200:
            assert resp.body is not None and isinstance(resp.body, bytes)
            body = json.loads(resp.body)
            del body["title"]  # field set
            body["is_private"] = "no"  # type
            body["end_at"] = None  # nullability
            body["processing_status"] = "QUEUED"  # enum value
            resp.body = json.dumps(body).encode()
        return resp

    async def drop_version(request: web.Request, resp: web.StreamResponse) -> None:
        if request.path.startswith("/api/v2/contacts/"):
            resp.headers.pop("X-Api-Version", None)  # a header the docs name

    app.middlewares.append(alter)
    app.on_response_prepare.append(drop_version)
    return app


async def test_each_alteration_of_the_upstream_is_reported(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path
) -> None:
    recording = tmp_path / "altered.jsonl"
    await record_session(aiohttp_server, aiohttp_client, altered_upstream(), recording)
    found = {(d.exchange, d.where, d.what) for d in await replay_against_fresh_emulator(recording)}
    assert found == {
        (1, "status", "recorded 200, target 201"),
        (3, "status", "recorded 200, target 201"),
        (2, "$.title", "field sent by the target, absent from the recording"),
        (2, "$.is_private", "type: recorded string, target boolean"),
        (2, "$.end_at", "nullability: recorded null, target string"),
        (2, "$.processing_status", "enum value: recorded 'QUEUED', target 'PENDING'"),
        (7, "header X-Api-Version", "absent from the recording, sent by the target"),
    }


async def test_the_cli_exit_status_and_report(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, capsys: Any
) -> None:
    clean, altered = tmp_path / "clean.jsonl", tmp_path / "altered.jsonl"
    await record_session(aiohttp_server, aiohttp_client, create_app(frozen_settings(fixtures="sample")), clean)
    await record_session(aiohttp_server, aiohttp_client, altered_upstream(), altered)
    with served_on_a_thread(frozen_settings(fixtures="sample")) as target:
        assert await asyncio.to_thread(contract_main, ["parity", str(clean), "--target-url", target.origin]) == 0
        assert "8 exchanges replayed, 0 difference(s)" in capsys.readouterr().out
    with served_on_a_thread(frozen_settings(fixtures="sample")) as target:
        assert await asyncio.to_thread(contract_main, ["parity", str(altered), "--target-url", target.origin]) == 1
        out = capsys.readouterr().out
    assert "#1 POST /v2/engagements status: recorded 200, target 201" in out and "7 difference(s)" in out
    assert contract_main(["parity", str(tmp_path / "missing.jsonl"), "--target-url", "http://127.0.0.1:9"]) == 2


def test_the_proxy_takes_its_key_from_the_environment_only(monkeypatch: Any, tmp_path: Path, capsys: Any) -> None:
    monkeypatch.delenv("ASKELEPHANT_API_KEY", raising=False)
    record = tmp_path / "never.jsonl"
    try:
        emulator_main(["proxy", "--upstream", "http://127.0.0.1:9/api", "--record", str(record)])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("the proxy started without ASKELEPHANT_API_KEY")
    assert "ASKELEPHANT_API_KEY" in capsys.readouterr().err and not record.exists()
