"""``askelephant-ref demo`` as a user runs it: a started ``fake-askelephant serve --time-scale 60``,
then the console script in its own process. The demo follows the emulator's running clock, so this
takes a few wall seconds (about four virtual minutes at 60×)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_process import ROOT, base_env, console_script, start

pytestmark = pytest.mark.slow  # runs serve and the demo as processes


@pytest.fixture
def served_emulator(tmp_path: Path) -> Iterator[str]:
    server = start(["serve", "--port", "0", "--time-scale", "60", "--seed", "5"], base_env(), tmp_path, "emulator")
    try:
        yield server.api
    finally:
        try:
            server.stop()
        except subprocess.TimeoutExpired:
            server.close()  # kills what SIGTERM did not stop


def test_demo_against_a_served_emulator_prints_insights(served_emulator: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("ASKELEPHANT_API_KEY", None)

    done = subprocess.run(
        [*console_script("askelephant-ref", "reference_client"), "demo", "--base-url", served_emulator],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=90, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("1 Ingest", "3 Notify", "4 Retrieve", "Action items", "Signals", "demo complete"):
        assert step in done.stdout, step
    assert "time_scale 60" in done.stdout


def test_served_emulator_answers_the_demo_health_probe(served_emulator: str) -> None:
    """The demo tells an emulator from the real API by this document (and reads time_scale from it)."""
    with urllib.request.urlopen(served_emulator.removesuffix("/api") + "/__admin/health", timeout=5) as response:
        health = json.loads(response.read())
    assert health["status"] == "ok" and health["time_scale"] == 60
