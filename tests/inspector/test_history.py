"""GET /__admin/engagements/{id}/history: one engagement's request → stages → events, in virtual time."""

from __future__ import annotations

from typing import Any

from fake_askelephant.core.timefmt import format_ms, parse_iso
from fake_askelephant.inspector.history import engagement_history
from tests.conftest import T0, Api, problem


async def history(api: Api, engagement_id: str) -> dict[str, Any]:
    resp = await api.client.get(f"/__admin/engagements/{engagement_id}/history")
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


def outline(body: dict[str, Any]) -> list[tuple[str, ...]]:
    """Each step as (kind, what, state-or-changed) for order assertions."""
    out: list[tuple[str, ...]] = []
    for step in body["steps"]:
        if step["kind"] == "request":
            out.append(("request", step["route"]))
        elif step["kind"] == "stage":
            out.append(("stage", step["stage"], step["state"]))
        else:
            out.append(("event", step["type"], ",".join(step["changed"])))
    return out


async def test_history_interleaves_stages_and_the_events_they_caused(api: Api) -> None:
    eid = (await (await api.create(title="<script>x</script>")).json())["id"]
    plan = (await (await api.client.get(f"/__admin/engagements/{eid}/pipeline")).json())["stages"]
    transcript_at = parse_iso(plan["transcript"]["at"])
    await api.client.post("/__admin/clock/set", json={"now": format_ms(transcript_at)})

    body = await history(api, eid)
    assert body["engagement"]["id"] == eid and body["engagement"]["title"] == "<script>x</script>"
    assert body["engagement"]["external_id"] == "call-20260513-001"
    assert body["engagement"]["deleted"] is False and body["finished"] is False
    assert body["now"] == format_ms(transcript_at)
    assert outline(body)[:7] == [
        ("request", "POST /api/v2/engagements"),
        ("event", "v1.engagement.created", ""),
        ("stage", "processing", "done"),
        ("event", "v1.engagement.updated", "processing_status,updated_at"),
        ("stage", "transcript", "done"),
        ("event", "v1.engagement.updated", "updated_at"),
        ("event", "v1.engagement.transcript_timeline.completed", ""),
    ]
    # The insight stages are still ahead, in whichever order their jitter put them.
    assert sorted(outline(body)[7:]) == [("stage", "action_items", "pending"), ("stage", "signals", "pending")]
    steps = body["steps"]
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    assert steps[0]["at"] == format_ms(T0) and steps[0]["external_id"] == "call-20260513-001"
    # Stage times are the plan's; event times are when the stage ran; events carry their ids.
    assert {s["stage"]: s["at"] for s in steps if s["kind"] == "stage"} == {k: v["at"] for k, v in plan.items()}
    assert steps[4]["at"] == steps[5]["at"] == steps[6]["at"] == format_ms(transcript_at)
    events = (await (await api.client.get(f"/__admin/events?engagement_id={eid}")).json())["data"]
    assert [s["event_id"] for s in steps if s["kind"] == "event"] == [e["id"] for e in events]


async def test_failed_transcription_shows_skipped_stages(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    await api.client.post(f"/__admin/engagements/{eid}/pipeline", json={"transcription": "failed"})
    await api.advance(3600)
    body = await history(api, eid)
    assert body["finished"] is True and body["engagement"]["processing_status"] == "FAILED"
    stages = {s["stage"]: s["state"] for s in body["steps"] if s["kind"] == "stage"}
    assert stages == {"processing": "done", "transcript": "done", "action_items": "skipped", "signals": "skipped"}
    assert [s["type"] for s in body["steps"] if s["kind"] == "event"][-1] == "v1.engagement.updated"


async def test_a_deleted_engagement_keeps_its_history(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    await api.advance(10)
    assert (await api.client.delete(f"/__admin/engagements/{eid}")).status == 204
    body = await history(api, eid)
    assert body["engagement"]["id"] == eid and body["engagement"]["deleted"] is True
    assert body["engagement"]["workspace_id"] == "wrks_local"
    assert [s.get("type") for s in body["steps"]] == [
        None,
        "v1.engagement.created",
        "v1.engagement.updated",
        "v1.engagement.deleted",
    ]


async def test_unknown_engagement_is_a_problem_404(api: Api) -> None:
    body = await problem(
        await api.client.get("/__admin/engagements/ngmt_01KK97DZX0EKSV1FGNSXQYMZ07/history"), 404, "not_found"
    )
    assert "ngmt_01KK97DZX0EKSV1FGNSXQYMZ07" in body["detail"]


async def test_history_names_the_request_that_created_the_engagement_and_each_replay(api: Api) -> None:
    created = await api.create()
    eid = (await created.json())["id"]
    await api.advance(30)
    replayed = await api.create()
    assert replayed.status == 200
    await api.create(external_id="someone-else")  # another engagement's request is not in this history
    requests = [s for s in (await history(api, eid))["steps"] if s["kind"] == "request"]
    assert requests == [
        {
            "kind": "request",
            "at": format_ms(T0),
            "route": "POST /api/v2/engagements",
            "status": 201,
            "request_id": created.headers["X-Request-Id"],
            "replay": False,
            "external_id": "call-20260513-001",
            "source_system": "my-dialer",
        },
        {
            "kind": "request",
            "at": format_ms(T0 + 30_000),
            "route": "POST /api/v2/engagements",
            "status": 200,
            "request_id": replayed.headers["X-Request-Id"],
            "replay": True,
            "external_id": "call-20260513-001",
            "source_system": "my-dialer",
        },
    ]


async def test_failed_creates_are_not_recorded(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    bad = await api.create(external_id="x", media_url="http://insecure.example.com/a.mp3")
    assert bad.status == 422
    steps = (await history(api, eid))["steps"]
    assert [s["status"] for s in steps if s["kind"] == "request"] == [201]


async def test_without_a_recorded_request_the_history_still_starts_at_creation(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    body = engagement_history(api.emulator, eid)  # e.g. created by a path the recorder does not watch
    assert body["steps"][0] == {
        "kind": "request",
        "at": format_ms(T0),
        "route": "POST /api/v2/engagements",
        "status": 201,
        "request_id": None,
        "replay": False,
        "external_id": "call-20260513-001",
        "source_system": "my-dialer",
    }


async def test_a_create_whose_answer_a_fault_cut_short_shows_no_request_id(api: Api) -> None:
    """The engagement exists (phase "after" ran the request), but the client never got the full answer: the
    history starts at the creation time without claiming a request the client could correlate."""
    fault = {"method": "POST", "path": "/api/v2/engagements", "action": "truncate", "phase": "after"}
    assert (await api.client.post("/__admin/faults", json=fault)).status == 201
    resp = await api.create()
    assert resp.status == 201
    resp.close()  # half a body, then the connection closes
    (event,) = [e async for e in _events(api, "v1.engagement.created")]
    body = await history(api, event["data"]["object"]["id"])
    assert [(s["status"], s["request_id"]) for s in body["steps"] if s["kind"] == "request"] == [(201, None)]


async def _events(api: Api, event_type: str) -> Any:
    page = await (await api.client.get("/__admin/events", params={"type": event_type})).json()
    for event in page["data"]:
        yield event
