"""Issue 20 §1: a cursor carries the query it was issued for (api.md §8).

The docs fetch the next page with only `limit` and `cursor` (pagination page), and `next_cursor` "continues the
current traversal until has_more becomes false" (bulk exports). The oracle is the query's answer in one page
(limit 100), computed without any cursor.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, frozen_settings, problem, seed_call


async def page(api: Api, path: str, key: str | None = None, **params: str) -> Any:
    resp = await api.call("GET", path, params=params, **({"key": key} if key else {}))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def walk_with_cursor_alone(api: Api, path: str, limit: int, **params: str) -> list[str]:
    """First page with the query, every later page with only limit + cursor, as the docs do it."""
    body = await page(api, path, limit=str(limit), **params)
    ids = [i["id"] for i in body["data"]]
    while body["has_more"]:
        body = await page(api, path, limit=str(limit), cursor=body["next_cursor"])
        ids += [i["id"] for i in body["data"]]
    return ids


async def everything(api: Api, path: str, **params: str) -> list[str]:
    body = await page(api, path, limit="100", **params)
    assert not body["has_more"]
    return [i["id"] for i in body["data"]]


@pytest.fixture
async def sample(make_api: Callable[..., Any]) -> Api:
    """The sample world (users, companies, contacts, tags) plus engagements with searchable titles."""
    api: Api = await make_api(frozen_settings(fixtures="sample"))
    for i in range(7):
        title = "Ada renewal call" if i % 2 else "Bob discovery call"
        assert (await api.create(seed_call(external_id=f"c-{i}", title=title))).status == 201
        await api.advance(1)  # distinct updated_at, so filters can cut between records
    for i in range(5):
        await api.call("PATCH", f"/api/v2/contacts/{await _contact(api, i)}", json={"description": f"touched {i}"})
        await api.advance(1)
    return api


async def _contact(api: Api, n: int) -> str:
    ids = await everything(api, "/api/v2/contacts")
    return ids[n % len(ids)]


async def test_search_is_kept_by_the_cursor(sample: Api) -> None:
    """P08: page 2 of search=ada sent with only limit + cursor returned non-matching records."""
    want = await everything(sample, "/api/v2/engagements", search="ada")
    assert len(want) == 3
    assert await walk_with_cursor_alone(sample, "/api/v2/engagements", 1, search="ada") == want


async def test_an_ascending_cursor_continues_without_order_by(sample: Api) -> None:
    """P09: an updated_at:asc cursor sent without order_by was 400."""
    want = await everything(sample, "/api/v2/engagements", order_by="updated_at:asc")
    assert await walk_with_cursor_alone(sample, "/api/v2/engagements", 2, order_by="updated_at:asc") == want


async def test_an_incremental_sync_filter_is_kept(sample: Api) -> None:
    """P10: a filter[updated_at][gte] walk continued by cursor alone returned records older than the checkpoint."""
    all_ids = await everything(sample, "/api/v2/engagements", order_by="updated_at:asc")
    checkpoint = (await page(sample, f"/api/v2/engagements/{all_ids[3]}"))["updated_at"]
    params = {"filter[updated_at][gte]": checkpoint, "order_by": "updated_at:asc"}
    want = await everything(sample, "/api/v2/engagements", **params)
    assert want == all_ids[3:]
    assert await walk_with_cursor_alone(sample, "/api/v2/engagements", 1, **params) == want


LISTS = [
    ("/api/v2/engagements", {"search": "call", "filter[engagement_type][eq]": "CALL"}),
    ("/api/v2/contacts", {"search": "a"}),
    ("/api/v2/companies", {"order_by": "updated_at:asc"}),
    ("/api/v2/users", {"search": "e"}),
    ("/api/v2/tags", {"order_by": "updated_at:asc"}),
]


@pytest.mark.parametrize(("path", "params"), LISTS)
async def test_every_list_route_continues_its_query(sample: Api, path: str, params: dict[str, str]) -> None:
    want = await everything(sample, path, **params)
    assert len(want) >= 2, "the walk must span pages"
    assert await walk_with_cursor_alone(sample, path, 1, **params) == want


@pytest.mark.parametrize(("path", "params"), LISTS)
async def test_the_same_parameters_may_be_resent(sample: Api, path: str, params: dict[str, str]) -> None:
    first = await page(sample, path, limit="1", **params)
    resent = await page(sample, path, limit="1", cursor=first["next_cursor"], **params)
    alone = await page(sample, path, limit="1", cursor=first["next_cursor"])
    assert resent == alone
    assert resent["data"][0]["id"] == (await everything(sample, path, **params))[1]


async def test_an_explicit_default_order_is_the_same_query(sample: Api) -> None:
    first = await page(sample, "/api/v2/engagements", limit="2")
    same = await page(sample, "/api/v2/engagements", limit="2", cursor=first["next_cursor"], order_by="updated_at:desc")
    assert [e["id"] for e in same["data"]] == (await everything(sample, "/api/v2/engagements"))[2:4]


@pytest.mark.parametrize(
    "changed",
    [
        {"search": "bob"},
        {"order_by": "updated_at:asc"},
        {"filter[processing_status][eq]": "PENDING"},
        {"expand": "tags"},
        {"search": "bob", "filter[engagement_type][eq]": "CALL"},
    ],
)
async def test_different_parameters_with_a_cursor_are_400_naming_them(sample: Api, changed: dict[str, str]) -> None:
    first_query = {"limit": "1", "search": "call", "filter[engagement_type][eq]": "CALL"}
    first = await page(sample, "/api/v2/engagements", **first_query)
    resp = await sample.call(
        "GET",
        "/api/v2/engagements",
        params={"limit": "1", "cursor": first["next_cursor"], "search": "call", **changed},
    )
    body = await problem(resp, 400, "invalid_request")
    differing = [k for k, v in changed.items() if not (k == "filter[engagement_type][eq]" and v == "CALL")]
    assert body["invalid_params"] == differing
    for name in differing:
        assert name in body["detail"]


async def test_an_edited_cursor_is_400(sample: Api) -> None:
    token = (await page(sample, "/api/v2/engagements", limit="1", search="ada"))["next_cursor"]
    body, mac = token.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(b"ada", b"bob")
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + mac
    for bad in (forged, token[:-2], token + "x", "garbage", body):
        resp = await sample.call("GET", "/api/v2/engagements", params={"cursor": bad})
        assert (await problem(resp, 400, "invalid_request"))["detail"].startswith("cursor")


async def test_a_cursor_never_reads_another_list_or_workspace(sample: Api) -> None:
    token = (await page(sample, "/api/v2/contacts", limit="1"))["next_cursor"]
    other_list = await sample.call("GET", "/api/v2/companies", params={"cursor": token})
    assert "another list" in (await problem(other_list, 400, "invalid_request"))["detail"]
    foreign_key = await sample.new_key(["workspace:admin"], workspace_id="wrks_other")
    other_workspace = await sample.call("GET", "/api/v2/contacts", params={"cursor": token}, key=foreign_key)
    assert "another list" in (await problem(other_workspace, 400, "invalid_request"))["detail"]


async def test_cursors_survive_a_restart_with_a_state_file(make_api: Callable[..., Any], tmp_path: Path) -> None:
    settings = frozen_settings(state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    for i in range(4):
        await first.create(seed_call(external_id=f"r-{i}", title=f"Ada {i}" if i != 2 else "Bob"))
        await first.advance(1)
    want = await everything(first, "/api/v2/engagements", search="ada")
    one = await page(first, "/api/v2/engagements", limit="1", search="ada")
    await first.client.close()
    second: Api = await make_api(settings)
    rest = await walk_with_cursor_alone(second, "/api/v2/engagements", 1, cursor=one["next_cursor"])
    assert [one["data"][0]["id"], *rest] == want
