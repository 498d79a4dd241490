"""askelephant-ref: every command against loopback stand-ins or the real emulator scripted by pipeline rules;
``main`` runs in a worker thread because it owns its event loop (``asyncio.run``) while the test loop serves."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from reference_client import TRANSCRIPT_COMPLETED
from reference_client.cli import main
from tests.conftest import DEFAULT_KEY
from tests.reference_client.refclient_stubs import API_KEY, Reply, StubApi, engagement_json, problem_json


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables at 80 columns otherwise
    monkeypatch.delenv("ASKELEPHANT_API_KEY", raising=False)
    monkeypatch.delenv("ASKELEPHANT_BASE_URL", raising=False)
    monkeypatch.delenv("ASKELEPHANT_WEBHOOK_SECRET", raising=False)


# Pipeline timing of pipeline.md §3's example: transcript at +60 s, action items at +125 s, signals at +190 s.
TIMED = {"delays": {"transcript": 60, "action_items": 65, "signals": 130}}
INSIGHTS = {
    "action_items": [{"title": "Send pricing proposal"}],
    "signals": [{"type": "pricing", "quote": "annual billing?"}],
}


async def admin(server: TestServer, method: str, path: str, body: Any = None, *, status: int = 200) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, str(server.make_url(f"/__admin/{path}")), json=body) as response,
    ):
        assert response.status == status, await response.text()
        return await response.json()


async def arm(server: TestServer, **pipeline: Any) -> None:
    """Every engagement created from now on runs this script (POST /__admin/pipeline-rules)."""
    await admin(server, "POST", "pipeline-rules", {"pipeline": {**TIMED, **pipeline}}, status=201)


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


async def test_wait_insights_on_the_emulator_clock(emulator_server: TestServer, capsys):
    await arm(emulator_server, **INSIGHTS)
    base_url = str(emulator_server.make_url("/api"))
    engagement_id = await _create_on(base_url)

    code = await run(
        "--base-url", base_url, "--api-key", DEFAULT_KEY,
        "wait-insights", engagement_id, "--emulator-clock", "advance", "--since", "2026-03-09T12:00:00Z",
    )  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert "insights ready" in out and "Send pricing proposal" in out and "pricing" in out
    # Created 11:59:00, signals at +190 s = 12:02:10. Polls from since=12:00:00: +45, then sleeps of
    # 15, 22.5, 33.75, 50.625 s; the fifth poll at 12:02:46.875 is the first to see them.
    assert (await admin(emulator_server, "GET", "clock"))["now"] == "2026-03-09T12:02:46.875Z"


async def _create_on(base_url: str) -> str:
    from reference_client import AskElephantClient

    async with AskElephantClient(DEFAULT_KEY, base_url) as client:
        engagement, _ = await client.create_engagement(
            {
                "type": "CALL",
                "title": "t",
                "source_system": "s",
                "external_id": "e1",
                "media_url": "https://recordings.example.com/e1.mp3",
            }
        )
    return engagement.id


async def test_demo_runs_the_four_steps(emulator_server: TestServer, capsys):
    await arm(emulator_server, **INSIGHTS)

    code = await run("demo", "--base-url", str(emulator_server.make_url("/api")))

    out = capsys.readouterr().out
    assert code == 0, out
    for needle in ("1 Ingest", "201 created", "same id", "3 Notify", "4 Retrieve", "Send pricing proposal",
                   "annual billing?", "demo complete"):  # fmt: skip
        assert needle in out, needle
    # The receiver acknowledged the transcript webhook, and the demo cleaned up its endpoint.
    attempts = (await admin(emulator_server, "GET", "deliveries"))["data"]
    assert [(a["type"], a["response_status_code"]) for a in attempts] == [(TRANSCRIPT_COMPLETED, 200)]
    assert (await admin(emulator_server, "GET", "webhook-endpoints"))["data"] == []
    # The WAVV call's owner is the workspace's user, its lead became the engagement's one contact.
    (workspace,) = (await admin(emulator_server, "GET", "state"))["workspaces"]
    (engagement,) = workspace["engagements"]
    assert engagement["source_system"] == "wavv" and engagement["owner_user_id"] == "usr_local"
    (lead,) = [c for c in workspace["contacts"] if c["id"] in engagement["contact_ids"]]
    assert (lead["first_name"], lead["last_name"]) == ("Jane", "Doe")


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"transcription": "failed"}, "no transcript webhook"),
        ({"webhook": "suppress"}, "no transcript webhook"),
    ],
)
async def test_demo_fails_loudly_without_a_webhook(emulator_server: TestServer, capsys, script, message):
    await arm(emulator_server, **script)

    code = await run("demo", "--base-url", str(emulator_server.make_url("/api")), "--webhook-timeout", "300")

    assert code == 1
    assert message in capsys.readouterr().out
    assert (await admin(emulator_server, "GET", "webhook-endpoints"))["data"] == []


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
