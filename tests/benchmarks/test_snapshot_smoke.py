"""benchmarks/bench_snapshot.py runs end to end on a small store, in both modes (no timing asserted): the snapshot
saves every engagement and its pipeline run, and the poller's requests overlapping each piece of work are counted."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.bench_snapshot import measure, table


@pytest.mark.slow
@pytest.mark.parametrize("durable", [False, True])
def test_snapshot_benchmark_measures_both_pieces_of_work(durable: bool) -> None:
    result = asyncio.run(measure(300, durable=durable))
    assert result["rows"] > 2 * 300  # each engagement and its run, the event log, the world around them
    for work in ("snapshot", "restore"):
        assert result[work]["s"] > 0
        assert set(result[work]) >= {"health", "get", "loop_gap_ms", "reads_held_ms", "reads_held_cpu_ms"}
    assert "| restore |" in table([result])
