"""Who may change the control plane (issue #19): no cross-site changes, JSON bodies only, an optional admin token.

The browser's side of it (a real page on another origin) is tests/browser/test_csrf.py; these pin the rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AUTH, Api, frozen_settings, problem, seed_call

TOKEN = "adm-7f3a9c"
ENDPOINT = {"url": "https://hooks.example.com/h"}


async def endpoints(api: Api) -> list[Any]:
    data: list[Any] = (await (await api.client.get("/__admin/webhook-endpoints")).json())["data"]
    return data


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None]
)
async def test_a_change_with_a_body_that_is_not_json_is_refused(api: Api, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await api.client.post("/__admin/webhook-endpoints", data=b'{"url":"https://a.example/h"}', headers=headers)
    body = await problem(resp, 415, "unsupported_content_type")
    assert "application/json" in body["detail"]
    assert await endpoints(api) == []


async def test_multipart_changes_are_refused(api: Api) -> None:
    from aiohttp import FormData

    form = FormData()
    form.add_field("seconds", "600")
    await problem(await api.client.post("/__admin/clock/advance", data=form), 415, "unsupported_content_type")


async def test_an_empty_change_may_not_carry_a_simple_content_type(api: Api) -> None:
    created = await (await api.create()).json()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        resp = await api.client.post("/__admin/reset", data=b"", headers={"Content-Type": content_type})
        await problem(resp, 415, "unsupported_content_type")
    assert (await api.get(created["id"])).status == 200  # nothing was reset
    assert (await api.client.post("/__admin/reset")).status == 200  # curl -X POST sends no type: fine


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Origin", "http://localhost:9999"),
        ("Origin", "null"),
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
    ],
)
async def test_changes_another_site_asks_for_are_refused(api: Api, header: str, value: str) -> None:
    resp = await api.client.post("/__admin/webhook-endpoints", json=ENDPOINT, headers={header: value})
    await problem(resp, 403, "forbidden")
    resp = await api.client.delete("/__admin/faults", headers={header: value})
    await problem(resp, 403, "forbidden")
    assert await endpoints(api) == []


async def test_same_origin_changes_work(api: Api) -> None:
    origin = f"http://{api.client.host}:{api.client.port}"
    headers = {"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    resp = await api.client.post("/__admin/webhook-endpoints", json=ENDPOINT, headers=headers)
    assert resp.status == 201, await resp.text()
    resp = await api.client.post("/__admin/clock/advance", json={"seconds": 1}, headers={"Sec-Fetch-Site": "none"})
    assert resp.status == 200


async def test_reads_from_another_site_are_not_refused(api: Api) -> None:
    resp = await api.client.get("/__admin/health", headers={"Origin": "https://evil.example"})
    assert resp.status == 200  # a cross-site page cannot read the answer (no CORS); nothing changes


async def test_yaml_seed_data_is_a_json_like_body(api: Api) -> None:
    yaml = b"tags:\n  - {name: Hot lead}\n"
    resp = await api.client.post("/__admin/fixtures", data=yaml, headers={"Content-Type": "application/yaml"})
    assert resp.status in (200, 201), await resp.text()
    resp = await api.client.post("/__admin/api-keys", data=yaml, headers={"Content-Type": "application/yaml"})
    await problem(resp, 415, "unsupported_content_type")


async def test_the_sink_receives_what_a_webhook_sender_sends(api: Api) -> None:
    resp = await api.client.post("/__admin/sink/ci", data=b"not json", headers={"Content-Type": "text/plain"})
    assert resp.status == 200
    resp = await api.client.post("/__admin/sink/ci", json={}, headers={"Origin": "https://evil.example"})
    await problem(resp, 403, "forbidden")


async def test_the_public_api_is_not_touched(api: Api) -> None:
    resp = await api.call("POST", "/api/v2/engagements", json=seed_call(), headers={"Origin": "https://evil.example"})
    assert resp.status == 201  # the public API's cross-origin rules are issue #21's (CORS), not these


# --admin-token ------------------------------------------------------------------------------------------


@pytest.fixture
async def locked(make_api: Any) -> Api:
    instance: Api = await make_api(frozen_settings(admin_token=TOKEN))
    return instance


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/__admin/state"),
        ("GET", "/__admin/webhook-endpoints"),
        ("GET", "/__admin/events"),
        ("POST", "/__admin/reset"),
        ("GET", "/__admin/engagements/ngmt_x/history"),
        ("GET", "/__admin/openapi.json"),
        ("GET", "/__admin/sink/ci/requests"),
    ],
)
async def test_a_locked_control_plane_needs_the_token(locked: Api, method: str, path: str) -> None:
    resp = await locked.client.request(method, path)
    body = await problem(resp, 401, "unauthorized")
    assert "X-Admin-Token" in body["detail"]
    await problem(await locked.client.request(method, path, headers={"X-Admin-Token": "wrong"}), 401, "unauthorized")
    for headers in ({"X-Admin-Token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}):
        resp = await locked.client.request(method, path, headers=headers)
        assert resp.status != 401, await resp.text()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/__admin/health"),
        ("GET", "/__admin/ui"),
        ("GET", "/__admin/ui/admin-api.js"),
        ("POST", "/__admin/sink/ci"),
    ],
)
async def test_health_the_inspector_page_and_the_sink_need_no_token(locked: Api, method: str, path: str) -> None:
    resp = await locked.client.request(method, path, json={} if method == "POST" else None)
    assert resp.status == 200, await resp.text()


async def test_the_token_does_not_replace_the_api_key(locked: Api) -> None:
    assert (await locked.create()).status == 201
    resp = await locked.client.get("/api/v2/users", headers={"X-Admin-Token": TOKEN})
    await problem(resp, 401, "unauthorized")
    assert (await locked.client.get("/api/v2/users", headers=AUTH)).status == 200


async def test_with_the_token_cross_site_changes_are_still_refused(locked: Api) -> None:
    headers = {"X-Admin-Token": TOKEN, "Sec-Fetch-Site": "cross-site"}
    await problem(await locked.client.post("/__admin/reset", headers=headers), 403, "forbidden")
