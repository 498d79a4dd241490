"""Issue 20 §3: every field carries its documented type, so a client generated from the docs never meets a null
it was not told about.

The oracle is a pair of strict pydantic models written from the reference pages (get-engagement-by-id,
get-user-by-id), the way a code generator reads them: `string or null` where the page says so, plain types
elsewhere, optional only where the page says "included only when it has a value". They share no code with
the emulator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from fake_askelephant.core.timefmt import parse_iso
from tests.conftest import Api, frozen_settings, seed_call


class _Generated(BaseModel):
    model_config = ConfigDict(strict=False, extra="allow")


class DocsEngagement(_Generated):
    object: Literal["engagement"]
    id: str
    title: str
    engagement_type: str
    processing_status: str
    is_private: bool
    created_at: datetime
    updated_at: datetime
    description: str | None = None  # "included only when it has a value" (webhooks page)
    data_source: str
    is_internal: bool
    engagement_at: datetime
    start_at: datetime
    end_at: datetime
    duration_seconds: int
    meeting_url: str | None = None
    owner_user_id: str
    host_user_id: str | None = None


class DocsUser(_Generated):
    object: Literal["user"]
    id: str
    role: str
    created_at: datetime
    updated_at: datetime
    first_name: str | None
    last_name: str | None
    emails: list[Any]
    job_title: str
    time_zone: str
    last_activity_at: datetime


async def test_a_new_engagement_and_its_created_event_carry_end_at_and_duration(api: Api) -> None:
    resp = await api.create()
    assert resp.status == 201
    body = await resp.json()
    parsed = DocsEngagement.model_validate(body)  # raised on the null end_at / duration_seconds before issue 20
    assert parsed.duration_seconds >= 1
    assert parse_iso(body["end_at"]) - parse_iso(body["start_at"]) == body["duration_seconds"] * 1000
    created_event = next(e for e in api.emulator.bus.log if e.type == "v1.engagement.created")
    DocsEngagement.model_validate(created_event.envelope()["data"]["object"])


async def test_the_fields_stay_put_while_the_pipeline_runs(api: Api) -> None:
    """Derived from the media during the request, so processing does not move them (and emits no diff for them)."""
    first = await (await api.create()).json()
    await api.advance(600)
    done = await (await api.get(first["id"])).json()
    assert done["processing_status"] == "COMPLETED"
    assert (done["end_at"], done["duration_seconds"]) == (first["end_at"], first["duration_seconds"])
    events = [e for e in api.emulator.bus.log if e.type.startswith("v1.engagement.")]
    assert events
    for event in events:
        assert "end_at" not in event.previous_attributes
        DocsEngagement.model_validate(event.envelope()["data"]["object"])


async def test_a_transcript_import_is_as_long_as_its_timeline(api: Api) -> None:
    timeline = {
        "speakers": [{"name": "Ann"}],
        "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 12.2, "text": "Hello there."}],
    }
    body = seed_call(transcript_timeline=timeline)
    del body["media_url"]
    created = await (await api.call("POST", "/api/v2/engagements", json=body)).json()
    assert DocsEngagement.model_validate(created).duration_seconds == 13


async def test_users_without_a_job_title_time_zone_or_activity_still_get_the_documented_types(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(fixtures="sample"))
    await api.new_key(["users:read"], user={"email": "bare@example.com"})  # a user with nothing but an email
    page = await (await api.call("GET", "/api/v2/users?limit=100")).json()
    bare = [u for u in page["data"] if u["emails"][0]["email"] == "bare@example.com"]
    assert len(bare) == 1 and len(page["data"]) >= 5
    for user in page["data"]:
        DocsUser.model_validate(user)  # raised on job_title / time_zone / last_activity_at null before issue 20
    assert bare[0]["job_title"] == "" and bare[0]["time_zone"] == "UTC"
    assert bare[0]["last_activity_at"] == bare[0]["created_at"]


async def test_seed_data_can_set_last_activity_at(api: Api) -> None:
    doc = {"users": [{"email": "active@example.com", "last_activity_at": "2026-03-01T09:30:00Z"}]}
    resp = await api.client.post("/__admin/fixtures", json=doc)
    assert resp.status == 200, await resp.text()
    user_id = (await resp.json())["data"][0]["users"][0]
    user = await (await api.call("GET", f"/api/v2/users/{user_id}")).json()
    assert user["last_activity_at"] == "2026-03-01T09:30:00.000Z"
    assert DocsUser.model_validate(user).job_title == ""
