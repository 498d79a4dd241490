"""The raw-latency recorder runs end to end on tiny sizes and keeps every request (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from benchmarks.bench_latency import emulator_requests, percentile, summarize
from benchmarks.loadgen import COUNTER

ROOT = Path(__file__).resolve().parents[2]


def test_percentiles_are_nearest_rank_over_every_sample() -> None:
    ordered = [float(n) for n in range(1, 1001)]  # 1 … 1000 ms
    assert percentile(ordered, 0.50) == 500.0
    assert percentile(ordered, 0.99) == 990.0
    assert percentile(ordered, 0.999) == 999.0
    assert percentile([], 0.99) == 0.0


def test_one_stall_shows_in_max_and_the_pause_count_not_in_p99() -> None:
    # 999 requests of 1 ms and one of 300 ms over 10 s: a per-request recorder's p99 stays 1 ms (wrk's corrected
    # p99 would not); the stall is in max and in the count of requests over 100 ms.
    row = summarize("t", "get", 1, 10.0, [0.001] * 999 + [0.3], 0, 0)
    assert (row.p50_ms, row.p99_ms, row.p999_ms, row.max_ms) == (1.0, 1.0, 1.0, 300.0)
    assert row.over_100ms_per_10s == 1.0
    assert row.requests == 1000 and row.rps == 100.0


def test_every_create_run_sends_external_ids_no_run_sent_before() -> None:
    # A repeat that numbered its creates from 1 again replayed the previous run's external_ids: each answered 200
    # from the idempotency lookup, and the later repeats measured lookups as "new-engagement POSTs".
    create = emulator_requests("ngmt_x", "new")["create"]

    def external_id(body: bytes | None) -> str:
        assert body is not None
        return str(orjson.loads(body)["external_id"])

    first_run = [external_id(create.body()) for _ in range(3)]
    second_run = [external_id(create.body()) for _ in range(3)]
    wrk_runs = [external_id(create.wrk_body()) for _ in range(2)]
    assert len(set(first_run + second_run)) == 6
    assert all(w.endswith(f"-{COUNTER}") for w in wrk_runs) and len(set(wrk_runs)) == 2
    assert not {w.replace(COUNTER, "1") for w in wrk_runs} & set(first_run + second_run)
    assert create.status == 201  # a replay's 200 counts as an error


@pytest.mark.slow  # starts three servers
def test_a_tiny_run_measures_both_servers_on_both_routes_and_one_advance(tmp_path: Path) -> None:
    out = tmp_path / "latency.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_latency", "--engagements", "30", "--duration", "0.2",
         "--warmup", "0", "--connections", "2", "--repeat", "2", "--json", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(out.read_text())
    keys = {(r["route"], r["connections"], r["target"]) for r in doc["rows"]}
    assert keys == {(route, 2, target) for route in ("create", "get") for target in ("emulator", "floor")}
    for row in doc["rows"]:
        assert row["requests"] > 0 and row["errors"] == 0, row
        assert row["p50_ms"] <= row["p99_ms"] <= row["p999_ms"] <= row["max_ms"], row
    creates = next(r for r in doc["rows"] if r["route"] == "create" and r["target"] == "emulator")
    assert creates["stored"][1] >= 30 + creates["requests"]  # the creates grew the store
    [advance] = doc["advances"]
    # An advance over 30 engagements can end between two polls 10 ms apart (it did, 1 run in 5, once stage jobs
    # were queued lazily): no health request then overlaps it, and the row says so instead of inventing one.
    assert advance["advance_s"] > 0 and advance["health_requests"] >= 0
    if advance["health_requests"]:
        assert advance["health_p50_ms"] <= advance["health_p99_ms"] <= advance["health_max_ms"]
    assert doc["table"] in result.stdout
