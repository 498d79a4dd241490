"""`--rate-limit N/s` (api.md §9) and the request journal (`GET /__admin/requests`)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from fake_askelephant.api.auth import RateLimiter, rate_limiter_key
from fake_askelephant.api.problems import Problem
from tests.conftest import DEFAULT_KEY, Api, frozen_settings, problem


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_capacity_refill_and_retry_after() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(2, clock)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(Problem) as exc:
        limiter.check("a")
    assert exc.value.status == 429 and exc.value.headers["Retry-After"] == "1"
    limiter.check("b")  # buckets are per credential
    clock.now += 0.5  # one token back at 2/s
    limiter.check("a")
    with pytest.raises(Problem):
        limiter.check("a")


def test_slow_rates_round_retry_after_up() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(0.2, clock)  # one request per 5 s, capacity still 1
    limiter.check("a")
    with pytest.raises(Problem) as exc:
        limiter.check("a")
    assert exc.value.headers["Retry-After"] == "5"
    clock.now += 4.9
    with pytest.raises(Problem) as exc:
        limiter.check("a")
    assert exc.value.headers["Retry-After"] == "1"


async def test_rate_limit_sits_after_auth_and_before_scope(make_api: Any) -> None:
    api: Api = await make_api(frozen_settings(rate_limit=2))
    api.app[rate_limiter_key].monotonic = FakeMonotonic()
    reader = await api.new_key(["users:read"])
    assert (await api.call("GET", "/api/v2/engagements")).status == 200
    assert (await api.call("GET", "/api/v2/engagements")).status == 200
    limited = await api.call("GET", "/api/v2/engagements")
    await problem(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "1"
    # 401 beats 429: an unauthenticated caller has no bucket to empty.
    await problem(await api.call("GET", "/api/v2/engagements", key="sk-apik_nope.nope"), 401, "unauthorized")
    # 429 beats 403: the second key's bucket empties on requests its scopes would refuse.
    await problem(await api.call("GET", "/api/v2/engagements", key=reader), 403, "forbidden")
    await problem(await api.call("GET", "/api/v2/engagements", key=reader), 403, "forbidden")
    await problem(await api.call("GET", "/api/v2/engagements", key=reader), 429, "rate_limited")


async def test_rate_limit_is_off_by_default(api: Api) -> None:
    assert rate_limiter_key not in api.app
    for _ in range(30):
        assert (await api.call("GET", "/api/v2/users")).status == 200


async def test_journal_records_requests_newest_first(api: Api) -> None:
    created = await api.create()
    await api.call("GET", "/api/v2/engagements/ngmt_missing")
    await api.client.get("/__admin/health")  # probes are not journaled
    body = await (await api.client.get("/__admin/requests")).json()
    entries = body["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/api/v2/engagements/ngmt_missing", 404),
        ("POST", "/api/v2/engagements", 201),
    ]
    oldest = entries[1]
    assert oldest["request_id"] == created.headers["X-Request-Id"]
    assert oldest["key_id"] == "apik_local" and oldest["workspace_id"] == "wrks_local"
    assert oldest["latency_ms"] >= 0 and oldest["outcome"] == "answered" and oldest["fault_id"] is None
    assert body["has_more"] is False


async def test_journal_filters_and_limit(api: Api) -> None:
    for _ in range(3):
        await api.call("GET", "/api/v2/users")
    await api.call("GET", "/api/v2/nope")
    only_404 = (await (await api.client.get("/__admin/requests?status=404")).json())["data"]
    assert [e["path"] for e in only_404] == ["/api/v2/nope"]
    page = await (await api.client.get("/__admin/requests?path=/api/v2/users&limit=2")).json()
    assert len(page["data"]) == 2 and page["has_more"] is True
    bad = await api.client.get("/__admin/requests?limit=0&status=x")
    body = await problem(bad, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("limit", "invalid_range"), ("status", "invalid_type")]
    assert (await api.client.delete("/__admin/requests")).status == 204
    assert (await (await api.client.get("/__admin/requests")).json())["data"] == []


async def test_journal_marks_faults_and_dropped_connections(api: Api) -> None:
    resp = await api.client.post("/__admin/faults", json={"path": "/api/v2/users", "status": 503})
    fault_id = (await resp.json())["id"]
    await api.call("GET", "/api/v2/users")
    await api.client.post("/__admin/faults", json={"method": "POST", "path": "/api/v2/engagements", "action": "reset"})
    with pytest.raises(Exception, match="disconnected"):
        await api.create()
    entries = (await (await api.client.get("/__admin/requests")).json())["data"]
    api_calls = [e for e in entries if e["path"].startswith("/api/")]
    reset, faulted = api_calls
    assert (faulted["status"], faulted["fault_id"], faulted["outcome"]) == (503, fault_id, "answered")
    assert (reset["status"], reset["outcome"]) == (None, "reset")


async def test_secrets_never_reach_logs_or_journal(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_key = await api.new_key(["engagements:write"])
    secret = secret_key.split(".", 1)[1]
    key_id = secret_key.removeprefix("sk-apik_").split(".", 1)[0]
    await api.create(key=secret_key)
    await api.call("GET", "/api/v2/engagements", key=f"sk-apik_{key_id}.wrongsecret123")  # 401
    await api.call("GET", "/api/v2/engagements", key=f"Bearer {secret_key}")  # 403, Bearer form
    await api.client.post("/__admin/faults", json={"path": "/api/*", "status": 500})
    await api.create(key=secret_key)  # a logged fault hit
    journal = json.dumps(await (await api.client.get("/__admin/requests")).json())
    assert f"apik_{key_id}" in journal
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "injected fault" in logged
    for text in (journal, logged):
        assert secret not in text and "wrongsecret123" not in text and DEFAULT_KEY.split(".")[1] not in text
