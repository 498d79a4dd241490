"""askelephant-ref: every command against loopback stand-ins; ``main`` runs in a worker thread
because it owns its event loop (``asyncio.run``) while the test loop serves the stubs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from reference_client.cli import main
from tests.reference_client.refclient_mini_emulator import MiniEmulator
from tests.reference_client.refclient_stubs import API_KEY, Reply, StubApi, engagement_json, problem_json


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables at 80 columns otherwise
    monkeypatch.delenv("ASKELEPHANT_API_KEY", raising=False)
    monkeypatch.delenv("ASKELEPHANT_BASE_URL", raising=False)
    monkeypatch.delenv("ASKELEPHANT_WEBHOOK_SECRET", raising=False)


@pytest.fixture
async def mini() -> AsyncIterator[MiniEmulator]:
    emulator = MiniEmulator()
    await emulator.start()
    yield emulator
    await emulator.close()


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def common(stub: StubApi) -> list[str]:
    return ["--base-url", stub.base_url, "--api-key", API_KEY]


async def test_submit_from_flags(stub_api, capsys):
    stub_api.reply(Reply(201, engagement_json("ngmt_01CLI")))

    code = await run(
        *common(stub_api), "submit", "--title", "Call with Jane", "--external-id", "my-dialer:42",
        "--media-url", "https://rec.example.com/42.mp3", "--external-url", "tel:+14155550100",
        "--start-at", "2026-03-09T11:51:40+02:00",
        "--owner", "name=Alice Smith;email=owner@example.com",
        "--participant", "name=Jane Doe; phone=+14155550100",
    )  # fmt: skip

    assert code == 0
    assert "created (201): ngmt_01CLI" in capsys.readouterr().out
    assert json.loads(stub_api.requests[0].body) == {
        "type": "CALL",
        "title": "Call with Jane",
        "source_system": "askelephant-ref",
        "external_id": "my-dialer:42",
        "media_url": "https://rec.example.com/42.mp3",
        "external_url": "tel:+14155550100",
        "start_at": "2026-03-09T09:51:40.000Z",
        "participants": [
            {"name": "Alice Smith", "email": "owner@example.com", "is_owner": True},
            {"name": "Jane Doe", "phone": "+14155550100"},
        ],
    }


async def test_submit_wavv_file_as_json(stub_api, capsys, tmp_path):
    call = {
        "call_id": "12345",
        "agent": {"name": "Alice Smith", "email": "owner@example.com"},
        "lead": {"first_name": "Jane", "last_name": "Doe", "phone": "+14155550100"},
        "started_at": "2026-03-09T11:51:40Z",
        "recording_url": "https://recordings.example.com/wavv/12345.mp3",
    }
    path = tmp_path / "call.json"
    path.write_text(json.dumps(call))
    stub_api.reply(Reply(200, engagement_json("ngmt_01OLD")))

    code = await run("--json", *common(stub_api), "submit", "--wavv", str(path))

    output = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (output["created"], output["engagement"]["id"]) == (False, "ngmt_01OLD")
    sent = json.loads(stub_api.requests[0].body)
    assert (sent["external_id"], sent["external_url"]) == ("wavv-call-12345", "wavv://call/12345")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["submit", "--title", "x"], "--external-id"),
        (["submit", "--title", "x", "--external-id", "e", "--media-url", "https://a/b", "--owner", "nick=Al"],
         "name=...;email=...;phone=..."),
        (["submit", "--title", "x", "--external-id", "e"], "media_url or transcript_timeline"),
        (["submit", "--wavv", "/nonexistent/call.json"], "No such file"),
    ],
)  # fmt: skip
async def test_bad_input_exits_2_without_calling_the_api(stub_api, capsys, argv, message):
    code = await run(*common(stub_api), *argv)

    assert code == 2
    assert message in capsys.readouterr().err
    assert stub_api.requests == []


async def test_api_errors_exit_1_with_field_details(stub_api, capsys):
    errors = [{"field": "media_url", "code": "private_address", "message": "private host"}]
    stub_api.reply(Reply(422, problem_json(422, "validation_failed", errors=errors)))

    code = await run(
        *common(stub_api),
        "submit",
        "--title",
        "x",
        "--external-id",
        "e",
        "--media-url",
        "https://10.0.0.1/a.mp3",
    )

    assert code == 1
    assert "media_url: private_address" in capsys.readouterr().err


async def test_get_with_expand(stub_api, capsys):
    stub_api.reply(Reply(200, engagement_json("ngmt_01GET", action_items=[], signals=[])))

    code = await run("--json", *common(stub_api), "get", "ngmt_01GET", "--expand", "action_items,signals")

    assert code == 0
    assert stub_api.requests[0].query == {"expand": "action_items,signals"}
    assert json.loads(capsys.readouterr().out)["id"] == "ngmt_01GET"


async def test_list_stops_at_max(stub_api, capsys):
    page = {"object": "list", "data": [engagement_json(f"ngmt_0{i}") for i in range(3)], "has_more": True,
            "next_cursor": "next"}  # fmt: skip
    stub_api.reply(Reply(200, page))

    code = await run("--json", *common(stub_api), "list", "--max", "2", "--page-size", "3")

    assert code == 0
    assert [e["id"] for e in json.loads(capsys.readouterr().out)] == ["ngmt_00", "ngmt_01"]
    assert len(stub_api.requests) == 1


async def test_wait_insights_on_the_emulator_clock(mini, capsys):
    engagement_id = await _create_on(mini)

    code = await run(
        "--base-url", mini.base_url, "--api-key", API_KEY,
        "wait-insights", engagement_id, "--emulator-clock", "advance", "--since", "2026-03-09T12:00:00Z",
    )  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert "insights ready" in out and "Send pricing proposal" in out and "pricing" in out
    # Created 11:59:00, signals at +190 s = 12:02:10. Polls from since=12:00:00: +45, then sleeps of
    # 15, 22.5, 33.75, 50.625 s; the fifth poll at 12:02:46.875 is the first to see them.
    assert mini.now.isoformat() == "2026-03-09T12:02:46.875000+00:00"


async def _create_on(mini: MiniEmulator) -> str:
    from reference_client import AskElephantClient

    async with AskElephantClient(API_KEY, mini.base_url) as client:
        engagement, _ = await client.create_engagement(
            {
                "type": "CALL",
                "title": "t",
                "source_system": "s",
                "external_id": "e1",
                "media_url": "https://a/b",
            }
        )
    return engagement.id


async def test_demo_runs_the_four_steps(mini, capsys):
    code = await run("demo", "--base-url", mini.base_url)

    out = capsys.readouterr().out
    assert code == 0, out
    for needle in ("1 Ingest", "201 created", "same id", "3 Notify", "4 Retrieve", "Send pricing proposal",
                   "annual billing?", "demo complete"):  # fmt: skip
        assert needle in out, needle
    # The duplicate delivery was acknowledged too, and the demo cleaned up its endpoint.
    assert mini.deliveries == [200, 200]
    assert mini.deleted_endpoints == ["ep_1"] and mini.endpoints == {}
    (record,) = mini.engagements.values()
    assert record["body"]["source_system"] == "wavv"
    assert record["body"]["participants"][0] == {
        "name": "Alice Smith",
        "email": "owner@example.com",
        "is_owner": True,
    }


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"transcription_fails": True}, "no transcript webhook"),
        ({"suppress_webhook": True}, "no transcript webhook"),
    ],
)
async def test_demo_fails_loudly_without_a_webhook(capsys, setup, message):
    emulator = MiniEmulator(**setup)
    await emulator.start()
    try:
        code = await run("demo", "--base-url", emulator.base_url, "--webhook-timeout", "300")
    finally:
        await emulator.close()

    assert code == 1
    assert message in capsys.readouterr().out
    assert emulator.endpoints == {}


async def test_demo_against_a_real_api_explains_what_it_needs(stub_api, capsys):
    stub_api.route = lambda request: Reply(404, problem_json(404, "not_found"))

    code = await run("demo", "--base-url", stub_api.base_url, "--api-key", API_KEY)

    out = capsys.readouterr().out
    assert code == 2
    assert "Settings > Webhooks" in out and "--webhook-secret" in out and "--public-url" in out
    assert [r.path for r in stub_api.requests] == ["/__admin/health"]


async def test_listen_prints_each_verified_event_once(tmp_path):
    import io

    import aiohttp
    from rich.console import Console

    from reference_client.cli import run_listener
    from tests.reference_client.refclient_signing import SECRET, SPEC_BODY, signed_headers

    output = io.StringIO()
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_listener(SECRET, Console(file=output, width=300), port=0, dedup_db=str(tmp_path / "seen.db"),
                     stop=stop, on_ready=ready.set_result)
    )  # fmt: skip
    port = await ready
    headers = signed_headers(SPEC_BODY)
    async with aiohttp.ClientSession() as session:
        statuses = []
        for body in (SPEC_BODY, SPEC_BODY, SPEC_BODY + b" "):  # original, duplicate, tampered
            async with session.post(f"http://127.0.0.1:{port}/webhooks", data=body, headers=headers) as response:
                statuses.append(response.status)
    stop.set()
    await task  # shutdown drains background processing before returning

    assert statuses == [200, 200, 401]
    lines = [line for line in output.getvalue().splitlines() if "transcript_timeline.completed" in line]
    assert len(lines) == 1
    assert "ngmt_01KK97DZX0B7WAVVC4XK2M9QHR" in lines[0] and "'WAVV call with Jane Doe'" in lines[0]


@pytest.mark.parametrize(("argv", "message"), [([], "--webhook-secret"), (["--webhook-secret", "whsec_"], "secret")])
async def test_listen_refuses_to_start_without_a_usable_secret(capsys, argv, message):
    code = await run("listen", "--port", "0", *argv)

    assert code == 2
    assert message in capsys.readouterr().err
