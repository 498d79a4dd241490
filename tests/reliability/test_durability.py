"""Write-through, honest acknowledgements (issue 18): a 2xx with --state-file means the change is committed.

The oracle for "what is on disk" is the file itself, read with plain sqlite3, compared with a full dump of memory
made by the same codec (never what the persister says it wrote). A full disk is injected at the one seam where
SQLite is written (StateFile.write and friends raise SQLITE_FULL's error); test_disk_full_process.py fills a real
disk under a served process.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_askelephant.api.admin.snapshots import persister_key
from fake_askelephant.persistence import persister as persister_module
from fake_askelephant.persistence import state
from fake_askelephant.persistence.statefile import StateFile
from tests.conftest import Api, frozen_settings, problem, seed_call
from tests.reliability.test_directory_persistence import build_state
from tests.reliability.test_persistence import AFTER, BEFORE, drive

DISK_FULL = sqlite3.OperationalError("database or disk is full")


def on_disk(path: Path) -> dict[tuple[str, str], bytes]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {(k, key): bytes(b) for k, key, b in db.execute("SELECT kind, key, body FROM records")}


async def assert_file_matches_memory(api: Api, path: Path) -> None:
    """Every record in memory is on disk with the same body, and nothing else is (clock aside: it may run)."""
    await api.app[persister_key].commit()  # background work (none pending in these frozen-clock tests)
    memory = state.by_key(state.dump(api.emulator))
    disk = on_disk(path)
    differ = sorted(k for k in memory.keys() | disk.keys() if memory.get(k) != disk.get(k))
    assert differ == [], differ[:10]


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """`switch["full"] = True` makes every write to any state file fail as SQLite does on a full disk."""
    switch = {"full": False}
    for name in ("write", "save_snapshot", "restore_snapshot"):
        real = getattr(StateFile, name)

        def failing(self: StateFile, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if switch["full"]:
                raise DISK_FULL
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(StateFile, name, failing)
    yield switch


# The write set is complete: after every kind of change, the file equals memory ------------------------------------


async def test_after_every_kind_of_change_the_file_equals_memory(make_api: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    api: Api = await make_api(frozen_settings(fixtures="sample", state_file=str(path)))
    await assert_file_matches_memory(api, path)
    await drive(api, BEFORE)
    await assert_file_matches_memory(api, path)
    made = await build_state(api)  # contacts, companies, tags, links, comments, fixture users, OAuth
    await assert_file_matches_memory(api, path)
    await drive(api, AFTER)
    await assert_file_matches_memory(api, path)
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", "/__admin/webhook-endpoints/{ep}", {"hazards": {"duplicate": 1.0}}),
        ("POST", "/__admin/clock/advance", {"seconds": 3600}),
        ("DELETE", "/__admin/engagements/{eng}", None),
        ("DELETE", "/__admin/faults", None),
        ("POST", "/__admin/webhook-endpoints/{ep}/rotate-secret", {}),
        ("DELETE", "/__admin/webhook-endpoints/{ep}", None),
        ("POST", "/__admin/reset?workspace_id=wrks_other", None),
        ("POST", "/__admin/reset", None),
        ("POST", "/api/v2/engagements", seed_call(external_id="after-reset")),
        ("POST", "/__admin/reset?all=true", None),
    ]
    endpoint = next(iter(api.emulator.webhooks.endpoints))
    for method, path_, body in steps:
        resp = await api.call(method, path_.format(ep=endpoint, eng=made["engagement"]), json=body)
        assert resp.status < 300, (method, path_, resp.status, await resp.text())
        await assert_file_matches_memory(api, path)


async def test_a_write_costs_what_changed_not_what_is_stored(
    make_api: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O(1) per write, structurally: the 301st create writes as many rows as the 1st did (issue 18 point 2)."""
    written: list[int] = []
    real = StateFile.write

    def counting(self: StateFile, upserts: Any, deletes: Any, meta: Any, **kwargs: Any) -> None:
        written.append(len(upserts) + len(list(deletes)))
        real(self, upserts, deletes, meta, **kwargs)

    monkeypatch.setattr(StateFile, "write", counting)
    api: Api = await make_api(frozen_settings(state_file=str(tmp_path / "s.sqlite")))
    sizes = []
    for n in range(301):
        written.clear()
        assert (await api.create(external_id=f"call-{n}")).status == 201
        sizes.append(sum(written))
    assert sizes[300] == sizes[1] and sizes[300] < 20, sizes[:3] + sizes[-3:]


# A full disk --------------------------------------------------------------------------------------------------------


async def test_a_full_disk_is_503_nothing_kept_health_degraded_then_recovery(
    make_api: Callable[..., Any], tmp_path: Path, full_disk: dict[str, bool]
) -> None:
    """Issue 18: on a full disk the server kept answering 201 and lost 375 of 400 acknowledged engagements."""
    path = tmp_path / "state.sqlite"
    api: Api = await make_api(frozen_settings(state_file=str(path)))
    kept = await (await api.create(external_id="before")).json()
    full_disk["full"] = True

    refused = await api.create(external_id="while-full")
    body = await problem(refused, 503, "unavailable")
    assert "disk is full" in body["detail"] and refused.headers["Retry-After"].isdigit()
    listed = await (await api.call("GET", "/api/v2/engagements")).json()
    assert [e["id"] for e in listed["data"]] == [kept["id"]]  # memory put back: no unsaved engagement to read
    health = await (await api.client.get("/__admin/health")).json()
    assert health["status"] == "degraded" and "disk is full" in health["reason"]
    again = await api.create(external_id="while-full")  # a retry is not a 200 replay of something unsaved
    await problem(again, 503, "unavailable")
    await problem(await api.client.post("/__admin/clock/advance", json={"seconds": 600}), 503, "unavailable")
    assert (await (await api.get(kept["id"])).json())["processing_status"] == "PENDING"  # nothing ran unsaved
    await problem(await api.client.post("/__admin/snapshot", json={"name": "s"}), 503, "unavailable")
    assert (await api.get(kept["id"])).status == 200  # reads keep working

    full_disk["full"] = False  # space is back: no restart needed
    created = await api.create(external_id="while-full")
    assert created.status == 201, await created.text()
    assert (await (await api.client.get("/__admin/health")).json())["status"] == "ok"
    await api.advance(600)
    await assert_file_matches_memory(api, path)
    stored = {key.partition("/")[2] for kind, key in on_disk(path) if kind == "workspace.engagements"}
    assert stored == {kept["id"], (await created.json())["id"]}


async def test_a_nearly_full_disk_stays_degraded_while_only_a_heartbeat_fits(
    make_api: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A request's probe write is tiny: on a disk with a few bytes left it fits where the request's change does not.
    That must not end `degraded` (log "writable again", reopen scheduled work) before each retried request fails
    again; seen with a real full tmpfs in test_disk_full_process.py."""
    monkeypatch.setattr(persister_module, "PROBE_INTERVAL_S", 3600.0)  # only requests probe in this test
    real = StateFile.write

    def nearly_full(self: StateFile, upserts: Any, deletes: Any, meta: Any, **kwargs: Any) -> None:
        if upserts or deletes:
            raise DISK_FULL
        real(self, upserts, deletes, meta, **kwargs)  # a heartbeat (meta only) fits

    api: Api = await make_api(frozen_settings(state_file=str(tmp_path / "state.sqlite")))
    monkeypatch.setattr(StateFile, "write", nearly_full)
    caplog.set_level(logging.WARNING, "fake_askelephant.persistence")
    for _ in range(3):
        await problem(await api.create(external_id="retried"), 503, "unavailable")
        health = await (await api.client.get("/__admin/health")).json()
        assert health["status"] == "degraded", health
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and "could not be written (database or disk is full)" in logged[0], logged
    monkeypatch.setattr(StateFile, "write", real)
    assert (await api.create(external_id="retried")).status == 201
    assert (await (await api.client.get("/__admin/health")).json())["status"] == "ok"
    assert "writable again" in caplog.records[-1].getMessage()


async def test_background_work_waits_while_the_disk_is_full_and_runs_after(
    make_api: Callable[..., Any], tmp_path: Path, full_disk: dict[str, bool]
) -> None:
    """Stage changes that could not be stored are not dropped: they run (again) once writes succeed."""
    path = tmp_path / "state.sqlite"
    api: Api = await make_api(frozen_settings(state_file=str(path)))
    created = await (await api.create()).json()
    persister = api.app[persister_key]
    full_disk["full"] = True
    await api.emulator.scheduler.advance(600)  # the clock moved by itself: stages ran in memory …
    assert not await persister.commit()  # … could not be stored, so memory went back to the file
    assert (await (await api.get(created["id"])).json())["processing_status"] == "PENDING"
    assert persister.unavailable is not None
    full_disk["full"] = False
    assert await persister.probe()
    await api.advance(600)
    assert (await (await api.get(created["id"])).json())["processing_status"] == "COMPLETED"
    await assert_file_matches_memory(api, path)


async def test_a_failed_restore_changes_nothing(
    make_api: Callable[..., Any], tmp_path: Path, full_disk: dict[str, bool]
) -> None:
    path = tmp_path / "state.sqlite"
    api: Api = await make_api(frozen_settings(state_file=str(path)))
    assert (await api.client.post("/__admin/snapshot", json={"name": "empty"})).status == 201
    created = await (await api.create()).json()
    full_disk["full"] = True
    await problem(await api.client.post("/__admin/restore", json={"name": "empty"}), 503, "unavailable")
    full_disk["full"] = False
    assert (await api.get(created["id"])).status == 200
    await assert_file_matches_memory(api, path)
    assert (await api.client.post("/__admin/restore", json={"name": "empty"})).status == 200
    assert (await api.get(created["id"])).status == 404
    await assert_file_matches_memory(api, path)


# Snapshots on the new format --------------------------------------------------------------------------------------


async def test_snapshots_round_trip_on_format_3(make_api: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    api: Api = await make_api(frozen_settings(fixtures="sample", state_file=str(path)))
    await drive(api, BEFORE)
    await build_state(api)
    before = state.by_key(state.dump(api.emulator))
    assert (await api.client.post("/__admin/snapshot", json={"name": "s"})).status == 201
    await drive(api, AFTER)
    assert (await api.client.post("/__admin/restore", json={"name": "s"})).status == 200
    after = state.by_key(state.dump(api.emulator))
    # Request ids keep counting: an answered one is never handed out again.
    request_ids = [("meta.rng", "request_ids"), ("meta.rng.drawn", "request_ids")]
    assert [after[k] for k in request_ids] != [before.pop(k) for k in request_ids]
    assert {k: v for k, v in after.items() if k not in request_ids} == before
    await assert_file_matches_memory(api, path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == ("fake-askelephant-state/3",)
