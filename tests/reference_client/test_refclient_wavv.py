"""WAVV adapter: the seed's mapping, edge cases, the lifecycle table, and a property over all valid calls."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pydantic
import pytest
from hypothesis import given

from reference_client import (
    WAVV_LIFECYCLE,
    ApiAction,
    EngagementCreateIn,
    TimelineEntryIn,
    TimelineSpeakerIn,
    TranscriptTimelineIn,
    WavvCall,
    WavvCallNotReady,
    WavvMoment,
    api_action_for,
    engagement_from_wavv,
)
from tests.reference_client.refclient_strategies import utc_ms, wavv_calls

# dialer-flow.md §6, verbatim.
SEED_PAYLOAD: dict[str, Any] = {
    "type": "CALL",
    "title": "WAVV call with Jane Doe",
    "source_system": "wavv",
    "external_id": "wavv-call-12345",
    "media_url": "https://recordings.example.com/wavv/12345.mp3",
    "external_url": "wavv://call/12345",
    "run_workflows": True,
    "start_at": "2026-03-09T11:51:40Z",
    "participants": [
        {"name": "Alice Smith", "email": "owner@example.com", "is_owner": True},
        {"name": "Jane Doe", "email": "jane@customer.com", "phone": "+14155550100"},
    ],
}


def seed_call(**overrides: Any) -> WavvCall:
    data: dict[str, Any] = {
        "call_id": "12345",
        "agent": {"id": "agent-7", "name": "Alice Smith", "email": "owner@example.com"},
        "lead": {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@customer.com",
            "phone": "+14155550100",
        },
        "direction": "outbound",
        "started_at": "2026-03-09T11:51:40Z",
        "answered_at": "2026-03-09T11:51:52Z",
        "ended_at": "2026-03-09T11:58:20Z",
        "recording_url": "https://recordings.example.com/wavv/12345.mp3",
    }
    data.update(overrides)
    return WavvCall.model_validate(data)


def test_seed_call_maps_to_the_documented_payload():
    payload = engagement_from_wavv(seed_call()).to_wire()

    assert datetime.fromisoformat(payload.pop("start_at")) == datetime.fromisoformat(SEED_PAYLOAD["start_at"])
    assert payload == {k: v for k, v in SEED_PAYLOAD.items() if k != "start_at"}


def test_disposition_goes_into_the_title():
    request = engagement_from_wavv(seed_call(disposition="Interested"))

    assert request.title == "WAVV call with Jane Doe (Interested)"


def test_lead_falls_back_to_email_or_phone_and_may_be_absent():
    by_phone = engagement_from_wavv(seed_call(lead={"phone": "+14155550100"}))
    anonymous = engagement_from_wavv(seed_call(lead={"first_name": "  ", "email": ""}))
    no_lead = engagement_from_wavv(seed_call(lead=None))

    assert by_phone.title == "WAVV call with +14155550100"
    assert by_phone.participants is not None and by_phone.participants[1].phone == "+14155550100"
    assert anonymous.title == "WAVV call" and anonymous.participants is not None
    assert len(anonymous.participants) == 1
    assert no_lead.participants is not None and [p.is_owner for p in no_lead.participants] == [True]


def test_long_lead_names_are_cut_to_the_participant_limit():
    request = engagement_from_wavv(seed_call(lead={"first_name": "A" * 200, "last_name": "B" * 200}))

    assert request.participants is not None
    assert request.participants[1].name == "A" * 200 + " " + "B" * 54


def test_external_url_prefers_explicit_then_detail_url_then_deep_link():
    detail = "https://app.wavv.com/calls/12345"

    assert engagement_from_wavv(seed_call()).external_url == "wavv://call/12345"
    assert engagement_from_wavv(seed_call(detail_url=detail)).external_url == detail
    assert engagement_from_wavv(seed_call(detail_url=detail), external_url="tel:+1").external_url == "tel:+1"


def test_no_recording_yet_means_nothing_to_submit():
    with pytest.raises(WavvCallNotReady, match="no recording yet"):
        engagement_from_wavv(seed_call(recording_url=None))


def test_transcript_only_call_is_submitted_with_its_timeline():
    timeline = TranscriptTimelineIn(
        speakers=[TimelineSpeakerIn(name="Alice Smith", is_owner=True), TimelineSpeakerIn(name="Jane Doe")],
        entries=[TimelineEntryIn(speaker_index=1, start_seconds=0, end_seconds=2.5, text="Hello?")],
    )

    payload = engagement_from_wavv(seed_call(recording_url=None), transcript_timeline=timeline).to_wire()

    assert "media_url" not in payload
    assert payload["transcript_timeline"]["entries"][0] == {
        "speaker_index": 1,
        "start_seconds": 0.0,
        "end_seconds": 2.5,
        "text": "Hello?",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"call_id": "12 345"},
        {"call_id": "../x"},
        {"agent": {"email": "not-an-email"}},
        {"agent": {"email": "a@b@c"}},
        {"agent": {"name": " "}},
        {"agent": {"name": "x" * 256, "email": "a@b.co"}},
        {"lead": {"phone": "1" * 51}},
        {"started_at": "2026-03-09T11:51:40"},
        {"ended_at": "2026-03-09T11:00:00Z"},
    ],
)
def test_invalid_wavv_calls_are_refused(overrides):
    with pytest.raises(pydantic.ValidationError):
        seed_call(**overrides)


def test_lifecycle_covers_every_moment_and_names_the_api_calls():
    assert set(WAVV_LIFECYCLE) == set(WavvMoment)
    creates = {m for m, step in WAVV_LIFECYCLE.items() if step.action is ApiAction.CREATE_ENGAGEMENT}
    assert creates == {WavvMoment.RECORDING_AVAILABLE, WavvMoment.CALL_RESYNCED}
    assert api_action_for("transcript_webhook").action is ApiAction.WAIT_FOR_INSIGHTS
    assert api_action_for(WavvMoment.DISPOSITION_SAVED).action is ApiAction.NONE
    with pytest.raises(ValueError):
        api_action_for("call_exploded")


def _nulls(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_nulls(v) for v in value.values())
    if isinstance(value, list):
        return any(_nulls(v) for v in value)
    return False


@given(wavv_calls())
def test_every_valid_wavv_call_maps_to_a_valid_request(call: WavvCall):
    payload = engagement_from_wavv(call).to_wire()

    assert not _nulls(payload)
    assert EngagementCreateIn.model_validate(payload).to_wire() == payload
    json.dumps(payload, ensure_ascii=False).encode("utf-8")
    assert (payload["source_system"], payload["external_id"]) == ("wavv", f"wavv-call-{call.call_id}")
    assert payload["external_url"] == f"wavv://call/{call.call_id}"
    assert datetime.fromisoformat(payload["start_at"]) == utc_ms(call.started_at)
    assert 1 <= len(payload["title"]) <= 500
    owner, *others = payload["participants"]
    assert owner["is_owner"] is True and not any(p.get("is_owner") for p in others)
    assert owner["email"] == call.agent.email
    for participant in payload["participants"]:
        assert {"name", "email", "phone"} & participant.keys()
        assert len(participant.get("name", "x")) <= 255
        assert len(participant.get("phone", "x")) <= 50
        if "email" in participant:
            local, _, domain = participant["email"].partition("@")
            assert local and domain and "@" not in domain
