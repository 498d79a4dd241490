"""Fault injection (pipeline.md §6): each effect fires as configured, first in the check order, and is counted."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import aiohttp
import pytest

from fake_askelephant.api.admin import faults as faults_api
from fake_askelephant.core.faults import MAX_LATENCY_MS
from tests.conftest import Api, frozen_settings, problem, seed_call
from tests.reliability.rawhttp import exchange


async def arm(api: Api, **rule: Any) -> dict[str, Any]:
    resp = await api.client.post("/__admin/faults", json=rule)
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def engagement_count(api: Api) -> int:
    resp = await api.call("GET", "/api/v2/engagements")
    return len((await resp.json())["data"])


async def test_429_fires_count_times_with_retry_after_and_stores_nothing(api: Api) -> None:
    fault = await arm(api, method="POST", path="/api/v2/engagements", count=2, status=429, retry_after=3)
    assert fault["id"].startswith("flt_") and fault["remaining"] == 2 and fault["hits"] == 0
    for _ in range(2):
        resp = await api.create()
        body = await problem(resp, 429, "rate_limited")
        assert resp.headers["Retry-After"] == "3"
        assert fault["id"] in body["detail"]
    assert await engagement_count(api) == 0
    assert (await api.create()).status == 201  # count used up
    listed = (await (await api.client.get("/__admin/faults")).json())["data"]
    assert [(f["id"], f["hits"], f["remaining"]) for f in listed] == [(fault["id"], 2, 0)]


@pytest.mark.parametrize(
    ("status", "slug"),
    [(500, "internal_error"), (503, "internal_error"), (502, "internal_error"), (418, "invalid_request")],
)
async def test_status_slugs(api: Api, status: int, slug: str) -> None:
    await arm(api, method="GET", path="/api/v2/engagements", status=status)
    resp = await api.call("GET", "/api/v2/engagements")
    await problem(resp, status, slug)
    assert "Retry-After" not in resp.headers


async def test_429_without_retry_after_still_sends_one(api: Api) -> None:
    await arm(api, path="/api/*", status=429)
    resp = await api.call("GET", "/api/v2/engagements")
    await problem(resp, 429, "rate_limited")
    assert resp.headers["Retry-After"] == "1"


async def test_faults_run_before_route_and_auth(api: Api) -> None:
    await arm(api, path="/api/v2/no-such-route", status=503, count=None)
    resp = await api.call("GET", "/api/v2/no-such-route", key=None)
    await problem(resp, 503, "internal_error")


async def test_phase_after_commits_then_loses_the_response(api: Api) -> None:
    """The lost-response case: the create happened, the client saw a 500, its retry gets 200 and the same id."""
    await arm(api, method="POST", path="/api/v2/engagements", status=500, phase="after")
    lost = await api.create()
    await problem(lost, 500, "internal_error")
    events = (await (await api.client.get("/__admin/events?type=v1.engagement.created")).json())["data"]
    assert len(events) == 1
    retry = await api.create()
    assert retry.status == 200
    assert (await retry.json())["id"] == events[0]["data"]["object"]["id"]


async def test_reset_before_drops_the_connection_and_runs_nothing(api: Api) -> None:
    await arm(api, method="POST", path="/api/v2/engagements", action="reset")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.create()
    assert await engagement_count(api) == 0
    assert (await api.create()).status == 201


async def test_reset_after_commits_first(api: Api) -> None:
    await arm(api, method="POST", path="/api/v2/engagements", action="reset", phase="after")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.create()
    assert await engagement_count(api) == 1
    assert (await api.create()).status == 200


async def test_truncate_cuts_the_real_body(api: Api) -> None:
    created = await (await api.create()).json()
    full = await (await api.get(created["id"])).read()
    await arm(api, method="GET", path="/api/v2/engagements/*", action="truncate")
    server = api.client.server
    raw = await exchange(server.host, server.port, "GET", f"/api/v2/engagements/{created['id']}")
    assert raw.status == 200
    assert int(raw.headers["content-length"]) == len(full)
    assert raw.body == full[: len(full) // 2]
    assert raw.headers["x-request-id"].startswith("rid_") and raw.headers["x-api-version"] == "2"


async def test_truncate_with_status_cuts_the_problem_body(api: Api) -> None:
    await arm(api, method="POST", path="/api/v2/engagements", status=503, action="truncate")
    server = api.client.server
    raw = await exchange(server.host, server.port, "POST", "/api/v2/engagements", json.dumps(seed_call()).encode())
    assert raw.status == 503 and raw.headers["content-type"].startswith("application/problem+json")
    assert 0 < len(raw.body) < int(raw.headers["content-length"])
    assert raw.body.startswith(b'{"type":"https://app.askelephant.ai/errors/internal_error"')
    assert await engagement_count(api) == 0


async def test_fixed_latency_is_waited_in_wall_time(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(faults_api, "sleep", record)
    await arm(api, method="GET", path="/api/v2/engagements", latency_ms=250, count=2)
    for _ in range(2):
        assert (await api.call("GET", "/api/v2/engagements")).status == 200  # latency only: answered for real
    assert waits == [0.25, 0.25]


async def test_lognormal_latency_is_seeded(make_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def draws() -> list[float]:
        waits: list[float] = []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        monkeypatch.setattr(faults_api, "sleep", record)
        api: Api = await make_api(frozen_settings(seed=7))
        await arm(api, path="/api/*", latency_ms={"lognormal": {"median_ms": 200, "sigma": 0.5}}, count=None)
        for _ in range(30):
            await api.call("GET", "/api/v2/engagements")
        return waits

    first, second = await draws(), await draws()
    assert first == second and len(set(first)) == 30
    median = sorted(first)[15] * 1000
    assert 100 < median < 400  # around the configured 200 ms
    assert all(w * 1000 <= MAX_LATENCY_MS for w in first)


async def test_real_latency_delays_the_answer(api: Api) -> None:
    loop = asyncio.get_running_loop()
    await arm(api, method="GET", path="/api/v2/engagements", latency_ms=120)
    started = loop.time()
    assert (await api.call("GET", "/api/v2/engagements")).status == 200
    assert loop.time() - started >= 0.12


async def test_probability_is_seeded_and_partial(make_api: Any) -> None:
    async def pattern() -> list[int]:
        api: Api = await make_api(frozen_settings(seed=11))
        await arm(api, method="GET", path="/api/v2/users", status=503, probability=0.5, count=None)
        return [(await api.call("GET", "/api/v2/users")).status for _ in range(40)]

    first, second = await pattern(), await pattern()
    assert first == second
    assert set(first) == {200, 503} and 10 <= first.count(503) <= 30


async def test_method_path_and_workspace_must_all_match(api: Api) -> None:
    other_key = await api.new_key(["engagements:read"], workspace_id="wrks_other")
    await arm(api, method="GET", path="/api/v2/engagements", workspace_id="wrks_other", status=503, count=None)
    assert (await api.call("GET", "/api/v2/engagements")).status == 200  # wrks_local
    assert (await api.call("POST", "/api/v2/engagements", json=seed_call())).status == 201  # method differs
    await problem(await api.call("GET", "/api/v2/engagements", key=other_key), 503, "internal_error")
    assert (await api.call("GET", "/api/v2/users", key=other_key)).status == 403  # path differs


async def test_control_plane_is_never_faulted(api: Api) -> None:
    await arm(api, path="*", status=500, count=None)
    assert (await api.client.get("/__admin/health")).status == 200
    assert (await api.client.delete("/__admin/faults")).status == 204
    assert (await api.call("GET", "/api/v2/engagements")).status == 200


async def test_delete_one_and_unknown(api: Api) -> None:
    keep = await arm(api, path="/api/v2/users", status=500)
    drop = await arm(api, path="/api/v2/engagements", status=500)
    assert (await api.client.delete(f"/__admin/faults/{drop['id']}")).status == 204
    await problem(await api.client.delete(f"/__admin/faults/{drop['id']}"), 404, "not_found")
    listed = (await (await api.client.get("/__admin/faults")).json())["data"]
    assert [f["id"] for f in listed] == [keep["id"]]


async def test_reset_clears_faults(api: Api) -> None:
    await arm(api, path="/api/*", status=500, count=None)
    await api.client.post("/__admin/reset")
    assert (await (await api.client.get("/__admin/faults")).json())["data"] == []


@pytest.mark.parametrize(
    ("rule", "field", "code"),
    [
        ({"path": "/api/*"}, "status", "required"),
        ({"status": 200}, "status", "invalid_range"),
        ({"status": 500, "phase": "during"}, "phase", "invalid_enum"),
        ({"status": 500, "action": "explode"}, "action", "invalid_enum"),
        ({"status": 500, "probability": 1.5}, "probability", "invalid_range"),
        ({"status": 500, "count": 0}, "count", "invalid_range"),
        ({"status": 500, "path": "api/x"}, "path", "invalid_type"),
        ({"latency_ms": 10, "retry_after": 2}, "retry_after", "invalid_type"),
        ({"latency_ms": {"lognormal": {"median_ms": 0}}}, "latency_ms.lognormal.median_ms", "invalid_range"),
    ],
)
async def test_bad_rules_are_422(api: Api, rule: dict[str, Any], field: str, code: str) -> None:
    body = await problem(await api.client.post("/__admin/faults", json=rule), 422, "validation_failed")
    assert (field, code) in [(e["field"], e["code"]) for e in body["errors"]], body


async def test_spec_example_body_is_accepted(api: Api) -> None:
    example = {
        "method": "POST",
        "path": "/api/v2/engagements",
        "workspace_id": None,
        "count": 2,
        "probability": 1.0,
        "status": 429,
        "retry_after": 3,
        "latency_ms": 0,
        "action": None,
        "phase": "before",
    }
    created = await arm(api, **example)
    assert {k: created[k] for k in example} == example
    assert math.isclose(created["probability"], 1.0)
