"""Admin reads are O(page) (issue 22 §3): /__admin/state and /__admin/events answer one page with counts and a
cursor however much is stored, the pages of a walk add up to everything, and an unchanged read is a 304."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fake_askelephant.core.models import Engagement
from tests.conftest import Api, seed_call

WS = "wrks_local"


async def stored(api: Api, n: int) -> list[Engagement]:
    """n engagements put straight into the store (copies of one created through the API, each a second newer)."""
    resp = await api.create(seed_call(external_id="template"))
    template = api.emulator.store.workspace(WS).engagements[(await resp.json())["id"]]
    copies = [
        replace(template, id=f"ngmt_copy{i:06d}", external_id=f"copy-{i}", updated_at=template.updated_at + i + 1)
        for i in range(n)
    ]
    for e in copies:
        api.emulator.store.insert_engagement(e)
    return copies


async def get(api: Api, path: str, **params: Any) -> dict[str, Any]:
    resp = await api.client.get(path, params=params)
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_the_state_of_10_000_engagements_is_one_page_and_its_walk_is_everything(api: Api) -> None:
    copies = await stored(api, 10_000)
    state = await get(api, "/__admin/state")
    [ws] = [w for w in state["workspaces"] if w["id"] == WS]
    assert ws["counts"]["engagements"] == 10_001
    assert len(ws["engagements"]) == state["limit"] == 100
    # Newest first: the copies are newer than the template, each a millisecond apart.
    assert [e["id"] for e in ws["engagements"]] == [e.id for e in reversed(copies[-100:])]
    seen = [e["id"] for e in ws["engagements"]]
    cursor = ws["next_cursors"]["engagements"]
    while cursor:
        page = await get(api, f"/__admin/state/{WS}/engagements", cursor=cursor, limit=1000)
        assert len(page["data"]) <= 1000 and page["count"] == 10_001
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
    assert seen == [e.id for e in reversed(copies)] + [seen[-1]]
    assert len(set(seen)) == 10_001


async def test_small_collections_page_newest_first_too(api: Api) -> None:
    for _ in range(5):
        resp = await api.client.post("/__admin/api-keys", json={"scopes": ["engagements:read"], "workspace_id": WS})
        assert resp.status == 201
    state = await get(api, "/__admin/state", limit=2, workspace_id=WS)
    [ws] = state["workspaces"]
    keys = ws["api_keys"]
    assert len(keys) == 2 and ws["counts"]["api_keys"] >= 6
    walked = [k["key_id"] for k in keys]
    cursor = ws["next_cursors"]["api_keys"]
    while cursor:
        page = await get(api, f"/__admin/state/{WS}/api_keys", cursor=cursor, limit=2)
        walked += [k["key_id"] for k in page["data"]]
        cursor = page["next_cursor"]
    held = [k.key_id for k in api.emulator.store.keys.values() if k.workspace_id == WS]
    assert walked == held[::-1]


async def test_an_unknown_collection_or_workspace_is_404(api: Api) -> None:
    assert (await api.client.get(f"/__admin/state/{WS}/secrets")).status == 404
    assert (await api.client.get("/__admin/state/wrks_nope/engagements")).status == 404


async def test_an_unchanged_state_answers_304_and_any_change_moves_its_version(api: Api) -> None:
    await stored(api, 3)
    first = await api.client.get("/__admin/state")
    etag = first.headers["ETag"]
    again = await api.client.get("/__admin/state", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    await api.create(seed_call(external_id="one-more"))
    changed = await api.client.get("/__admin/state", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    etag = changed.headers["ETag"]
    await api.advance(1)  # the clock is part of the state
    assert (await api.client.get("/__admin/state", headers={"If-None-Match": etag})).status == 200


async def test_events_page_newest_first_and_oldest_first(api: Api) -> None:
    for n in range(30):
        await api.create(seed_call(external_id=f"ev-{n}"))
    await api.advance(600)
    everything = await get(api, "/__admin/events")
    ids = [e["id"] for e in everything["data"]]
    assert len(ids) == everything["count"] > 100 and not everything["has_more"]

    for order, expected in (("created_at:asc", ids), ("created_at:desc", ids[::-1])):
        walked: list[str] = []
        page = await get(api, "/__admin/events", order=order, limit=7)
        while True:
            assert len(page["data"]) <= 7
            walked += [e["id"] for e in page["data"]]
            if not page["has_more"]:
                break
            page = await get(api, "/__admin/events", cursor=page["next_cursor"], limit=7)
        assert walked == expected, order

    created = [e["id"] for e in everything["data"] if e["type"] == "v1.engagement.created"]
    page = await get(api, "/__admin/events", type="v1.engagement.created", order="created_at:desc", limit=4)
    assert [e["id"] for e in page["data"]] == created[::-1][:4]
    bad = await api.client.get("/__admin/events", params={"order": "sideways"})
    assert bad.status == 422


async def test_the_event_log_of_a_large_store_is_one_page(api: Api) -> None:
    bus = api.emulator.bus
    for n in range(10_000):
        bus.emit("v1.test.ping", WS, {"object": "ping", "id": f"p{n}"})
    page = await get(api, "/__admin/events", order="created_at:desc", limit=50)
    assert len(page["data"]) == 50 and page["has_more"] and page["count"] == len(bus.log)
    assert page["data"][0]["data"]["object"]["id"] == "p9999"
    default = await get(api, "/__admin/events")
    assert len(default["data"]) == 1000 and default["has_more"]
