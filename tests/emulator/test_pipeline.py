"""The staged pipeline on the virtual clock (pipeline.md §2–5) and its deterministic content (api.md §7)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_askelephant.core.timefmt import parse_iso
from tests.conftest import T0, Api, frozen_settings, problem, seed_call

STATUS_ORDER = {"PENDING": 0, "PROCESSING": 1, "COMPLETED": 2, "FAILED": 2}


async def stage_times(api: Api, engagement_id: str) -> dict[str, int]:
    state = await (await api.client.get(f"/__admin/engagements/{engagement_id}/pipeline")).json()
    return {stage: parse_iso(info["at"]) for stage, info in state["stages"].items()}


async def events_for(api: Api, engagement_id: str) -> list[dict[str, Any]]:
    body = await (await api.client.get(f"/__admin/events?engagement_id={engagement_id}")).json()
    return body["data"]


async def full(api: Api, engagement_id: str) -> dict[str, Any]:
    return await (await api.get(engagement_id, expand="action_items,signals,transcript")).json()


async def timeline_status(api: Api, engagement_id: str) -> int:
    return (await api.call("GET", f"/api/v2/engagements/{engagement_id}/transcript_timeline")).status


async def test_walk_a_call_through_every_stage(api: Api) -> None:
    created = await (await api.create()).json()
    eid = created["id"]
    times = await stage_times(api, eid)
    p, t, a, s = times["processing"], times["transcript"], times["action_items"], times["signals"]
    assert 2000 <= p - T0 <= 5000
    assert 30_000 <= a - t <= 90_000 and 60_000 <= s - t <= 180_000

    async def at(ms: int) -> dict[str, Any]:
        now = api.emulator.clock.now_ms()
        await api.advance((ms - now) / 1000)
        return await full(api, eid)

    pending = await at(p - 1)
    assert pending["processing_status"] == "PENDING"
    assert await timeline_status(api, eid) == 404

    processing = await at(p)
    assert processing["processing_status"] == "PROCESSING"
    assert (processing["end_at"], processing["duration_seconds"]) == (pending["end_at"], pending["duration_seconds"])
    duration = processing["duration_seconds"]
    assert 60 <= duration <= 1200
    assert t - T0 == round(min(120, max(20, 0.15 * duration)) * 1000)
    assert parse_iso(processing["end_at"]) - parse_iso(processing["start_at"]) == duration * 1000
    assert processing["transcript"] is None and processing["action_items"] == [] and processing["signals"] == []

    transcribed = await at(t)
    assert transcribed["processing_status"] == "PROCESSING"
    assert transcribed["transcript"].startswith("Alice Smith: ")
    assert transcribed["action_items"] == [] and transcribed["signals"] == []
    assert await timeline_status(api, eid) == 200

    first_insight = await at(min(a, s))
    assert bool(first_insight["action_items"]) == (a <= s)
    assert bool(first_insight["signals"]) == (s <= a)

    done = await at(max(a, s))
    assert done["processing_status"] == "COMPLETED"
    assert done["action_items"] and done["signals"]
    assert parse_iso(done["updated_at"]) == max(a, s)


async def test_events_fire_in_causal_order_with_stage_timestamps(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    times = await stage_times(api, eid)
    await api.advance(600)
    events = await events_for(api, eid)
    kinds = [(e["type"], tuple(e["data"]["previous_attributes"])) for e in events]
    later_insight = "signals" if times["signals"] >= times["action_items"] else "action_items"
    assert kinds == [
        ("v1.engagement.created", ()),
        ("v1.engagement.updated", ("processing_status", "updated_at")),
        ("v1.engagement.updated", ("updated_at",)),
        ("v1.engagement.transcript_timeline.completed", ()),
        ("v1.engagement.updated", ("updated_at",)),
        ("v1.engagement.updated", ("processing_status", "updated_at")),
    ]
    stamps = [parse_iso(e["created_at"]) for e in events]
    assert stamps == [
        T0,
        times["processing"],
        times["transcript"],
        times["transcript"],
        min(times["action_items"], times["signals"]),
        times[later_insight],
    ]
    transcript_event = events[3]
    assert transcript_event["data"]["object"]["processing_status"] == "PROCESSING"
    assert transcript_event["data"]["object"]["external_url"] == seed_call()["external_url"]
    assert events[1]["data"]["previous_attributes"]["processing_status"] == "PENDING"
    assert events[0]["data"]["object"]["end_at"] == events[1]["data"]["object"]["end_at"] is not None
    for e in events:
        assert e["id"].startswith("evt_") and e["api_version"] == "v1" and e["workspace_id"] == "wrks_local"
        assert "action_items" not in e["data"]["object"]


async def test_insights_are_grounded_in_the_transcript(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    await api.advance(600)
    body = await full(api, eid)
    timeline = await (await api.call("GET", f"/api/v2/engagements/{eid}/transcript_timeline")).json()
    assert timeline["object"] == "transcript_timeline" and timeline["engagement_id"] == eid
    assert [s["name"] for s in timeline["speakers"]] == ["Alice Smith", "Jane Doe"]
    assert timeline["speakers"][0]["is_owner"] is True
    texts = [e["text"] for e in timeline["entries"]]
    assert body["transcript"].splitlines()[0] == f"Alice Smith: {texts[0]}"
    for sig in body["signals"]:
        entry = next(
            e
            for e in timeline["entries"]
            if e["speaker_index"] == sig["speaker_index"] and e["start_seconds"] == sig["start_seconds"]
        )
        assert sig["quote"] in entry["text"]
        assert 0 <= sig["confidence"] <= 1 and sig["id"].startswith("sgnl_")
    for item in body["action_items"]:
        assert item["id"].startswith("actitm_") and item["engagement_id"] == eid
        assert any(item["title"].lower() in t.lower() for t in texts)
    means: dict[int, list[float]] = {}
    for e in timeline["entries"]:
        means.setdefault(e["speaker_index"], []).append(e["sentiment"])
    expected = round(sum(sum(v) / len(v) for v in means.values()) / len(means), 3)
    assert timeline["overall_sentiment"] == expected


async def test_submitted_timeline_becomes_the_transcript(api: Api) -> None:
    payload = seed_call(
        transcript_timeline={
            "speakers": [
                {"name": "Alice Smith", "email": "owner@example.com", "is_owner": True},
                {"name": "Jane Doe", "phone": "+14155550100"},
            ],
            "entries": [
                {
                    "speaker_index": 1,
                    "start_seconds": 4.5,
                    "end_seconds": 7.9,
                    "text": "What does annual billing cost?",
                },
                {
                    "speaker_index": 0,
                    "start_seconds": 0.0,
                    "end_seconds": 4.2,
                    "text": "Hi Jane, thanks for taking the call.",
                },
                {
                    "speaker_index": 0,
                    "start_seconds": 8.0,
                    "end_seconds": 12.3,
                    "text": "I'll send the pricing sheet today.",
                },
            ],
        }
    )
    del payload["media_url"]
    eid = (await (await api.create(payload)).json())["id"]
    await api.advance(600)
    body = await full(api, eid)
    assert body["duration_seconds"] == 13
    assert body["transcript"] == (
        "Alice Smith: Hi Jane, thanks for taking the call.\n"
        "Jane Doe: What does annual billing cost?\n"
        "Alice Smith: I'll send the pricing sheet today."
    )
    assert body["signals"][0]["type"] == "pricing"
    assert body["action_items"][0]["title"] == "Send the pricing sheet today"
    timeline = await (await api.call("GET", f"/api/v2/engagements/{eid}/transcript_timeline")).json()
    assert timeline["speakers"][0]["user_id"] == "usr_local"
    assert timeline["overall_sentiment"] is None  # no sentiment was submitted


async def test_a_submitted_transcript_is_supplementary_and_the_media_is_still_transcribed(api: Api) -> None:
    """Issue 20 §6 (create engagement: stored alongside the recording, which is still transcribed)."""
    submitted = "Jane Doe: We are also looking at Gong.\nAlice Smith: Let me follow up Friday."
    eid = (await (await api.create(transcript=submitted)).json())["id"]
    twin = (await (await api.create(seed_call(external_id="twin"))).json())["id"]
    await api.advance(600)
    body, plain = await full(api, eid), await full(api, twin)
    assert body["transcript"] != submitted and "Gong" not in body["transcript"]  # the media's transcription
    assert body["transcript"].startswith("Alice Smith: ") and len(body["transcript"].splitlines()) > 2
    assert body["signals"] and plain["signals"]
    stored = next(
        e for w in (await (await api.client.get("/__admin/state")).json())["workspaces"] for e in w["engagements"]
        if e["id"] == eid
    )  # fmt: skip
    assert stored["submitted_transcript"] == submitted


async def test_call_without_participants_still_has_a_transcript(api: Api) -> None:
    eid = (await (await api.create(participants=[])).json())["id"]
    await api.advance(600)
    body = await full(api, eid)
    assert body["transcript"].startswith("Local Owner: ")
    assert body["action_items"] and body["signals"]


async def same_seed_run(make_api: Any, seed: int) -> tuple[Any, ...]:
    api = await make_api(frozen_settings(seed=seed))
    eid = (await (await api.create()).json())["id"]
    await api.advance(600)
    body = await full(api, eid)
    events = await events_for(api, eid)
    return eid, body, [e["id"] for e in events], [e["created_at"] for e in events]


async def test_same_seed_same_timeline_different_seed_different(make_api: Any) -> None:
    first = await same_seed_run(make_api, 7)
    second = await same_seed_run(make_api, 7)
    other = await same_seed_run(make_api, 8)
    assert first == second
    assert first[1]["transcript"] != other[1]["transcript"]
    assert first[0] != other[0]


async def test_transcription_failure(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    resp = await api.client.post(f"/__admin/engagements/{eid}/pipeline", json={"transcription": "failed"})
    assert resp.status == 200, await resp.text()
    await api.advance(600)
    body = await full(api, eid)
    assert body["processing_status"] == "FAILED"
    assert body["transcript"] is None and body["action_items"] == [] and body["signals"] == []
    assert await timeline_status(api, eid) == 404
    types = [e["type"] for e in await events_for(api, eid)]
    assert "v1.engagement.transcript_timeline.completed" not in types
    assert types.count("v1.engagement.updated") == 2  # processing, then FAILED


async def test_no_insights_and_failed_insight_stage(api: Api) -> None:
    none_eid = (await (await api.create(external_id="none")).json())["id"]
    fail_eid = (await (await api.create(external_id="fail")).json())["id"]
    await api.client.post(f"/__admin/engagements/{none_eid}/pipeline", json={"action_items": [], "signals": []})
    await api.client.post(f"/__admin/engagements/{fail_eid}/pipeline", json={"signals": "failed"})
    await api.advance(600)
    none = await full(api, none_eid)
    assert none["processing_status"] == "COMPLETED" and none["action_items"] == [] and none["signals"] == []
    failed = await full(api, fail_eid)
    assert failed["processing_status"] == "FAILED" and failed["action_items"] and failed["signals"] == []
    assert failed["transcript"]


async def test_canned_insights_and_delays(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    resp = await api.client.post(
        f"/__admin/engagements/{eid}/pipeline",
        json={
            "action_items": [{"title": "Call back Tuesday"}],
            "signals": [{"type": "risk", "label": "Budget freeze"}],
            "delays": {"transcript": 300, "action_items": 600, "signals": 900},
        },
    )
    state = await resp.json()
    assert parse_iso(state["stages"]["transcript"]["at"]) == T0 + 300_000
    assert parse_iso(state["stages"]["signals"]["at"]) == T0 + 1_200_000
    await api.advance(299)
    assert (await full(api, eid))["transcript"] is None
    await api.advance(1)
    assert (await full(api, eid))["transcript"]
    await api.advance(899)
    assert (await full(api, eid))["processing_status"] == "PROCESSING"
    await api.advance(1)
    body = await full(api, eid)
    assert body["processing_status"] == "COMPLETED"
    assert [a["title"] for a in body["action_items"]] == ["Call back Tuesday"]
    assert body["action_items"][0]["engagement_id"] == eid and body["action_items"][0]["id"].startswith("actitm_")
    assert [(s["type"], s["label"]) for s in body["signals"]] == [("risk", "Budget freeze")]


async def test_delays_never_reorder_stages(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    state = await (
        await api.client.post(
            f"/__admin/engagements/{eid}/pipeline", json={"delays": {"processing": 500, "transcript": 10}}
        )
    ).json()
    stages = {k: parse_iso(v["at"]) for k, v in state["stages"].items()}
    assert stages["processing"] == T0 + 500_000 and stages["transcript"] == stages["processing"]


async def test_stages_due_at_one_instant_run_in_the_order_they_were_planned(api: Api) -> None:
    """Later stages are queued when the stage before them has run, in the places reserved when the run was
    planned: with every stage of two calls due at one instant, the call re-planned first runs all its stages
    first, as when all four stages were queued at once (this test passes on that design too)."""
    a, b = [(await (await api.create(external_id=f"call-{n}")).json())["id"] for n in range(2)]
    zero = {"delays": {"processing": 5, "transcript": 0, "action_items": 0, "signals": 0}}
    for eid in (b, a):  # b re-planned first: its places come before a's
        assert (await api.client.post(f"/__admin/engagements/{eid}/pipeline", json=zero)).status == 200
    await api.advance(5)
    body = await (await api.client.get("/__admin/events?limit=1000")).json()
    stages = [
        (e["data"]["object"]["id"], e["type"], e["data"]["object"].get("processing_status"))
        for e in body["data"]
        if e["type"] != "v1.engagement.created" and e["data"]["object"].get("object") == "engagement"
    ]
    per_call = [
        ("v1.engagement.updated", "PROCESSING"),
        ("v1.engagement.transcript_timeline.completed", "PROCESSING"),
        ("v1.engagement.updated", "COMPLETED"),
    ]
    assert stages == [(b, *x) for x in per_call] + [(a, *x) for x in per_call]
    assert len(api.emulator.scheduler) == 0


async def test_a_stage_that_raises_does_not_stop_the_stages_after_it(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: once stages were queued one after another, a stage that raised never queued the next and the
    call stayed PROCESSING for good (with all four queued at once, the later ones still ran)."""
    pipeline = api.emulator.pipeline

    def boom(run: object, e: object) -> None:
        raise RuntimeError("a bug in one stage")

    monkeypatch.setattr(pipeline, "_stage_processing", boom)
    eid = (await (await api.create()).json())["id"]
    await api.advance(3600)
    assert [name for name, _ in api.emulator.scheduler.failures] == [f"processing:{eid}"]
    api.emulator.scheduler.failures.clear()
    body = await full(api, eid)
    assert body["processing_status"] == "COMPLETED" and body["transcript"] and body["action_items"]


async def test_webhook_suppress_drops_only_the_transcript_event(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    await api.client.post(f"/__admin/engagements/{eid}/pipeline", json={"webhook": "suppress"})
    await api.advance(600)
    types = [e["type"] for e in await events_for(api, eid)]
    assert "v1.engagement.transcript_timeline.completed" not in types
    assert (await full(api, eid))["transcript"]


async def test_overriding_a_stage_that_ran_is_409(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    await api.advance(130)  # past the transcript stage (at most 120 s)
    resp = await api.client.post(f"/__admin/engagements/{eid}/pipeline", json={"transcription": "failed"})
    body = await problem(resp, 409, "conflict")
    assert "transcript" in body["detail"]
    ok = await api.client.post(f"/__admin/engagements/{eid}/pipeline", json={"signals": []})
    assert ok.status == 200
    await api.advance(600)
    done = await api.client.post(f"/__admin/engagements/{eid}/pipeline", json={"signals": []})
    await problem(done, 409, "conflict")


async def test_pipeline_override_validation(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    resp = await api.client.post(
        f"/__admin/engagements/{eid}/pipeline", json={"transcription": "maybe", "delays": {"signals": -1}}
    )
    body = await problem(resp, 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"transcription", "delays.signals"}
    await problem(await api.client.post("/__admin/engagements/ngmt_nope/pipeline", json={}), 404, "not_found")


async def test_pipeline_rules_apply_at_create(api: Api) -> None:
    resp = await api.client.post(
        "/__admin/pipeline-rules",
        json={
            "match": {"external_id": "wavv-call-*"},
            "count": 1,
            "pipeline": {"transcription": "failed"},
            "duration_seconds": 400,
        },
    )
    assert resp.status == 201
    eid = (await (await api.create(external_id="wavv-call-1")).json())["id"]
    other = (await (await api.create(external_id="wavv-call-2")).json())["id"]
    await api.advance(600)
    assert (await full(api, eid))["processing_status"] == "FAILED"
    assert (await full(api, eid))["duration_seconds"] == 400
    assert (await full(api, other))["processing_status"] == "COMPLETED"
    rules = await (await api.client.get("/__admin/pipeline-rules")).json()
    assert rules["data"] == []  # used up


@pytest.mark.parametrize(
    ("media", "code"), [("unreachable", "media_unreachable"), ("unsupported_media_type", "unsupported_media_type")]
)
async def test_media_rules_reject_and_store_nothing(api: Api, media: str, code: str) -> None:
    await api.client.post(
        "/__admin/pipeline-rules", json={"match": {"media_url": "https://recordings.example.com/*"}, "media": media}
    )
    body = await problem(await api.create(), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("media_url", code)]
    listing = await (await api.call("GET", "/api/v2/engagements")).json()
    assert listing["data"] == []


async def test_delete_emits_deleted_and_forgets(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    assert (await api.client.delete(f"/__admin/engagements/{eid}")).status == 204
    await problem(await api.get(eid), 404, "not_found")
    assert [e["type"] for e in await events_for(api, eid)][-1] == "v1.engagement.deleted"
    await api.advance(600)  # its stages must not run on a deleted engagement
    assert [e["type"] for e in await events_for(api, eid)][-1] == "v1.engagement.deleted"


actions = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 5)),
        st.tuples(st.just("advance"), st.floats(0, 200)),
    ),
    min_size=1,
    max_size=15,
)


@given(actions)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_statuses_are_monotonic_and_timestamps_consistent(make_api: Any, steps: list[tuple[str, Any]]) -> None:
    api = await make_api()
    last: dict[str, dict[str, Any]] = {}
    for kind, arg in steps:
        if kind == "create":
            await api.create(external_id=f"call-{arg}")
        else:
            await api.advance(arg)
        page = await (await api.call("GET", "/api/v2/engagements?limit=100&expand=action_items,signals")).json()
        for e in page["data"]:
            assert e["created_at"] <= e["updated_at"]
            assert e["start_at"] <= e["end_at"]
            before = last.get(e["id"])
            if before:
                assert STATUS_ORDER[e["processing_status"]] >= STATUS_ORDER[before["processing_status"]]
                assert e["updated_at"] >= before["updated_at"]
                assert len(e["action_items"]) >= len(before["action_items"])
                assert len(e["signals"]) >= len(before["signals"])
            last[e["id"]] = e
    assert api.emulator.scheduler.failures == []


async def test_scaled_time_completes_without_any_admin_call(make_api: Any) -> None:
    """--time-scale: the clock runs by itself; 600 virtual seconds pass in half a real second at 1200×."""
    api = await make_api(frozen_settings(time_scale=1200.0))
    await api.client.post("/__admin/webhook-endpoints", json={"url": "http://x/__admin/sink/live"})
    eid = (await (await api.create()).json())["id"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    body = await full(api, eid)
    while body["processing_status"] != "COMPLETED":
        assert loop.time() < deadline, f"still {body['processing_status']} after 10 s of wall time"
        await asyncio.sleep(0.05)  # waiting for a condition, bounded by the deadline above
        body = await full(api, eid)
    assert body["action_items"] and body["signals"] and body["transcript"]
    sink = await (await api.client.get("/__admin/sink/live/requests")).json()
    types = [json.loads(r["body"])["type"] for r in sink["data"]]
    assert "v1.engagement.transcript_timeline.completed" in types


@pytest.mark.parametrize(
    "rule",
    [{}, {"match": {}}, {"pipeline": {}}, {"match": {"external_id": "*"}, "count": 3, "pipeline": {"delays": {}}}],
)
async def test_a_rule_that_changes_nothing_is_refused(api: Api, rule: dict[str, Any]) -> None:
    """Issue #19: `{}` matched every create and changed nothing but the media check (--media-fetch went silent)."""
    body = await problem(await api.client.post("/__admin/pipeline-rules", json=rule), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("pipeline", "required")]
    assert (await (await api.client.get("/__admin/pipeline-rules")).json())["data"] == []


async def test_a_rule_says_when_it_overrides_the_media_fetch(make_api: Any) -> None:
    for media_fetch in (False, True):
        api: Api = await make_api(frozen_settings(media_fetch=media_fetch))
        created = await api.client.post("/__admin/pipeline-rules", json={"media": "ok"})
        assert created.status == 201 and (await created.json())["skips_media_fetch"] is media_fetch
        listed = (await (await api.client.get("/__admin/pipeline-rules")).json())["data"]
        assert [r["skips_media_fetch"] for r in listed] == [media_fetch]
