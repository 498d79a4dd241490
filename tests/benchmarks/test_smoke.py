"""The benchmark suite still runs end to end: `python -m benchmarks --smoke` (tiny sizes, no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import BENCHMARKS

pytestmark = pytest.mark.slow  # runs the benchmark suite as a process

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_json_and_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["meta"]["smoke"] is True
    assert doc["meta"]["generator"] == "aiohttp"
    assert set(doc["benchmarks"]) == set(BENCHMARKS)
    for name, bench in doc["benchmarks"].items():
        assert bench["rows"], f"{name} produced no rows"
        assert all(len(row) == len(bench["columns"]) for row in bench["rows"]), name
    check_names = {c["name"] for c in doc["checks"]}
    assert {"start vs floor", "idle RSS", "GET p99 (c=32)", "reset with a full store"} <= check_names
    assert all(isinstance(c["measured"], int | float) and isinstance(c["met"], bool) for c in doc["checks"])

    table = (tmp_path / "results.md").read_text()
    assert "## Targets" in table and "| Target | Measured | Goal | Met |" in table
    assert table in result.stdout  # the same table is printed
    assert sum(1 for line in table.splitlines() if line.startswith("## ")) == len(BENCHMARKS) + 2


def test_unknown_benchmark_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--only", "startup,nope"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown benchmark(s): nope" in result.stderr
