"""GET one engagement (expand, ETag) and list them (filters, cursors) (api.md §6, §8)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, problem, seed_call


async def walk(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end, checking the list envelope on every page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        resp = await api.call("GET", "/api/v2/engagements?" + urlencode(query))
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        assert page["object"] == "list"
        assert page["has_more"] is (page["next_cursor"] is not None)
        if page["has_more"]:
            assert page["data"], "no trailing empty pages"
        items.extend(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("pagination never ended")


async def test_expand_fields_appear_only_when_asked(api: Api) -> None:
    created = await (await api.create()).json()
    plain = await (await api.get(created["id"])).json()
    assert plain == created
    full = await (
        await api.get(created["id"], expand="action_items,signals,transcript,owner,media_url,tags,contacts,companies")
    ).json()
    assert full["action_items"] == [] and full["signals"] == [] and full["transcript"] is None
    assert full["owner"]["id"] == "usr_local" and full["owner"]["object"] == "user"
    assert full["media_url"].startswith("http://127.0.0.1:")
    assert full["tags"] == [] and full["companies"] == []  # no tags set, no company holds the domains
    # Both participants are no users, so they became contacts (api.md §5); tests/emulator/test_contacts.py
    assert [c["emails"][0]["email"] for c in full["contacts"]] == ["alice@example.com", "jane@customer.com"]
    assert {k: v for k, v in full.items() if k in created} == created


@pytest.mark.parametrize("expand", ["transcripts", "Action_items", "signals,bogus"])
async def test_unknown_expand_is_422(api: Api, expand: str) -> None:
    created = await (await api.create()).json()
    body = await problem(await api.get(created["id"], expand=expand), 422, "validation_failed")
    assert body["errors"][0]["field"] == "expand" and body["errors"][0]["code"] == "invalid_enum"


async def test_expand_is_trimmed_and_deduplicated(api: Api) -> None:
    created = await (await api.create()).json()
    resp = await api.get(created["id"], expand=" signals,,signals , action_items")
    assert resp.status == 200
    body = await resp.json()
    assert list(body)[-2:] == ["signals", "action_items"]


async def test_unknown_and_foreign_ids_are_404(api: Api) -> None:
    await problem(await api.get("ngmt_01NOTREAL"), 404, "not_found")
    await problem(await api.get("../../etc/passwd"), 404, "not_found")


async def test_etag_and_if_none_match(api: Api) -> None:
    created = await (await api.create()).json()
    first = await api.get(created["id"])
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and len(etag) == 36
    again = await api.call("GET", f"/api/v2/engagements/{created['id']}", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag and again.headers["X-Api-Version"] == "2" and again.headers["X-Request-Id"]
    star = await api.call("GET", f"/api/v2/engagements/{created['id']}", headers={"If-None-Match": "*"})
    assert star.status == 304
    listed = await api.call("GET", f"/api/v2/engagements/{created['id']}", headers={"If-None-Match": f'"x", {etag}'})
    assert listed.status == 304
    expanded = await api.get(created["id"], expand="transcript")
    assert expanded.headers["ETag"] != etag
    await api.advance(10)  # PROCESSING now: the representation changed
    changed = await api.call("GET", f"/api/v2/engagements/{created['id']}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


async def test_list_walk_returns_each_engagement_once_while_new_ones_arrive(api: Api) -> None:
    for i in range(23):
        await api.create(external_id=f"call-{i}")
        await api.advance(1)
    seen: list[str] = []
    cursor = None
    created_during = 0
    while True:
        query = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = await (await api.call("GET", "/api/v2/engagements?" + urlencode(query))).json()
        seen += [e["id"] for e in page["data"]]
        # New records mid-walk must not duplicate or hide older ones.
        await api.create(external_id=f"late-{created_during}")
        created_during += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 23


@pytest.mark.parametrize("order", ["updated_at:asc", "updated_at:desc"])
async def test_list_order_and_ties(api: Api, order: str) -> None:
    for i in range(7):
        await api.create(external_id=f"c{i}")  # same instant: ties broken by id
    items = await walk(api, limit=3, order_by=order)
    keys = [(e["updated_at"], e["id"]) for e in items]
    assert keys == sorted(keys, reverse=order.endswith("desc"))
    assert len(items) == 7


async def test_limit_bounds_and_defaults(api: Api) -> None:
    for i in range(30):
        await api.create(external_id=f"c{i}")
    page = await (await api.call("GET", "/api/v2/engagements")).json()
    assert len(page["data"]) == 25 and page["has_more"]
    exact = await (await api.call("GET", "/api/v2/engagements?limit=30")).json()
    assert len(exact["data"]) == 30 and exact["has_more"] is False and exact["next_cursor"] is None
    for bad, code in (
        ("0", "invalid_range"),
        ("101", "invalid_range"),
        ("ten", "invalid_type"),
        ("1.5", "invalid_type"),
    ):
        body = await problem(await api.call("GET", f"/api/v2/engagements?limit={bad}"), 422, "validation_failed")
        assert body["errors"][0]["field"] == "limit" and body["errors"][0]["code"] == code
    body = await problem(await api.call("GET", "/api/v2/engagements?limit=0"), 422, "validation_failed")
    assert body["errors"][0]["message"] == "limit must be between 1 and 100."


async def test_bad_cursor_and_cursor_for_other_order_are_400(api: Api) -> None:
    for i in range(3):
        await api.create(external_id=f"c{i}")
    await problem(await api.call("GET", "/api/v2/engagements?cursor=%%%garbage"), 400, "invalid_request")
    page = await (await api.call("GET", "/api/v2/engagements?limit=1")).json()
    resp = await api.call("GET", f"/api/v2/engagements?limit=1&order_by=updated_at:asc&cursor={page['next_cursor']}")
    await problem(resp, 400, "invalid_request")


async def test_filters(api: Api) -> None:
    await api.create(external_id="a", title="Alpha CALL", start_at="2026-03-01T00:00:00Z")
    await api.create(external_id="b", type="MEETING", title="Beta meeting", start_at="2026-03-05T00:00:00Z")
    await api.advance(10)  # both PROCESSING
    await api.create(external_id="c", title="Gamma alpha", start_at="2026-03-08T00:00:00Z")

    def titles(items: list[dict[str, Any]]) -> set[str]:
        return {e["title"] for e in items}

    assert titles(await walk(api, search="ALPHA")) == {"Alpha CALL", "Gamma alpha"}
    assert titles(await walk(api, **{"filter[engagement_type][eq]": "MEETING"})) == {"Beta meeting"}
    assert titles(await walk(api, **{"filter[engagement_type][in]": "MEETING,CALL"})) == {
        "Alpha CALL",
        "Beta meeting",
        "Gamma alpha",
    }
    assert titles(await walk(api, **{"filter[processing_status][eq]": "PENDING"})) == {"Gamma alpha"}
    assert titles(await walk(api, **{"filter[start_at][gt]": "2026-03-05T00:00:00Z"})) == {"Gamma alpha"}
    assert titles(await walk(api, **{"filter[start_at][gte]": "2026-03-05T00:00:00Z"})) == {
        "Beta meeting",
        "Gamma alpha",
    }
    assert titles(await walk(api, **{"filter[start_at][lt]": "2026-03-05T00:00:00Z"})) == {"Alpha CALL"}
    gamma = next(e for e in await walk(api) if e["title"] == "Gamma alpha")
    assert titles(await walk(api, **{"filter[updated_at][gte]": gamma["updated_at"]})) == {"Gamma alpha"}
    assert titles(await walk(api, **{"filter[updated_at][gt]": gamma["updated_at"]})) == set()


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("filter[engagement_type][eq]=FAX", 422, "filter[engagement_type][eq]"),
        ("filter[start_at][gt]=yesterday", 422, "filter[start_at][gt]"),
        ("filter[start_at][between]=x", 422, "filter[start_at][between]"),
        ("filter[colour][eq]=red", 422, "filter[colour][eq]"),
        ("filter[start_at]=x", 400, None),
        ("filter[contact_ids][in]=" + ",".join(f"cnt_{i}" for i in range(26)), 422, "filter[contact_ids][in]"),
        ("filter[company_ids][eq]=ngmt_1", 422, "filter[company_ids][eq]"),
        ("order_by=created_at:asc", 422, "order_by"),
    ],
)
async def test_bad_list_params(api: Api, query: str, status: int, field: str | None) -> None:
    resp = await api.call("GET", f"/api/v2/engagements?{query}")
    body = await problem(resp, status, "validation_failed" if status == 422 else "invalid_request")
    if field:
        assert body["errors"][0]["field"] == field


async def test_list_expand(api: Api) -> None:
    await api.create()
    await api.advance(600)
    page = await (await api.call("GET", "/api/v2/engagements?expand=action_items,signals")).json()
    assert page["data"][0]["action_items"] and page["data"][0]["signals"]


async def test_users_routes(api: Api) -> None:
    page = await (await api.call("GET", "/api/v2/users")).json()
    assert [u["id"] for u in page["data"]] == ["usr_local"]
    user = await api.call("GET", "/api/v2/users/usr_local")
    body = await user.json()
    assert body["emails"] == [{"email": "owner@example.com", "is_primary": True}] and user.headers["ETag"]
    await problem(await api.call("GET", "/api/v2/users/usr_nobody"), 404, "not_found")
    found = await (await api.call("GET", "/api/v2/users?search=OWNER@")).json()
    assert len(found["data"]) == 1
    no_scope = await api.new_key(["engagements:read"])
    await problem(await api.call("GET", "/api/v2/users", key=no_scope), 403, "forbidden")


async def test_media_link_redirects_then_expires(api: Api) -> None:
    created = await (await api.create()).json()
    link = (await (await api.get(created["id"], expand="media_url")).json())["media_url"]
    path = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
    resp = await api.client.get("/" + path, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == seed_call()["media_url"]
    tampered = await api.client.get("/" + path.replace("signature=", "signature=0"), allow_redirects=False)
    await problem(tampered, 403, "forbidden")
    await api.advance(15 * 60 + 1)
    await problem(await api.client.get("/" + path, allow_redirects=False), 403, "forbidden")


async def test_media_link_is_null_for_transcript_only_imports(api: Api) -> None:
    payload = seed_call(
        transcript_timeline={
            "speakers": [{"name": "A"}],
            "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 3, "text": "Hello there."}],
        }
    )
    del payload["media_url"]
    created = await (await api.create(payload)).json()
    body = await (await api.get(created["id"], expand="media_url")).json()
    assert body["media_url"] is None
