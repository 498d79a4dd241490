"""Nothing bricks the emulator (issue 18): the clock's range, delay limits, old bricked files, bad files.

A bad state file is one line on stderr naming the file and the problem, exit code 2, never a traceback and never
a silent empty start; a file written before the limits existed loads with the bad values clamped and reported.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fake_askelephant.core.clock import CLOCK_MAX_MS, VirtualClock
from fake_askelephant.core.timefmt import format_ms, parse_iso
from tests.cli_process import ROOT, base_env, cli
from tests.conftest import Api, frozen_settings, problem

DATA = Path(__file__).parent / "data"
END = "9099-12-31T23:59:59.999Z"
YEAR_S = 366 * 86_400


def v1_bricked(tmp_path: Path) -> Path:
    """A state file written by main before issue 18, with the clock in year 11476 and 1e15 s delays."""
    path = tmp_path / "old.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript((DATA / "state-v1-bricked.sql").read_text())
    return path


# The clock's range ---------------------------------------------------------------------------------------------


async def test_advancing_past_the_end_of_the_clock_is_a_422_naming_the_limit(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api(frozen_settings(start_time=CLOCK_MAX_MS - 1000 * YEAR_S // 2))
    body = await problem(
        await api.client.post("/__admin/clock/advance", json={"seconds": YEAR_S}), 422, "validation_failed"
    )
    assert body["errors"][0]["field"] == "seconds" and END in body["errors"][0]["message"]
    await api.advance(YEAR_S // 2)  # up to the very end is fine
    assert (await (await api.client.get("/__admin/clock")).json())["now"] == END
    await problem(await api.client.post("/__admin/clock/advance", json={"seconds": 0.001}), 422, "validation_failed")
    set_past = await api.client.post("/__admin/clock/set", json={"now": "9999-01-01T00:00:00Z"})
    assert "9099-12-31" in (await problem(set_past, 422, "validation_failed"))["errors"][0]["message"]


async def test_no_run_of_advances_can_brick_the_emulator(make_api: Callable[..., Any]) -> None:
    """Issue 18: 366-day advances pushed the clock past 9999 and every route, health and reset too, answered 500."""
    api: Api = await make_api(frozen_settings(start_time=parse_iso("9000-01-01T00:00:00Z")))
    created = await (await api.create()).json()
    refused = 0
    for _ in range(200):  # 200 years' worth from year 9000; stops at the first refusal
        resp = await api.client.post("/__admin/clock/advance", json={"seconds": YEAR_S})
        if resp.status == 422:
            refused += 1
            break
        assert resp.status == 200, await resp.text()
    assert refused == 1
    assert (await api.client.get("/__admin/health")).status == 200
    assert (await api.get(created["id"])).status == 200
    assert (await api.client.get("/__admin/state")).status == 200
    assert (await api.client.get("/__admin/events")).status == 200
    assert (await api.client.post("/__admin/reset")).status == 200


def test_a_running_clock_stops_at_the_end_of_its_range() -> None:
    wall = [0.0]
    clock = VirtualClock(CLOCK_MAX_MS - 5_000, time_scale=1000.0, monotonic=lambda: wall[0])
    wall[0] = 3600.0  # an hour of wall time is 1,000 virtual hours
    assert clock.now_ms() == CLOCK_MAX_MS
    assert format_ms(clock.now_ms()) == END


@pytest.mark.parametrize("route", ["/__admin/pipeline-rules", "override"])
async def test_pipeline_delays_beyond_a_year_are_a_422_naming_the_limit(
    make_api: Callable[..., Any], route: str
) -> None:
    """Issue 18: delays of 1e15 s made /__admin/state answer 500 until a reset, across restarts too."""
    api: Api = await make_api(frozen_settings())
    pipeline = {"delays": {"signals": 1e15}}
    if route == "override":
        created = await (await api.create()).json()
        resp = await api.client.post(f"/__admin/engagements/{created['id']}/pipeline", json=pipeline)
    else:
        resp = await api.client.post(route, json={"match": {"external_id": "*"}, "pipeline": pipeline})
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"].endswith("delays.signals")
    assert str(YEAR_S) in body["errors"][0]["message"]
    assert (await api.client.get("/__admin/state")).status == 200


def test_formatting_never_raises_even_for_times_no_route_can_store_any_more() -> None:
    assert format_ms(300_000_000_000_000) == "9999-12-31T23:59:59.999Z"
    assert format_ms(-1) == "1970-01-01T00:00:00.000Z"


# Files bricked by an earlier version ---------------------------------------------------------------------------


async def test_a_file_bricked_by_an_older_version_loads_clamped_and_says_so(
    make_api: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = v1_bricked(tmp_path)
    with caplog.at_level(logging.WARNING, logger="fake_askelephant.persistence"):
        api: Api = await make_api(frozen_settings(state_file=str(path)))
    notes = [r.getMessage() for r in caplog.records if r.name == "fake_askelephant.persistence"]
    assert any("virtual clock" in n and END in n for n in notes), notes
    assert sum("1e+15" in n and "clamped" in n for n in notes) == 2, notes  # the rule and the matched run
    health = await api.client.get("/__admin/health")
    assert health.status == 200 and (await health.json())["now"] == END
    state = await api.client.get("/__admin/state")
    assert state.status == 200
    engagements = (await state.json())["workspaces"][0]["engagements"]
    assert len(engagements) == 2  # loaded, not an empty start
    assert (await api.client.post("/__admin/reset")).status == 200


# Bad files: one line, exit 2 -----------------------------------------------------------------------------------


def serve_with(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli(), "serve", "--state-file", str(path), "--port", "0"],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def assert_refused(result: subprocess.CompletedProcess[str], path: Path, *phrases: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"fake-askelephant: {path}: "), lines
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert result.stdout == ""  # no banner: it never served


def make_file(tmp_path: Path, *statements: str) -> Path:
    path = tmp_path / "state.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for statement in statements:
            db.execute(statement)
    return path


def good_file(tmp_path: Path) -> Path:
    """A real state file (the v1 one: it loads, clamped)."""
    return v1_bricked(tmp_path)


@pytest.mark.slow
def test_a_corrupt_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"\x00not a database\x00" * 64)
    assert_refused(serve_with(path), path, "not a fake-askelephant state file", "start fresh")


@pytest.mark.slow
def test_someone_elses_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = make_file(tmp_path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    assert_refused(serve_with(path), path, "not a fake-askelephant state file", "invoices")
    with contextlib.closing(sqlite3.connect(path)) as db:  # not touched: no tables of ours added
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["invoices"]


@pytest.mark.slow
def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = good_file(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = 'fake-askelephant-state/99' WHERE key = 'format'")
    assert_refused(serve_with(path), path, "newer fake-askelephant", "format 99")


@pytest.mark.slow
def test_a_file_missing_its_records_table_is_refused_not_started_empty(tmp_path: Path) -> None:
    """Issue 18: with `records` dropped the emulator started empty without a word."""
    path = good_file(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP TABLE records")
    assert_refused(serve_with(path), path, "records", "missing")


@pytest.mark.slow
def test_a_hand_edited_row_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Issue 18: a hand-corrupted row gave a Python traceback."""
    path = good_file(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE records SET body = X'7B2269' WHERE kind = 'workspace.engagements'")  # '{"i'
    assert_refused(serve_with(path), path, "damaged state file")


@pytest.mark.slow
def test_a_file_whose_format_row_is_foreign_is_refused(tmp_path: Path) -> None:
    path = make_file(
        tmp_path,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
        "INSERT INTO meta VALUES ('format', 'something-else/9')",
    )
    assert_refused(serve_with(path), path, "something-else/9")
