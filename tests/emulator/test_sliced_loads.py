"""Seed-data loads (`POST /__admin/fixtures`) run in slices and change nothing else (issue 23 point 1).

A load yields to the event loop between records once its slice is used (`seed_data.slice_s`; 0 yields after every
record, infinity never: the behaviour before slicing). Both must write the same records, ids and events, byte for
byte, whatever is read in between; and health and single reads are answered while a load is under way. No timing
here: how long a slice is on a big load is the benchmarks' job (benchmarks/bench_content.py --loads).
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from typing import Any

from fake_askelephant.core.models import Tag
from tests.conftest import Api, frozen_settings

SAMPLE = {"fixtures": "sample"}  # upserts meet the sample world's users, companies, contacts and tags


def document(n: int) -> dict[str, Any]:
    """n records per list in the default workspace, some of them updating what is there, plus a second workspace."""
    return {
        "users": [{"email": f"user{i}@team.example", "first_name": "U", "last_name": f"N{i}"} for i in range(n)],
        "companies": [
            {"domains": [{"domain": f"c{i}.example"}], "name": f"Company {i}", "industry": "Software"} for i in range(n)
        ],
        "contacts": [
            {
                "first_name": "C",
                "last_name": f"L{i}",
                "emails": [{"email": f"p{i}@c{i}.example"}],
                "company": f"c{i}.example",
            }
            for i in range(n)
        ],
        "tags": [{"name": f"Topic {i}"} for i in range(n)] + [{"name": "topic 0"}],  # the last renames the first
        "workspaces": [
            {"workspace_id": "wrks_other", "tags": [{"name": "Elsewhere"}], "users": [{"email": "o@x.example"}]}
        ],
    }


async def load(api: Api, doc: dict[str, Any]) -> bytes:
    resp = await api.client.post("/__admin/fixtures", json=doc)
    assert resp.status == 200, await resp.text()
    body: bytes = await resp.read()
    return body


async def story(api: Api, *, poll: bool) -> dict[str, Any]:
    """Two loads (the second updates what the first made); `poll` reads health and a tag all along."""
    answered: list[int] = []
    stop = asyncio.Event()

    async def poller() -> None:
        while not stop.is_set():
            for path in ("/__admin/health", "/api/v2/tags?limit=5"):
                answered.append((await api.call("GET", path)).status)

    task = asyncio.create_task(poller()) if poll else None
    first = await load(api, document(40))
    second = await load(api, document(25))
    stop.set()
    if task is not None:
        await task
        assert answered and set(answered) == {200}
    events = await (await api.client.get("/__admin/events", params={"limit": "1000"})).read()
    state = await (await api.client.get("/__admin/state", params={"limit": "1000"})).read()
    return {"responses": [first, second], "events": events, "state": state}


async def test_a_sliced_load_writes_the_same_records_and_events_byte_for_byte(make_api: Callable[..., Any]) -> None:
    whole: Api = await make_api(frozen_settings(seed=23, **SAMPLE))
    sliced: Api = await make_api(frozen_settings(seed=23, **SAMPLE))
    whole.emulator.seed_data.slice_s = float("inf")  # never yields: the behaviour before slicing
    sliced.emulator.seed_data.slice_s = 0.0  # yields after every record
    expected = await story(whole, poll=False)
    got = await story(sliced, poll=True)
    assert expected["events"].count(b'"v1.tag.created"') >= 40  # the history compared is the loads' own
    assert got == expected


async def test_health_and_reads_answer_while_a_large_load_runs(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api()
    api.emulator.seed_data.slice_s = 0.0
    under_way = asyncio.Event()
    api.emulator.bus.subscribe(lambda _: under_way.set())  # the load's first created event
    loading = asyncio.create_task(load(api, document(2_000)))
    await under_way.wait()
    health = await api.client.get("/__admin/health")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    owner = await api.call("GET", "/api/v2/users/usr_local")
    assert owner.status == 200
    assert not loading.done(), "health and a read were answered while the load was still running"
    body = await loading
    assert b"usr_" in body
    tags = api.emulator.store.workspace("wrks_local").directory.tags
    assert len(tags) == 2_000  # all of it, once the request answers


async def test_a_load_looks_each_record_up_instead_of_scanning_the_workspace(make_api: Callable[..., Any]) -> None:
    """Regression: the upserts found users by email and tags by name with a scan of every user or tag, once per
    record: a load of 10,000 tags took minutes (issue 23). Count the scans of the tag table during a load."""
    api: Api = await make_api()
    directory = api.emulator.store.workspace("wrks_local").directory
    scans = 0

    class Counting(dict[str, Tag]):
        def values(self) -> Any:
            nonlocal scans
            scans += 1
            return super().values()

    directory.tags = Counting(directory.tags)
    await load(api, {"tags": [{"name": f"Topic {i}"} for i in range(300)]})
    await load(api, {"tags": [{"name": f"topic {i}"} for i in range(300)]})  # renames every one: 300 updates
    assert len(directory.tags) == 300
    assert scans <= 8, f"{scans} scans of the tag table for 600 upserts"


async def test_loads_one_after_another_each_check_against_what_the_other_wrote(make_api: Callable[..., Any]) -> None:
    """Two loads sent at once run one at a time: the second's checks see the first's records (no interleaving of
    one load's writes between the other's checks and writes)."""
    api: Api = await make_api()
    api.emulator.seed_data.slice_s = 0.0
    a = asyncio.create_task(api.client.post("/__admin/fixtures", json={"tags": [{"name": "Shared"}]}))
    b = asyncio.create_task(api.client.post("/__admin/fixtures", json={"tags": [{"id": "tag_MINE", "name": "shared"}]}))
    first, second = await a, await b
    assert first.status == 200
    assert second.status == 409, await second.text()  # the name belongs to the tag the first load made


async def test_a_load_runs_without_the_collectors_own_full_passes(make_api: Callable[..., Any]) -> None:
    """Regression: validating 40,000 records on the worker thread set off full collector passes there (57–91 ms of
    CPU each, holding the GIL: health waited up to 150 ms). Automatic passes are off while a load runs and back on
    after it, whatever it ends with."""
    api: Api = await make_api()
    seen: list[bool] = []
    api.emulator.bus.subscribe(lambda _: seen.append(gc.isenabled()))
    was = gc.isenabled()
    body = await load(api, document(20))
    assert seen and not any(seen)
    assert gc.isenabled() == was
    assert json.loads(body)["data"][0]["workspace_id"] == "wrks_local"
    bad = await api.client.post("/__admin/fixtures", json={"users": [{"email": 5}]})
    assert bad.status == 422 and gc.isenabled() == was
