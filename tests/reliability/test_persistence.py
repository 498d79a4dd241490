"""`--state-file` and snapshots: a restart mid-pipeline ends exactly where an uninterrupted run does."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.directory import Directory
from fake_askelephant.core.store import Store, Workspace
from fake_askelephant.emulator import Emulator
from fake_askelephant.persistence import state
from fake_askelephant.persistence.persister import Persister
from fake_askelephant.persistence.statefile import StateFile, StateFileError
from tests.conftest import T0, Api, frozen_settings, problem, seed_call

# Every attribute of the Emulator must be persisted (the row kinds named) or be stateless machinery.
# A new attribute fails test_every_emulator_attribute_is_classified until it is added here and, if it holds
# state, to persistence/state.py.
EMULATOR_PARTS = {
    "seed": "meta (seed)",
    "clock": "meta.clock",
    "media_key": "meta.media_key",
    "scheduler": "rebuilt from pipeline.runs and webhooks.messages",
    "ids": "meta.rng",
    "request_ids": "meta.rng",
    "key_tokens": "meta.rng",
    "store": "workspace*, store.*",
    "bus": "events",
    "changes": "stateless",
    "rules": "rules",
    "faults": "faults, meta.rng",
    "pipeline": "pipeline.runs",
    "content": "derived from pipeline.runs when read (a bounded cache, not state)",
    "engagements": "stateless service (in-flight reservations are not state)",
    "webhooks": "webhooks.*",
    "_configured_keys": "configuration (re-applied on start)",
    # api.md §10: records live in Workspace.directory and Store.oauth_*; the services hold no state.
    "users": "stateless service (workspace.users)",
    "contacts": "stateless service (workspace.directory)",
    "companies": "stateless service (workspace.directory)",
    "tags": "stateless service (workspace.directory)",
    "oauth": "store.oauth_clients, store.oauth_tokens, meta.rng",
    "seed_data": "stateless loader (ids from the persisted `ids` stream)",
    "_startup_seed_data": "configuration (re-applied on start)",
    "releaser": "stateless machinery (frees what a reset dropped, core/releaser.py)",
    "write_set": "the write set (core/write_set.py): what to write next, not state",
    "startup_loaded": "configuration (what start-up seed data made, re-applied on start)",
}


Call = tuple[str, str, dict[str, Any] | None]  # method, path, JSON body


async def drive(api: Api, calls: list[Call]) -> None:
    for method, path, body in calls:
        resp = await api.client.request(
            method, path, json=body, headers={"Authorization": "sk-apik_local.fakeaskelephant"}
        )
        assert resp.status < 400, (method, path, resp.status, await resp.text())


async def observe(api: Api) -> dict[str, Any]:
    """Everything a vendor could read back, minus wall-clock fields."""

    async def get(path: str) -> Any:
        resp = await api.client.get(path, headers={"Authorization": "sk-apik_local.fakeaskelephant"})
        assert resp.status == 200, await resp.text()
        return await resp.json()

    deliveries = (await get("/__admin/deliveries?limit=100"))["data"]
    sink = (await get("/__admin/sink/app/requests"))["data"]
    return {
        "state": await get("/__admin/state"),
        "events": await get("/__admin/events"),
        "engagements": await get("/api/v2/engagements?limit=100&expand=action_items,signals,transcript"),
        "deliveries": [{k: v for k, v in d.items() if k not in ("wall_time", "duration_ms")} for d in deliveries],
        "sink": [(r["seq"], r["virtual_time"], r["response_status"], r["verified"], r["body"]) for r in sink],
        "faults": await get("/__admin/faults"),
        "rules": await get("/__admin/pipeline-rules"),
    }


BEFORE: list[Call] = [
    ("PUT", "/__admin/sink/app", {"statuses": [500, 500, 200]}),
    ("POST", "/__admin/webhook-endpoints", {"url": "http://emulator/__admin/sink/app"}),
    ("POST", "/__admin/pipeline-rules", {"match": {"external_id": "late-*"}, "pipeline": {"delays": {"signals": 900}}}),
    ("POST", "/__admin/faults", {"method": "DELETE", "path": "/api/v2/none", "status": 503, "count": 5}),
    ("POST", "/api/v2/engagements", seed_call()),
    ("POST", "/api/v2/engagements", seed_call(external_id="late-1", title="Late insights")),
    ("POST", "/__admin/clock/advance", {"seconds": 61}),  # mid-pipeline; the transcript webhook just failed
]
AFTER: list[Call] = [
    ("POST", "/api/v2/engagements", seed_call(external_id="after-restart")),  # new ids continue the sequence
    ("POST", "/__admin/clock/advance", {"seconds": 1200}),
]


async def test_restart_mid_pipeline_matches_an_uninterrupted_run(make_api: Callable[..., Any], tmp_path: Path) -> None:
    twin: Api = await make_api(frozen_settings())
    await drive(twin, BEFORE + AFTER)
    expected = await observe(twin)

    settings = frozen_settings(state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    await drive(first, BEFORE)
    await first.client.close()  # graceful: the final write happens in cleanup
    second: Api = await make_api(settings)
    await drive(second, AFTER)
    got = await observe(second)

    assert got == expected
    assert [e["processing_status"] for e in got["engagements"]["data"]] == ["COMPLETED"] * 3
    assert [d["response_status_code"] for d in got["deliveries"] if d["attempt"] <= 3][:3]  # retries resumed
    assert second.emulator.scheduler.failures == []


async def test_answered_requests_are_on_disk_before_any_shutdown(make_api: Callable[..., Any], tmp_path: Path) -> None:
    """No graceful close: a second process opening the file sees every answered request (kill -9 case)."""
    path = str(tmp_path / "state.sqlite")
    first: Api = await make_api(frozen_settings(state_file=path))
    created = await (await first.create()).json()
    key = await first.new_key(["engagements:read"], workspace_id="wrks_other")
    second: Api = await make_api(frozen_settings(state_file=path))  # reads while `first` still runs
    assert (await second.get(created["id"])).status == 200
    assert (await second.call("GET", "/api/v2/engagements", key=key)).status == 200
    replay = await second.create()
    assert replay.status == 200 and (await replay.json())["id"] == created["id"]


async def test_state_file_seed_and_clock_win_over_flags(make_api: Callable[..., Any], tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite")
    first: Api = await make_api(frozen_settings(state_file=path, seed=5))
    await first.advance(3600)
    await first.create()
    await first.client.close()
    second: Api = await make_api(frozen_settings(state_file=path, seed=99))
    health = await (await second.client.get("/__admin/health")).json()
    assert health["seed"] == 5
    assert health["now"] == "2026-03-09T12:59:00.000Z"


async def test_webhook_url_flag_is_not_registered_twice(make_api: Callable[..., Any], tmp_path: Path) -> None:
    settings = frozen_settings(state_file=str(tmp_path / "s.sqlite"), webhook_url="http://vendor.test/hooks")
    first: Api = await make_api(settings)
    secret = next(iter(first.emulator.webhooks.endpoints.values())).secret
    await first.client.close()
    second: Api = await make_api(settings)
    endpoints = list(second.emulator.webhooks.endpoints.values())
    assert [(e.url, e.secret) for e in endpoints] == [("http://vendor.test/hooks", secret)]


async def test_snapshot_and_restore(api: Api) -> None:
    kept = await (await api.create()).json()
    snap = await api.client.post("/__admin/snapshot", json={"name": "before-b"})
    assert snap.status == 201
    info = await snap.json()
    assert info["name"] == "before-b" and info["virtual_time"] == "2026-03-09T11:59:00.000Z" and info["records"] > 0
    dropped = await (await api.create(external_id="b")).json()
    await api.advance(3600)
    await api.client.post("/__admin/faults", json={"path": "/api/*", "status": 500, "count": None})
    await api.client.put("/__admin/sink/later", json={"statuses": [500]})

    restored = await api.client.post("/__admin/restore", json={"name": "before-b"})
    assert restored.status == 200
    assert (await restored.json())["now"] == "2026-03-09T11:59:00.000Z"  # the clock went back with the state
    assert (await (await api.client.get("/__admin/faults")).json())["data"] == []
    assert "later" not in api.emulator.webhooks.sinks.configs  # sink scripts are state too
    assert (await api.get(dropped["id"])).status == 404
    body = await (await api.get(kept["id"])).json()
    assert body == kept  # PENDING again, at its own time
    await api.advance(600)
    assert (await (await api.get(kept["id"])).json())["processing_status"] == "COMPLETED"  # pipeline resumed
    listed = (await (await api.client.get("/__admin/snapshots")).json())["data"]
    assert [s["name"] for s in listed] == ["before-b"]


async def test_snapshot_errors(api: Api) -> None:
    await problem(await api.client.post("/__admin/restore", json={"name": "nope"}), 404, "not_found")
    await problem(await api.client.delete("/__admin/snapshots/nope"), 404, "not_found")
    bad = await problem(await api.client.post("/__admin/snapshot", json={"name": "../x"}), 422, "validation_failed")
    assert bad["errors"][0]["field"] == "name"
    await api.client.post("/__admin/snapshot", json={"name": "a"})
    assert (await api.client.delete("/__admin/snapshots/a")).status == 204


async def test_snapshots_live_in_the_state_file(make_api: Callable[..., Any], tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite")
    first: Api = await make_api(frozen_settings(state_file=path))
    created = await (await first.create()).json()
    await first.client.post("/__admin/snapshot", json={"name": "one"})
    await first.client.post("/__admin/reset")
    await first.client.close()
    second: Api = await make_api(frozen_settings(state_file=path))
    assert (await second.get(created["id"])).status == 404
    assert (await second.client.post("/__admin/restore", json={"name": "one"})).status == 200
    assert (await second.get(created["id"])).status == 200


def test_every_emulator_attribute_is_classified() -> None:
    emulator = Emulator(seed=1, clock=VirtualClock(T0, 0))
    unknown = set(vars(emulator)) - set(EMULATOR_PARTS)
    assert not unknown, f"classify {unknown} in EMULATOR_PARTS and persist any state they hold (persistence/state.py)"


def test_every_store_table_is_persisted() -> None:
    persisted = {attr for attr, _ in state.STORE_TABLES.values()}
    missing = set(vars(Store())) - persisted - state.STORE_STRUCTURE
    assert not missing, f"add {missing} to persistence/state.py STORE_TABLES"


def test_every_workspace_field_is_a_table_or_derived() -> None:
    """A new record field on Workspace or Directory fails here until it gets a table (and change tracking)."""
    derived = {"id", "by_external_id", "directory", "contact_by_email", "contact_by_phone", "company_by_domain"}
    tables = {attr for attr, _ in (*state.WORKSPACE_TABLES.values(), *state.DIRECTORY_TABLES.values())}
    fields = {f.name for f in (*dataclasses.fields(Workspace), *dataclasses.fields(Directory))}
    assert fields - derived - set(state.WORKSPACE_SETTINGS) == tables


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateFileError, match="not a fake-askelephant state file"):
        Persister(str(junk))
    other = tmp_path / "other.sqlite"
    with contextlib.closing(sqlite3.connect(other)) as db, db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', 'something-else/9')")
    with pytest.raises(StateFileError, match="something-else/9"):
        StateFile(str(other))


def test_seeded_streams_continue_from_their_snapshots() -> None:
    """Persistence saves positions through snapshot()/restore(), never by reaching into the generators."""
    em = Emulator(seed=1, clock=VirtualClock(T0, 0))
    for ids in (em.ids, em.request_ids):
        saved = ids.snapshot()
        first = ids.new("x")
        ids.restore(saved)
        assert ids.new("x") == first
    for tokens in (em.key_tokens, em.oauth.tokens):
        saved = tokens.snapshot()
        first = tokens.token("abc", 8)
        tokens.restore(saved)
        assert tokens.token("abc", 8) == first

    saved_dispatcher = em.webhooks.snapshot()
    secret = em.webhooks.create_endpoint("wrks_local", "http://a.test/hooks").secret
    em.webhooks.restore(saved_dispatcher)
    assert em.webhooks.create_endpoint("wrks_local", "http://b.test/hooks").secret == secret

    sinks = em.webhooks.sinks
    sinks.configure("s", [500, 200], 0)
    sinks.restore(dataclasses.replace(sinks.snapshot(), served={"s": 1}, seq=41))
    answer = sinks.receive("s", {}, b"{}", [], virtual_ms=0, wall_s=0.0)
    assert answer.status == 200 and sinks.requests("s")[0].seq == 42


async def test_issue_20_state_survives_a_restart(make_api: Callable[..., Any], tmp_path: Path) -> None:
    """The workspace privacy default, an engagement's CRM association and the tags the analysis applied."""
    settings = frozen_settings(state_file=str(tmp_path / "state.sqlite"))
    first: Api = await make_api(settings)
    assert (await first.client.patch("/__admin/workspaces/wrks_local", json={"is_private_default": True})).status == 200
    await first.call("POST", "/api/v2/tags", json={"name": "Pricing"})
    eid = (await (await first.create()).json())["id"]
    association = {"object_type": "deal", "crm_object_id": "D-9", "source": "hubspot"}
    await first.client.put(f"/__admin/engagements/{eid}/crm_association", json=association)
    await first.advance(600)
    before = await (await first.get(eid, expand="tags")).json()
    await first.client.close()
    second: Api = await make_api(settings)
    after = await (await second.get(eid, expand="tags")).json()
    assert after == before and after["is_private"] and after["crm_association"] == association and after["tags"]
    settings_after = await (await second.client.get("/__admin/workspaces/wrks_local")).json()
    assert settings_after["is_private_default"] is True
