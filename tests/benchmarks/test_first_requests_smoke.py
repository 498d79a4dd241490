"""benchmarks/first_requests.py runs end to end (no timing asserted): every request kind answers as it should."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.first_requests import CASES

pytestmark = pytest.mark.slow  # starts a process per request kind

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"POST /api/v2/engagements": 201, "POST /__admin/faults": 201}


def test_each_request_kind_is_measured_in_a_fresh_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.first_requests", "--repeat", "1"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in result.stdout.splitlines()[3:]}
    assert list(rows) == [f"{method} {path}" for method, path, _ in CASES]
    for name, row in rows.items():
        assert row.endswith(f"({EXPECTED.get(name, 200)}) |"), row
