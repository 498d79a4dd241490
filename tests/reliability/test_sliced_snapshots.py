"""Snapshots and restores run in slices and hold requests back only as long as they must (issue 23 point 1).

A snapshot encodes the state in slices while state-changing requests wait and reads go on; a restore decodes the
snapshot's rows in slices while reads are still answered from the old state, then resets and puts the records in,
in slices, while every request but health waits. No timing here: the work is stopped at a slice boundary
(`Stops`, in place of core/slicing.py's Slices) and the test looks at what is answered meanwhile. How long a
slice is on a big store is the benchmarks' job (benchmarks/bench_snapshot.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_askelephant.api.admin.snapshots import persister_key
from fake_askelephant.core.models import EngagementDraft, Participant, Principal
from fake_askelephant.core.slicing import Slices
from fake_askelephant.emulator import Emulator
from fake_askelephant.persistence import persister as persister_module
from fake_askelephant.persistence import state
from fake_askelephant.persistence.persister import Persister
from tests.conftest import DEFAULT_KEY, Api, frozen_settings, problem
from tests.reliability.test_durability import assert_file_matches_memory, full_disk  # noqa: F401 (a fixture)

REQUEST_IDS = {("meta.rng", "request_ids"), ("meta.rng.drawn", "request_ids")}  # reads draw them: not compared
MEDIA_KEY = ("meta.media_key", "hmac")  # random per process, not seeded


class Stop:
    """One stop of the long work: at the first slice boundary where `condition` holds, until released."""

    def __init__(self, condition: Callable[[], bool]) -> None:
        self.condition = condition
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def reach(self) -> None:
        """Wait until the work stopped here (a generous bound: work that never yields never stops, and fails)."""
        await asyncio.wait_for(self.reached.wait(), 30)


class Stops:
    def __init__(self) -> None:
        self.pending: list[Stop] = []

    def at(self, condition: Callable[[], bool]) -> Stop:
        stop = Stop(condition)
        self.pending.append(stop)
        return stop

    async def stopping(self) -> None:
        if self.pending and self.pending[0].condition():
            stop = self.pending.pop(0)
            stop.reached.set()
            await stop.release.wait()


@pytest.fixture
def stops(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stops]:
    found = Stops()

    class Stopping(Slices):
        async def pause(self) -> None:
            await found.stopping()
            await super().pause()

    monkeypatch.setattr(persister_module, "Slices", Stopping)
    yield found


def persister(api: Api) -> Persister:
    return api.app[persister_key]


async def fill(em: Emulator, n: int) -> None:
    """n engagements through the service (the path a POST takes), a few with contacts; some pipelines finish."""
    who = em.store.authenticate_key(DEFAULT_KEY)
    assert isinstance(who, Principal)
    for i in range(n):
        participants = (Participant(email=f"buyer{i % 9}@customer{i % 4}.example"),) if i % 25 == 3 else ()
        draft = EngagementDraft(
            "MEETING" if i % 3 == 0 else "CALL",
            f"Call {i}",
            "dialer",
            f"fill-{i}",
            "https://recordings.example.com/a.mp3",
            participants=participants,
        )
        await em.engagements.create_engagement(who, draft)
        if i == n // 2:
            await em.advance(45)  # the first half's pipelines move on; the rest stay pending (rescheduled on load)


def modes(tmp_path: Path) -> dict[str, Any]:
    return {"memory": {}, "state file": {"state_file": str(tmp_path / "s.sqlite")}}


@pytest.fixture(params=["memory", "state file"])
def mode(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    chosen: dict[str, Any] = modes(tmp_path)[request.param]
    return chosen


def dumped(em: Emulator) -> dict[tuple[str, str], bytes]:
    rows = state.by_key(state.dump(em))
    for key in (*REQUEST_IDS, MEDIA_KEY):
        rows.pop(key, None)
    return rows


async def snapshot_rows(api: Api, name: str) -> dict[tuple[str, str], bytes]:
    p = persister(api)
    rows = await p._run(p._open().snapshot_rows, name)
    assert rows is not None
    found = state.by_key(rows)
    for key in (*REQUEST_IDS, MEDIA_KEY):
        found.pop(key, None)
    return found


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run (requests travel over loopback) until `condition` holds; a bounded number of turns."""
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_health_and_reads_answer_while_a_snapshot_is_taken(make_api: Callable[..., Any], stops: Stops) -> None:
    api: Api = await make_api(frozen_settings(seed=23))
    await fill(api.emulator, 1_500)
    first = next(iter(api.emulator.store.workspace("wrks_local").engagements))
    p = persister(api)
    p.slice_s = 0.0
    stop = stops.at(lambda: True)  # the first slice boundary of the snapshot
    taking = asyncio.create_task(api.client.post("/__admin/snapshot", json={"name": "s"}))
    await stop.reach()

    health = await ok(await api.client.get("/__admin/health"))
    assert health["status"] == "ok" and health["busy"].startswith("taking snapshot s: ")
    assert (await ok(await api.get(first)))["id"] == first  # reads go on
    creating = asyncio.create_task(api.create(external_id="during"))
    await until(lambda: p.admission.waiting == 1)  # the create reached the server and waits for the snapshot
    assert not taking.done() and not creating.done()

    stop.release.set()
    info = await ok(await taking, 201)
    created = await ok(await creating, 201)
    saved = await snapshot_rows(api, "s")
    assert ("workspace.engagements", f"wrks_local/{created['id']}") not in saved
    assert info["records"] == len(saved) + len(REQUEST_IDS) + 1
    assert "busy" not in await ok(await api.client.get("/__admin/health"))


async def test_a_restore_answers_reads_from_the_old_state_until_the_swap_then_from_the_restored_one(
    make_api: Callable[..., Any], stops: Stops, mode: dict[str, Any]
) -> None:
    api: Api = await make_api(frozen_settings(seed=23, **mode))
    em = api.emulator
    await fill(em, 1_500)
    kept = next(iter(em.store.workspace("wrks_local").engagements))
    kept_body = await ok(await api.get(kept))
    taken = await ok(await api.client.post("/__admin/snapshot", json={"name": "s"}), 201)
    dropped = await ok(await api.create(external_id="after-the-snapshot"), 201)
    await api.advance(3600)
    kept_now = await ok(await api.get(kept))
    assert kept_now != kept_body  # its pipeline moved on since the snapshot
    p = persister(api)
    p.slice_s = 0.0
    admission = p.admission

    def busy() -> str:
        return admission.busy or ""

    # The rows going in: the first slice boundary once the restore got past reading the snapshot (before the
    # build-aside, the records went into the served state here, with reads held).
    inserting = stops.at(lambda: busy().startswith("restoring snapshot s: ") and "decoding" not in busy())
    indexing = stops.at(lambda: "indexes" in busy())  # the list order and lookups of the restored state, aside
    swapping = stops.at(lambda: admission.reads_held)  # the swap itself
    restoring = asyncio.create_task(api.client.post("/__admin/restore", json={"name": "s"}))

    await inserting.reach()
    reading = asyncio.create_task(api.get(kept))
    await until(reading.done)  # answered while the restore is under way: from the old state
    assert not restoring.done()
    assert await ok(await reading) == kept_now
    health = await ok(await api.client.get("/__admin/health"))
    assert health["status"] == "ok" and health["busy"].startswith("restoring snapshot s: building it aside, ")
    creating = asyncio.create_task(api.create(external_id="sent-mid-restore", title="Sent mid-restore"))
    await until(lambda: admission.waiting == 1)  # state-changing requests wait for the whole restore
    inserting.release.set()

    await indexing.reach()
    assert (await ok(await api.get(dropped["id"])))["id"] == dropped["id"]  # still the old state
    assert (await ok(await api.get(kept))) == kept_now
    assert admission.waiting == 1 and not creating.done()
    indexing.release.set()

    await swapping.reach()  # reads wait: nothing is answered from half the swap
    health = await ok(await api.client.get("/__admin/health"))
    assert health["status"] == "ok" and health["busy"] == "restoring snapshot s: swapping it in"
    reading = asyncio.create_task(api.get(kept))
    advancing = asyncio.create_task(api.client.post("/__admin/clock/advance", json={"seconds": 1}))
    await until(lambda: admission.waiting == 3)  # the create, the read and the advance
    assert not restoring.done() and not creating.done() and not reading.done() and not advancing.done()
    swapping.release.set()

    restored = await ok(await restoring)
    assert restored["now"] == taken["virtual_time"]
    assert await ok(await reading) == kept_body  # answered from the restored state
    created = await ok(await creating, 201)
    await ok(await advancing)
    # Ids continue from the snapshot: the create that waited gets the id the dropped engagement had.
    assert created["id"] == dropped["id"]
    assert (await ok(await api.get(created["id"])))["title"] == "Sent mid-restore"
    assert len(em.store.workspace("wrks_local").engagements) == 1_501
    health = await ok(await api.client.get("/__admin/health"))
    assert "busy" not in health
    assert em.scheduler.failures == []


async def story(api: Api, *, sliced: bool) -> dict[str, Any]:
    """Fill, snapshot, change things, restore, go on; `sliced` yields at every step and reads all along."""
    em = api.emulator
    p = persister(api)
    p.slice_s = 0.0 if sliced else float("inf")  # infinity never yields: the behaviour before slicing
    answered: list[int] = []
    stop = asyncio.Event()
    first = await ok(await api.create(external_id="first"), 201)

    async def poller() -> None:
        while not stop.is_set():
            for path in ("/__admin/health", f"/api/v2/engagements/{first['id']}"):
                answered.append((await api.call("GET", path)).status)

    await fill(em, 600)
    await ok(await api.client.post("/__admin/faults", json={"path": "/api/v2/tags", "status": 503, "count": 2}), 201)
    task = asyncio.create_task(poller()) if sliced else None
    await ok(await api.client.post("/__admin/snapshot", json={"name": "s"}), 201)
    saved = await snapshot_rows(api, "s")
    await ok(await api.create(external_id="dropped"), 201)
    await api.advance(3600)
    restored = await ok(await api.client.post("/__admin/restore", json={"name": "s"}))
    after_restore = dumped(em)
    stop.set()
    if task is not None:
        await task
        assert answered and set(answered) == {200}
    created = await ok(await api.create(external_id="next"), 201)
    await api.advance(3600)
    return {"saved": saved, "restored": restored, "after_restore": after_restore, "created": created, "end": dumped(em)}


async def test_a_sliced_snapshot_and_restore_give_the_same_state_as_in_one_piece(
    make_api: Callable[..., Any], mode: dict[str, Any], tmp_path: Path
) -> None:
    settings = frozen_settings(seed=23, **mode)
    whole = await story(await make_api(settings), sliced=False)
    if "state_file" in mode:
        settings = frozen_settings(seed=23, state_file=str(tmp_path / "other.sqlite"))
    sliced = await story(await make_api(settings), sliced=True)
    assert sliced["saved"] == whole["saved"]
    assert sliced["after_restore"] == whole["after_restore"]
    assert sliced == whole
    # An independent reference: the snapshot's rows loaded in one piece (state.load), as restores always did.
    reference: Api = await make_api(frozen_settings(seed=23))
    reference.emulator.reset(everything=True)
    state.load(reference.emulator, [(kind, key, body) for (kind, key), body in whole["saved"].items()])
    expected = dumped(reference.emulator)
    assert whole["after_restore"] == expected


@pytest.mark.parametrize("kind", ["workspace.engagements", "pipeline.runs", "meta.rng"])
async def test_a_snapshot_row_that_does_not_decode_is_refused_before_anything_changes(
    make_api: Callable[..., Any], mode: dict[str, Any], kind: str
) -> None:
    """Engagement rows come early; pipeline runs late, after the engagements went into the state built aside and
    while runs were being scheduled there; a seeded stream's row (the id stream) goes in only at the swap, after
    the reset (before its check: a 500 and half a state): either way the served state stays whole."""
    api: Api = await make_api(frozen_settings(seed=23, **mode))
    em = api.emulator
    await fill(em, 200)
    created = await ok(await api.create(), 201)
    await ok(await api.client.post("/__admin/snapshot", json={"name": "s"}), 201)
    p = persister(api)
    p.slice_s = 0.0

    def damage() -> None:
        db = p._open()._db
        db.execute(
            "UPDATE snapshot_records SET body = x'7b6e6f' WHERE name = 's' AND kind = ? AND key LIKE ?",
            (kind, "ids" if kind == "meta.rng" else f"%{created['id']}"),
        )

    await p._run(damage)
    later = await ok(await api.create(external_id="later"), 201)
    before, pending = dumped(em), len(em.scheduler)
    refused = await api.client.post("/__admin/restore", json={"name": "s"})
    assert refused.status == 503 and refused.headers["Retry-After"]
    problem = await refused.json()
    assert kind in problem["detail"] and ("'ids'" if kind == "meta.rng" else created["id"]) in problem["detail"]
    assert dumped(em) == before  # nothing was changed
    assert len(em.scheduler) == pending  # nor scheduled: what was staged went, its jobs with it
    assert (await ok(await api.get(later["id"])))["id"] == later["id"]
    assert "busy" not in await ok(await api.client.get("/__admin/health"))
    await api.advance(3600)  # the old state's pipelines go on; nothing of the refused restore runs
    assert em.scheduler.failures == []
    assert (await ok(await api.get(later["id"])))["processing_status"] == "COMPLETED"


async def test_a_restore_with_webhook_retries_pending_is_the_snapshot_loaded_in_one_piece(
    make_api: Callable[..., Any], mode: dict[str, Any]
) -> None:
    """The webhook rows are decoded aside and linked and rescheduled at the swap: the restored state is what
    state.load (record by record, in one piece) makes of the snapshot's rows, attempts and pending retries
    included."""
    api: Api = await make_api(frozen_settings(seed=23, **mode))
    em = api.emulator
    await ok(await api.client.put("/__admin/sink/story", json={"statuses": [500]}))
    endpoint = {"url": "http://fake-askelephant:8787/__admin/sink/story"}
    await ok(await api.client.post("/__admin/webhook-endpoints", json=endpoint), 201)
    await fill(em, 300)
    await api.advance(20)  # first attempts failed: retries are pending when the snapshot is taken
    await ok(await api.client.post("/__admin/snapshot", json={"name": "s"}), 201)
    saved = await snapshot_rows(api, "s")
    assert any(kind == "webhooks.attempts" for kind, _ in saved)
    assert any(kind == "webhooks.messages" and b'"state":"pending"' in body for (kind, _), body in saved.items())
    await ok(await api.create(external_id="later"), 201)
    await api.advance(3600)
    persister(api).slice_s = 0.0
    await ok(await api.client.post("/__admin/restore", json={"name": "s"}))
    restored, pending = dumped(em), len(em.scheduler)

    reference: Api = await make_api(frozen_settings(seed=23))
    reference.emulator.reset(everything=True)
    state.load(reference.emulator, [(kind, key, body) for (kind, key), body in saved.items()])
    assert restored == dumped(reference.emulator)
    assert pending == len(reference.emulator.scheduler)


async def test_a_disk_full_reload_is_built_aside_while_reads_are_answered(
    make_api: Callable[..., Any],
    stops: Stops,
    tmp_path: Path,
    full_disk: dict[str, bool],  # noqa: F811 (the fixture imported above)
) -> None:
    """A commit that fails puts memory back to the file: built aside in slices (reads answered meanwhile, from
    memory as it was), then swapped in whole; the failed request gets its 503 and memory equals the file."""
    path = tmp_path / "state.sqlite"
    api: Api = await make_api(frozen_settings(seed=23, state_file=str(path)))
    em = api.emulator
    await fill(em, 600)
    p = persister(api)
    assert await p.commit()
    kept = next(iter(em.store.workspace("wrks_local").engagements))
    kept_body = await ok(await api.get(kept))
    p.slice_s = 0.0
    full_disk["full"] = True
    reloading = stops.at(lambda: p.unavailable is not None)  # the first slice boundary of the reload
    creating = asyncio.create_task(api.create(external_id="while-full"))

    await reloading.reach()
    assert await ok(await api.get(kept)) == kept_body
    assert (await ok(await api.client.get("/__admin/health")))["status"] == "degraded"
    assert not creating.done()
    reloading.release.set()

    await problem(await creating, 503, "unavailable")
    assert em.store.find_by_external_id("wrks_local", "while-full") is None
    assert len(em.store.workspace("wrks_local").engagements) == 600
    assert await ok(await api.get(kept)) == kept_body
    full_disk["full"] = False
    await assert_file_matches_memory(api, path)
    await api.advance(3600)  # the rescheduled pipelines run
    assert (await ok(await api.get(kept)))["processing_status"] == "COMPLETED"
    assert em.scheduler.failures == []
    await assert_file_matches_memory(api, path)


async def test_a_restore_over_start_up_seed_data_merges_its_records_and_lookups(
    make_api: Callable[..., Any], mode: dict[str, Any]
) -> None:
    """Start-up seed data fills the default workspace's directory before the restored records go in: the staged
    records are inserted after them and the lookups merged (Directory.merged), which must give what loading the
    rows one by one and rebuilding the lookups gives (state.load, the reference)."""
    api: Api = await make_api(frozen_settings(seed=23, fixtures="sample", **mode))
    em = api.emulator
    directory = em.store.workspace("wrks_local").directory
    assert directory.contacts and directory.companies  # the sample's
    seeded = next(c for c in directory.contacts.values() if c.emails)
    freed = seeded.emails[0].email
    moved = {"emails": [{"email": "moved@elsewhere.example", "is_primary": True}]}
    await ok(await api.call("PATCH", f"/api/v2/contacts/{seeded.id}", json=moved))
    # Its old email now belongs to a contact made after start-up (the restored records hold both).
    await ok(await api.call("POST", "/api/v2/contacts", json={"emails": [{"email": freed}]}), 201)
    await fill(em, 300)  # participants become contacts too
    await ok(await api.client.post("/__admin/snapshot", json={"name": "s"}), 201)
    saved = await snapshot_rows(api, "s")
    await ok(await api.call("POST", "/api/v2/contacts", json={"emails": [{"email": "after@snapshot.example"}]}), 201)
    persister(api).slice_s = 0.0
    await ok(await api.client.post("/__admin/restore", json={"name": "s"}))

    reference: Api = await make_api(frozen_settings(seed=23, fixtures="sample"))
    reference.emulator.reset(everything=True)
    state.load(reference.emulator, [(kind, key, body) for (kind, key), body in saved.items()])
    assert dumped(em) == dumped(reference.emulator)
    for ws in reference.emulator.store.workspaces.values():
        mine, theirs = em.store.workspace(ws.id).directory, ws.directory
        for index in ("contact_by_email", "contact_by_phone", "company_by_domain"):
            assert getattr(mine, index) == getattr(theirs, index), index
    found = em.store.workspace("wrks_local").directory.contact_with_email(freed)
    assert found is not None and found.id != seeded.id
