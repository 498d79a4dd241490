"""Start-up with a big state file (issues 18, 23): `serve` listens at once and loads the records in slices.

While the records load, `/__admin/health` answers 503 `starting` (with how far the load got) and every other
request waits for the whole state: nothing sees, or changes, half of it. The oracle for "loaded right" is a copy of
the same file loaded at once, the old way, and the file itself (plain sqlite3) after a write-through create.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from fake_askelephant import healthcheck
from fake_askelephant.api.admin.snapshots import persister_key
from fake_askelephant.app import create_app
from fake_askelephant.core.slicing import Slices
from fake_askelephant.persistence import persister as persister_module
from fake_askelephant.persistence import state
from fake_askelephant.persistence.statefile import StateFileError
from tests.cli_process import BANNER_END, ROOT, base_env, cli, start
from tests.conftest import Api, frozen_settings, problem, seed_call
from tests.reliability.serving import free_port, request, wait_until
from tests.reliability.test_directory_persistence import build_state
from tests.reliability.test_durability import assert_file_matches_memory, on_disk

ENGAGEMENTS = 60


async def saved_state(make_api: Callable[..., Any], path: Path) -> None:
    """A file with a bit of everything (directory, OAuth, a finished pipeline) and ENGAGEMENTS more calls."""
    first: Api = await make_api(frozen_settings(state_file=str(path)))
    await build_state(first)
    for n in range(ENGAGEMENTS):
        assert (await first.create(external_id=f"bulk-{n}")).status == 201
    await first.client.close()  # the persister closes the file: no WAL left beside it


async def deferred(aiohttp_client: Callable[..., Any], path: Path) -> Api:
    """The app as `serve` builds it: listening, the records not loaded yet."""
    app = create_app(frozen_settings(state_file=str(path)), defer_load=True)
    return Api(await aiohttp_client(app), app)


async def test_health_answers_starting_while_the_records_load_and_other_requests_wait(
    make_api: Callable[..., Any], aiohttp_client: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, copy = tmp_path / "state.sqlite", tmp_path / "loaded-at-once.sqlite"
    await saved_state(make_api, path)
    shutil.copy(path, copy)
    monkeypatch.setattr(persister_module, "LOAD_STEP_ROWS", 1)  # a step per row: many chances to answer
    api = await deferred(aiohttp_client, path)
    persister = api.app[persister_key]

    first = await api.client.get("/__admin/health")
    body = await first.json()
    assert first.status == 503 and first.headers["Retry-After"] == "1"
    assert body["status"] == "starting" and body["reason"].endswith(" records") and ": 0 of " in body["reason"]
    # Sent before the load starts: without the wait they would see (and add to) an empty store.
    listing = asyncio.create_task(api.call("GET", "/api/v2/engagements?limit=100"))
    created = asyncio.create_task(api.create(external_id="sent-while-loading"))

    loading = asyncio.create_task(persister.load(Slices(slice_s=0)))
    answers: list[tuple[int, str, bool, int]] = []  # status, health status, answered yet, records loaded
    while not loading.done():
        resp = await api.client.get("/__admin/health")
        body = await resp.json()
        found = re.search(r": ([\d,]+) of [\d,]+ records$", body.get("reason", ""))
        progress = int(found.group(1).replace(",", "")) if found else -1
        answers.append((resp.status, body["status"], listing.done() or created.done(), progress))
    await loading

    during = [a for a in answers if a[1] == "starting"]
    assert len(during) >= 3, answers
    assert all(status == 503 and not answered for status, _, answered, _ in during), answers
    loaded = [a[3] for a in during]
    assert loaded == sorted(loaded) and loaded[-1] > loaded[0], loaded
    listed = await (await listing).json()
    assert len(listed["data"]) == ENGAGEMENTS + 1  # all of them: the list waited for the whole state
    assert (await created).status == 201
    health = await api.client.get("/__admin/health")
    assert health.status == 200 and (await health.json())["status"] == "ok"

    # The same file loaded at once (create_app without defer), given the same create, holds the same state; only
    # the request-id stream differs (the health checks above used ids).
    at_once: Api = await make_api(frozen_settings(state_file=str(copy)))
    assert (await at_once.create(external_id="sent-while-loading")).status == 201
    mine, theirs = state.by_key(state.dump(api.emulator)), state.by_key(state.dump(at_once.emulator))
    for both in (mine, theirs):
        del both[("meta.rng", "request_ids")], both[("meta.rng.drawn", "request_ids")]
    assert mine == theirs
    await assert_file_matches_memory(api, path)  # the create went through the write set to disk


async def test_a_row_that_does_not_decode_fails_the_load_and_the_requests_that_waited(
    make_api: Callable[..., Any], aiohttp_client: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.sqlite"
    await saved_state(make_api, path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        (key,) = db.execute("SELECT key FROM records WHERE kind = 'workspace.engagements' ORDER BY seq DESC").fetchone()
        db.execute("UPDATE records SET body = '{\"id\": 7}' WHERE kind = 'workspace.engagements' AND key = ?", (key,))
    monkeypatch.setattr(persister_module, "LOAD_STEP_ROWS", 1)
    api = await deferred(aiohttp_client, path)
    waiting = asyncio.create_task(api.call("GET", "/api/v2/engagements"))

    with pytest.raises(StateFileError) as failed:
        await api.app[persister_key].load(Slices(slice_s=0))
    message = str(failed.value)
    assert message == (
        f"{path}: damaged state file (cannot load its records: row workspace.engagements {key!r}: $.id: "
        "Expected `str`, got `int`); to start fresh, move the file away or pass another --state-file"
    )
    for resp in (await waiting, await api.call("GET", "/api/v2/engagements")):  # sent before and after the failure
        body = await problem(resp, 503, "unavailable")
        assert "The saved state could not be loaded" in body["detail"] and key in body["detail"]
    health = await api.client.get("/__admin/health")
    assert health.status == 503 and (await health.json())["status"] == "failed"


# A real `serve` ------------------------------------------------------------------------------------------------------


def grown(source: Path, copies: int) -> int:
    """Add `copies` clones of the file's first engagement (and its pipeline run) under fresh ids: a big file in a
    second, where creating that many through the API takes minutes. Returns how many records it holds."""
    with contextlib.closing(sqlite3.connect(source)) as db, db:
        key, body = db.execute(
            "SELECT key, body FROM records WHERE kind = 'workspace.engagements' ORDER BY seq"
        ).fetchone()
        run = orjson.loads(db.execute("SELECT body FROM records WHERE kind = 'pipeline.runs' LIMIT 1").fetchone()[0])
        engagement = orjson.loads(body)
        ws = key.partition("/")[0]
        rows = []
        for n in range(copies):
            new_id = f"ngmt_01KK97FTG0{n:016d}"
            rows.append(("workspace.engagements", f"{ws}/{new_id}", orjson.dumps({**engagement, "id": new_id,
                         "external_id": f"clone-{n}"})))  # fmt: skip
            rows.append(("pipeline.runs", new_id, orjson.dumps({**run, "engagement_id": new_id})))
        db.executemany("INSERT INTO records (kind, key, body) VALUES (?, ?, ?)", rows)
        return int(db.execute("SELECT count(*) FROM records").fetchone()[0])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health(base: str) -> tuple[int, dict[str, Any]] | None:
    try:
        return request("GET", f"{base}/__admin/health")
    except OSError:
        return None  # not listening yet


@pytest.mark.slow
def test_a_served_big_state_file_answers_health_at_once_and_stops_on_sigterm_mid_load(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    env = base_env(FAKE_ASKELEPHANT_STATE_FILE=str(path), FAKE_ASKELEPHANT_TIME_SCALE="0")
    first = start(["serve", "--port", "0"], env, tmp_path, "first")
    try:
        status, created = request("POST", f"{first.api}/v2/engagements", seed_call(external_id="the-first"))
    finally:
        assert first.stop() == 0
    assert status == 201
    records = grown(path, 40_000)  # ~80,000 records: a load that lasts far longer than health needs to answer
    before = on_disk(path)

    # Stopped halfway through the load: exit 0 at once, no banner, nothing written.
    base = f"http://127.0.0.1:{free_port()}"
    command = [*cli(), "serve", "--port", base.rpartition(":")[2]]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        answers: list[tuple[int, dict[str, Any]]] = []

        def halfway() -> bool:
            answer = health(base)
            answers.extend([answer] if answer else [])
            found = re.search(r": ([\d,]+) of", answer[1].get("reason", "")) if answer else None
            return found is not None and int(found.group(1).replace(",", "")) >= records // 2

        wait_until(halfway, 120, "half of the records loaded")
        status, body = answers[0]
        assert body["pid"] == proc.pid, body  # this serve answered, not another process on the port picked
        assert status == 503 and body["status"] == "starting", body
        assert body["reason"].endswith(f" of {records:,} records"), body
        assert answers[-1][1]["status"] == "starting", answers[-1]
        cpu_before = cpu_seconds(proc.pid)
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, wait_status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - stopped
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
        proc.communicate()  # closes the pipes
    assert proc.returncode == 0 and elapsed < 5, err
    # What the half-loaded state costs to let go of: measured 0.06 s of CPU; 1.4 s when the garbage collector
    # still had every loaded object to traverse at exit (not frozen on this path), past the 4 s watchdog
    # (exit 1) on a loaded machine. CPU time, not wall time: other load barely moves it.
    assert usage.ru_utime + usage.ru_stime - cpu_before < 0.5, (usage, cpu_before)
    assert BANNER_END.encode() not in out and b"Traceback" not in err
    assert on_disk(path) == before

    # Started again and left to load (the banner comes once it is loaded): every record is there, SIGTERM → exit 0
    # within 5 s.
    again = start(["serve", "--port", "0"], env, tmp_path, "again")
    try:
        assert request("GET", f"{again.base}/__admin/health")[1]["status"] == "ok"
        for engagement_id in (created["id"], "ngmt_01KK97FTG00000000000000000", "ngmt_01KK97FTG00000000000039999"):
            assert request("GET", f"{again.api}/v2/engagements/{engagement_id}")[0] == 200, engagement_id
        stopped = time.monotonic()
    finally:
        code = again.stop()
    assert code == 0 and time.monotonic() - stopped < 5


async def test_the_container_health_check_says_it_is_starting(
    make_api: Callable[..., Any], aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite"
    await saved_state(make_api, path)
    api = await deferred(aiohttp_client, path)
    url = str(api.client.make_url("/__admin/health"))
    healthy, line = await asyncio.to_thread(healthcheck.check, url)
    assert not healthy
    assert line.startswith(f"unhealthy: {url}: starting (loading the state file {path}: 0 of ")
    await api.app[persister_key].load()
    healthy, line = await asyncio.to_thread(healthcheck.check, url)
    assert healthy and line.startswith(f"ok: {url}"), line
