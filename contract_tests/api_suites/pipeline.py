"""Processing as seen through GET (pipeline.md §2–§3, api.md §6.4, §7), driven by the emulator's clock."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import (
    assert_not_regressed,
    created,
    get_engagement,
    minimal_payload,
    parse_time,
)
from contract_tests.checks import Budget, api_check, hypothesis_settings
from contract_tests.target import ApiClient, Target

INSIGHTS = "action_items,signals,transcript"


def timeline(target: Target, client: ApiClient, engagement_id: str) -> dict[str, Any] | None:
    """The transcript timeline, or None while it is 404 (not ready)."""
    resp = client.get(f"/v2/engagements/{engagement_id}/transcript_timeline")
    if resp.status == 404:
        expect.problem(target, resp, 404)
        return None
    expect.status(resp, 200)
    body: dict[str, Any] = expect.json_body(target, resp, "transcript_timeline")
    assert body["engagement_id"] == engagement_id, f"{resp.describe()}: timeline of {body['engagement_id']}"
    return body


def assert_insights_grounded(engagement: dict[str, Any], tl: dict[str, Any]) -> None:
    """Each insight belongs to the engagement; each signal quotes the entry it points at (api.md §7)."""
    for item in engagement["action_items"]:
        assert item["engagement_id"] == engagement["id"], f"action item {item['id']} names {item['engagement_id']}"
    for signal in engagement["signals"]:
        assert signal["engagement_id"] == engagement["id"], f"signal {signal['id']} names {signal['engagement_id']}"
        entries = [
            e
            for e in tl["entries"]
            if e["speaker_index"] == signal["speaker_index"]
            and math.isclose(e["start_seconds"], signal["start_seconds"])
        ]
        assert any(signal["quote"] in e["text"] for e in entries), (
            f"signal {signal['id']} quote {signal['quote']!r} is not in the entry at "
            f"speaker {signal['speaker_index']}, {signal['start_seconds']} s"
        )


@api_check("pipeline", needs_admin=True)
def check_pipeline_progresses_monotonically(target: Target, budget: Budget) -> None:
    """Across clock advances: status only moves forward, insights only grow, the timeline stays."""
    client = target.new_workspace().client

    @given(steps=st.lists(st.sampled_from([1, 3, 10, 30, 60, 120, 600]), min_size=1, max_size=8))
    @hypothesis_settings(budget, examples=max(3, budget.max_examples // 3))
    def prop(steps: list[int]) -> None:
        first = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))
        previous = get_engagement(target, client, first["id"], expand=INSIGHTS)
        had_timeline = False
        for seconds in [*steps, 3600]:
            target.advance(seconds)
            now = get_engagement(target, client, first["id"], expand=INSIGHTS)
            what = f"{first['id']} after +{seconds}s"
            assert_not_regressed(previous, now, what)
            for name in ("action_items", "signals"):
                before = {i["id"] for i in previous[name]}
                assert before <= {i["id"] for i in now[name]}, (
                    f"{what}: {name} lost {before - {i['id'] for i in now[name]}}"
                )
            if previous["transcript"] is not None:
                assert now["transcript"] == previous["transcript"], f"{what}: transcript changed once written"
            tl = timeline(target, client, first["id"])
            assert not (had_timeline and tl is None), f"{what}: transcript timeline disappeared"
            had_timeline = tl is not None
            previous = now
        final = previous
        assert final["processing_status"] == "COMPLETED", f"{first['id']}: not COMPLETED an hour later"
        reread = get_engagement(target, client, first["id"], expand=INSIGHTS)
        assert reread["processing_status"] == "COMPLETED", (
            f"{first['id']}: COMPLETED, then {reread['processing_status']}"
        )
        tl = timeline(target, client, first["id"])
        assert tl is not None, f"{first['id']}: COMPLETED without a transcript timeline"
        expect.choice(target, bool(final["transcript"]), f"{first['id']}: COMPLETED with an empty transcript")
        expect.choice(target, bool(final["action_items"]) and bool(final["signals"]), f"{first['id']}: no insights")
        assert_insights_grounded(final, tl)
        duration = final["duration_seconds"]
        span = (parse_time(final["end_at"]) - parse_time(final["start_at"])).total_seconds()
        expect.choice(
            target,
            math.isclose(span, duration),
            f"{first['id']}: end_at - start_at = {span}, duration {duration}",
        )

    prop()


@api_check("pipeline", needs_admin=True)
def check_transcript_import_becomes_timeline(target: Target, budget: Budget) -> None:
    """A transcript_timeline-only create ends COMPLETED with that timeline, sorted, ceil duration."""
    client = target.new_workspace().client
    entries = [
        {
            "speaker_index": 1,
            "start_seconds": 4.5,
            "end_seconds": 7.9,
            "text": "Sure, happy to chat.",
            "sentiment": 0.5,
        },
        {
            "speaker_index": 0,
            "start_seconds": 0.0,
            "end_seconds": 4.2,
            "text": "Hi Jane, thanks for taking the call.",
        },
    ]
    speakers = [
        {"name": "Alice Smith", "email": "alice@example.com", "is_owner": True},
        {"name": "Jane Doe", "phone": "+14155550100"},
    ]
    payload = minimal_payload(
        target, target.fresh_external_id(), transcript_timeline={"speakers": speakers, "entries": entries}
    )
    payload.pop("media_url")
    engagement = created(target, client.create_engagement(payload))
    target.advance(3600)
    final = get_engagement(target, client, engagement["id"], expand=INSIGHTS)
    assert final["processing_status"] == "COMPLETED", f"{engagement['id']}: {final['processing_status']} an hour later"
    assert final["duration_seconds"] == 8, f"duration {final['duration_seconds']}, want ceil(7.9) = 8 (api.md §5.5)"
    tl = timeline(target, client, engagement["id"])
    assert tl is not None, "timeline missing for a transcript import"
    assert [e["text"] for e in tl["entries"]] == [entries[1]["text"], entries[0]["text"]], "entries not sorted by start"
    assert [s["name"] for s in tl["speakers"]] == ["Alice Smith", "Jane Doe"], f"speakers {tl['speakers']}"
