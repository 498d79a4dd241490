"""Issue 20 §4: "only participants and users with engagements:private:read can view" a private engagement
(create engagement, `is_private`); replacing its contacts or tags needs engagements:write +
engagements:private:write and nothing more (authentication page)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, problem, seed_call

OWNER_KEY_SCOPES = ["engagements:read", "engagements:write"]


async def ids_listed(api: Api, key: str) -> list[str]:
    return [e["id"] for e in (await (await api.call("GET", "/api/v2/engagements", key=key)).json())["data"]]


async def test_the_creating_keys_user_sees_the_private_call_it_just_made(api: Api) -> None:
    """A31: the owner's own key (engagements:read + write) got 404 on its own private call."""
    dialer = await api.new_key(OWNER_KEY_SCOPES, user={"email": "agent@example.com", "first_name": "Agent"})
    created = await (await api.create(seed_call(is_private=True, participants=[]), key=dialer)).json()
    assert created["is_private"] is True
    assert (await api.get(created["id"], key=dialer)).status == 200
    assert await ids_listed(api, dialer) == [created["id"]]


async def test_participants_matched_by_email_or_phone_see_it_and_nobody_else_does(api: Api) -> None:
    ann = await api.new_key(["engagements:read"], user={"email": "ann@example.com"})
    bob = await api.new_key(["engagements:read"], user={"email": "bob@example.com", "phone": "+15550001"})
    eve = await api.new_key(["engagements:read"], user={"email": "eve@example.com"})
    participants = [
        {"name": "Ann", "email": "ANN@example.com"},  # emails match case-insensitively, as owner resolution does
        {"name": "Bob", "phone": "+15550001"},
        {"name": "Jane Doe", "email": "jane@customer.com"},
    ]
    private = await (await api.create(seed_call(is_private=True, participants=participants))).json()
    public = await (await api.create(seed_call(external_id="open"))).json()
    for key in (ann, bob):
        assert (await api.get(private["id"], key=key)).status == 200
        assert set(await ids_listed(api, key)) == {private["id"], public["id"]}
    await problem(await api.get(private["id"], key=eve), 404, "not_found")
    assert await ids_listed(api, eve) == [public["id"]]
    private_reader = await api.new_key(["engagements:read", "engagements:private:read"], user={"email": "z@x.com"})
    assert (await api.get(private["id"], key=private_reader)).status == 200


async def test_a_participant_reads_its_private_timeline_with_engagements_read(api: Api) -> None:
    ann = await api.new_key(["engagements:read", "transcript_timelines:read"], user={"email": "ann@example.com"})
    private = await (
        await api.create(seed_call(is_private=True, participants=[{"name": "Ann", "email": "ann@example.com"}]))
    ).json()
    await api.advance(600)
    resp = await api.call("GET", f"/api/v2/engagements/{private['id']}/transcript_timeline", key=ann)
    assert resp.status == 200


async def test_replacing_on_a_private_engagement_needs_write_and_private_write_only(api: Api) -> None:
    """A19: write + private:write was 404 because the emulator also demanded private:read."""
    private = await (await api.create(seed_call(is_private=True))).json()
    writer: Any = await api.new_key(
        ["engagements:write", "engagements:private:write"], user={"email": "ops@example.com"}
    )
    bodies: tuple[tuple[str, dict[str, list[str]]], ...] = (
        ("contacts", {"contact_ids": []}),
        ("tags", {"tag_ids": []}),
    )
    for what, body in bodies:
        resp = await api.call("PUT", f"/api/v2/engagements/{private['id']}/{what}", key=writer, json=body)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["id"] == private["id"]
