"""Issue 20 §9 and §10: what the API tolerates, it says it tolerates.

A `Bearer sk-apik_…` credential (the guides: send the raw key) and query parameters a route does not read or
cannot read are accepted by default, each with a `Warning: 299` header and a note in the request journal;
`--strict` rejects them (401 and 400 naming the parameters).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import DEFAULT_KEY, Api, frozen_settings, problem, seed_call

BEARER = {"Authorization": f"Bearer {DEFAULT_KEY}"}


def warnings_of(resp: Any) -> list[str]:
    return list(resp.headers.getall("Warning", []))


async def journal(api: Api) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await (await api.client.get("/__admin/requests")).json())["data"]
    return data


async def test_a_bearer_api_key_works_and_is_told_so_every_time(api: Api) -> None:
    for path in ("/api/v2/engagements", "/api/v2/tags", "/api/v2/engagements/ngmt_nope"):
        resp = await api.call("GET", path, key=None, headers=BEARER)
        assert resp.status in (200, 404)
        [warning] = warnings_of(resp)
        assert warning.startswith('299 - "') and "without the Bearer prefix" in warning
    entries = await journal(api)
    assert len(entries) == 3 and all("without the Bearer prefix" in e["warnings"][0] for e in entries)
    raw = await api.call("GET", "/api/v2/engagements")
    assert warnings_of(raw) == []
    assert (await journal(api))[0]["warnings"] == []


async def test_strict_rejects_a_bearer_api_key(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(strict=True))
    body = await problem(await api.call("GET", "/api/v2/engagements", key=None, headers=BEARER), 401, "unauthorized")
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/api/v2/engagements?limti=1", ["limti"]),
        ("/api/v2/engagements?expand[]=action_items", ["expand[]"]),
        ("/api/v2/engagements?expand=", ["expand"]),
        ("/api/v2/engagements?expand=,", ["expand"]),
        ("/api/v2/engagements?expand=action_items,", ["expand"]),
        ("/api/v2/tags?search=zzz", ["search"]),
        ("/api/v2/contacts?limti=1&sort=name", ["limti", "sort"]),
        ("/api/v2/users/usr_local?expand=owner", ["expand"]),
    ],
)
async def test_unknown_and_malformed_parameters_are_named_in_a_warning(api: Api, path: str, named: list[str]) -> None:
    resp = await api.call("GET", path)
    assert resp.status == 200, await resp.text()
    found = warnings_of(resp)
    assert len(found) == len(named)
    for warning, name in zip(found, named, strict=True):
        assert warning.startswith('299 - "') and repr(name) in warning
    assert (await journal(api))[0]["warnings"] == [w.removeprefix('299 - "').removesuffix('"') for w in found]


async def test_the_ignored_parameters_really_are_ignored(api: Api) -> None:
    for i in range(3):
        await api.create(seed_call(external_id=f"w-{i}"))
    assert len((await (await api.call("GET", "/api/v2/engagements?limti=1")).json())["data"]) == 3
    axios = await (await api.call("GET", "/api/v2/engagements?expand[]=action_items")).json()
    assert "action_items" not in axios["data"][0]


async def test_documented_parameters_draw_no_warning(api: Api) -> None:
    eid = (await (await api.create()).json())["id"]
    for path in (
        "/api/v2/engagements?limit=5&order_by=updated_at:asc&search=call&expand=tags,owner"
        "&filter[processing_status][eq]=PENDING",
        f"/api/v2/engagements/{eid}?expand=action_items,%20signals",
        "/api/v2/contacts?search=a&filter[updated_at][gte]=2026-01-01T00:00:00Z",
        "/api/v2/tags?limit=1&order_by=updated_at:desc",
    ):
        resp = await api.call("GET", path)
        assert resp.status == 200 and warnings_of(resp) == [], (path, warnings_of(resp))


async def test_strict_answers_400_naming_every_parameter(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(strict=True))
    resp = await api.call("GET", "/api/v2/engagements?limti=1&expand[]=signals&expand=signals,")
    body = await problem(resp, 400, "invalid_request")
    assert body["invalid_params"] == ["limti", "expand[]", "expand"]
    for name in ("limti", "expand[]", "expand"):
        assert name in body["detail"]
    ok = await api.call("GET", "/api/v2/engagements?limit=1&expand=signals")
    assert ok.status == 200


async def test_scope_and_auth_come_before_the_parameter_check(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(strict=True))
    await problem(await api.call("GET", "/api/v2/engagements?limti=1", key=None), 401, "unauthorized")
    reader = await api.new_key(["tags:read"])
    await problem(await api.call("GET", "/api/v2/engagements?limti=1", key=reader), 403, "forbidden")
