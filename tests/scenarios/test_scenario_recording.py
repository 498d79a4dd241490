"""Record-to-scenario: a live session becomes a YAML file that replays green on a fresh emulator."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from fake_askelephant.scenarios import load_file, load_text, run_scenario
from fake_askelephant.scenarios.report import scenario_text
from fake_askelephant.scenarios.session_recorder import BIG_JSON_CHARS, Captured, Session, build
from tests.cli_process import base_env, start
from tests.conftest import Api, seed_call


async def start_receiver(aiohttp_server: Callable[..., Any], statuses: list[int]) -> tuple[str, list[bytes]]:
    """A vendor's receiver that answers `statuses` in turn (the last repeats)."""
    got: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response(status=statuses[min(len(got), len(statuses)) - 1])

    app = web.Application()
    app.router.add_post("/hooks", hook)
    server = await aiohttp_server(app)
    return str(server.make_url("/hooks")), got


async def test_a_recorded_session_replays_green(api: Api, aiohttp_server: Callable[..., Any]) -> None:
    receiver_url, received = await start_receiver(aiohttp_server, [500, 200])
    base = str(api.client.make_url("")).rstrip("/")
    created = await api.client.post(
        "/__admin/webhook-endpoints",
        json={"url": f"{base}/__admin/sink/pre", "event_types": ["v1.engagement.created"]},
    )
    assert created.status == 201

    started = await api.client.post("/__admin/recording/start", json={"name": "bug-1234"})
    assert started.status == 201 and (await started.json())["recording"] is True
    assert (await api.client.post("/__admin/recording/start")).status == 409
    reader = await api.new_key(["engagements:read"])
    hooked = await api.client.post(
        "/__admin/webhook-endpoints",
        json={"url": receiver_url, "event_types": ["v1.engagement.transcript_timeline.completed"]},
    )
    assert hooked.status == 201
    first = await api.create()
    engagement_id = (await first.json())["id"]
    assert first.status == 201 and (await api.create()).status == 200
    assert (await api.create(external_id="other", media_url="https://10.1.2.3/a.mp3")).status == 422
    assert (await api.get(engagement_id, key=reader)).status == 200
    await api.advance(600)
    assert (await api.get(engagement_id, expand="action_items,signals,transcript")).status == 200
    timeline = await api.call("GET", f"/api/v2/engagements/{engagement_id}/transcript_timeline", key=reader)
    assert timeline.status == 403
    assert (await api.call("GET", "/api/v2/engagements", key=None)).status == 401
    assert (await api.client.get("/__admin/recording")).status == 200  # reads are not recorded
    stopped = await api.client.post("/__admin/recording/stop")
    assert stopped.status == 200 and stopped.content_type == "application/yaml"
    text = await stopped.text()
    assert len(received) == 2  # the live receiver failed once, then took the retry

    doc = yaml.safe_load(text)
    assert doc["name"] == "bug-1234" and doc["seed"] == 1 and doc["clock"] == {"start": "2026-03-09T11:59:00.000Z"}
    assert doc["endpoints"] == {"endpoint1": {"statuses": [200], "event_types": ["v1.engagement.created"]}}
    steps = doc["steps"]
    names = [s.get("name") for s in steps if "request" in s]
    assert names == [
        "post_api_keys_1",
        "script_post_webhook_endpoints_2",
        "post_webhook_endpoints_2",
        "post_engagements_3",
        "post_engagements_4",
        "post_engagements_5",
        "get_engagement_6",
        "get_engagement_7",
        "get_transcript_timeline_8",
        "get_engagements_9",
    ]
    by_name = {s["name"]: s for s in steps if "name" in s}
    assert by_name["post_webhook_endpoints_2"]["request"]["body"]["url"] == (
        "${target.base_url}/__admin/sink/post_webhook_endpoints_2"
    )
    assert by_name["script_post_webhook_endpoints_2"]["request"]["body"] == {"statuses": [500, 200]}
    replay = by_name["post_engagements_4"]
    assert replay["expect"]["status"] == 200
    assert replay["expect"]["body"]["id"] == "${post_engagements_3.body.id}"
    assert by_name["get_engagement_6"]["request"] == {
        "path": "/api/v2/engagements/${post_engagements_3.body.id}",
        "headers": {"Authorization": "${post_api_keys_1.body.key}"},
    }
    assert by_name["get_engagements_9"]["request"]["key"] is None
    assert "request_id" not in by_name["post_engagements_5"]["expect"]["body"]
    assert {"advance": 600} in steps
    hooks = [s["expect_webhook"] for s in steps if "expect_webhook" in s]
    assert {
        "endpoint": "${post_webhook_endpoints_2.body.id}",
        "type": "v1.engagement.transcript_timeline.completed",
        "body": {"data": {"object": {"id": "${post_engagements_3.body.id}"}}},
        "count": 2,
        "statuses": [500, 200],
    } in hooks
    assert any(h["endpoint"] == "endpoint1" and h["type"] == "v1.engagement.created" for h in hooks)

    result = await run_scenario(load_text(text, "recorded.yaml"))
    assert result.ok, scenario_text(result, verbose=True) + "\n\n" + text


async def test_recording_stop_without_start_is_a_conflict(api: Api) -> None:
    resp = await api.client.post("/__admin/recording/stop")
    assert resp.status == 409
    status = await (await api.client.get("/__admin/recording")).json()
    assert status == {"recording": False, "name": None, "started_at": None, "exchanges": 0}


async def test_bad_recording_name_is_a_422(api: Api) -> None:
    resp = await api.client.post("/__admin/recording/start", json={"name": "../etc"})
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["field"] == "name"


async def test_the_scheduler_peek_names_the_next_due_instant(api: Api) -> None:
    idle = await (await api.client.get("/__admin/scheduler")).json()
    assert idle == {"now": "2026-03-09T11:59:00.000Z", "next_due_at": None, "pending": 0}
    engagement_id = (await (await api.create()).json())["id"]
    busy = await (await api.client.get("/__admin/scheduler")).json()
    plan = await (await api.client.get(f"/__admin/engagements/{engagement_id}/pipeline")).json()
    assert busy["next_due_at"] == plan["stages"]["processing"]["at"] and busy["pending"] == 1  # the next stage


@pytest.mark.slow
def test_serve_record_writes_a_replayable_file_at_shutdown(tmp_path: Path) -> None:
    out = tmp_path / "session.yaml"
    args = ["serve", "--port", "0", "--seed", "5", "--time-scale", "0", "--start-time", "2026-03-09T11:59:00Z"]
    server = start([*args, "--record", str(out)], base_env(), tmp_path)
    try:
        assert f"Recording   {out} (written at shutdown)" in server.banner
        base = server.base
        request = urllib.request.Request(
            f"{base}/api/v2/engagements",
            data=json.dumps(seed_call()).encode(),
            headers={"Authorization": "sk-apik_local.fakeaskelephant", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 201
        advance = urllib.request.Request(
            f"{base}/__admin/clock/advance",
            data=b'{"seconds": 300}',
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(advance, timeout=10) as resp:
            assert resp.status == 200
    finally:
        assert server.stop(timeout=20) == 0
    loaded = load_file(out)
    assert loaded.name == "session" and loaded.scenario.seed == 5
    kinds = [s.kind for s in loaded.scenario.steps]
    assert kinds == ["request", "advance"]


def exchange(method: str, path: str, status: int, response: Any, *, at: int, body: Any = None, **extra: Any) -> Any:
    return Captured(
        method=method,
        path=path,
        request_headers={"Authorization": "sk-apik_local.fakeaskelephant", **extra.get("headers", {})},
        request_body=json.dumps(body).encode() if body is not None else b"",
        status=status,
        response_headers=extra.get("response_headers", {}),
        response_body=json.dumps(response).encode(),
        virtual_ms=at,
        attempt_seq=0,
    )


def test_the_builder_generalizes_what_a_replay_cannot_repeat() -> None:
    engagement_id = "ngmt_01KK97DZX0K6E8WDMC09WK7HNM"
    items = [{"id": f"actitm_01KK97DZX0K6E8WDMC09WK7H{n:02d}", "title": "x" * 200} for n in range(12)]
    assert len(str(items)) > BIG_JSON_CHARS
    session = Session(
        seed=3,
        started_ms=1_000_000,
        time_scale=60.0,
        keys={},
        endpoints=[{"id": "ep_01KK97DZX0K6E8WDMC09WK7HNM", "hazards": {"duplicate": 0.5}}],
        engagements_before=2,
        name="moving",
        exchanges=[
            exchange(
                "POST",
                "/api/v2/engagements",
                201,
                {"id": engagement_id, "title": "say ${x}", "created_at": "2026-03-09T11:59:00.000Z"},
                at=1_000_000,
                body={"title": "say ${x}"},
                response_headers={"Location": f"/api/v2/engagements/{engagement_id}"},
            ),
            exchange(
                "GET",
                f"/api/v2/engagements/{engagement_id}?expand=action_items",
                200,
                {"id": engagement_id, "action_items": items, "request_id": "rid_01KK97DZX0K6E8WDMC09WK7HNM"},
                at=1_002_500,
            ),
        ],
        stopped_ms=1_010_000,
    )
    doc = build(session)
    create, advance, get, tail = doc["steps"]
    assert create["request"]["body"] == {"title": "say $${x}"}  # literal text stays literal
    assert create["expect"] == {
        "status": 201,
        "headers": {"Location": "/api/v2/engagements/${post_engagements_1.body.id}"},
        "body": {"title": "say $${x}"},  # the new id is a reference source, the timestamp is wall-dependent
    }
    assert advance == {"advance": 2.5} and tail == {"advance": 7.5}
    assert get["expect"] == {
        "status": 200,
        "body": {"id": "${post_engagements_1.body.id}"},
        "jsonpath": [{"path": "$.action_items", "length": 12}],
    }
    assert "endpoints" in doc and "timestamps are left out" in doc["description"]
    assert "2 engagement(s) existed before recording started" in doc["description"]
    assert "had hazards; they are not replayed" in doc["description"]


async def test_a_response_lost_to_a_dropped_connection_is_recorded_and_replays(api: Api) -> None:
    """The lost-response bug: the create ran, the dialer never heard; its retry must get 200, same id."""
    assert (await api.client.post("/__admin/recording/start")).status == 201
    fault = {"method": "POST", "path": "/api/v2/engagements", "phase": "after", "action": "reset"}
    assert (await api.client.post("/__admin/faults", json=fault)).status == 201
    with pytest.raises(aiohttp.ClientError):
        await api.create()
    retry = await api.create()
    assert retry.status == 200
    text = await (await api.client.post("/__admin/recording/stop")).text()
    expectations = [s["expect"] for s in yaml.safe_load(text)["steps"] if "request" in s]
    assert expectations[1] == {"no_response": True}
    assert expectations[2]["status"] == 200
    result = await run_scenario(load_text(text, "lost.yaml"))
    assert result.ok, scenario_text(result, verbose=True) + "\n\n" + text
