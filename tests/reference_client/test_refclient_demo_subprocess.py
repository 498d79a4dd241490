"""``askelephant-ref demo`` as a user runs it: a started ``fake-askelephant serve --time-scale 60``,
then the console script in its own process. The demo follows the emulator's running clock, so this
takes a few wall seconds (about four virtual minutes at 60×)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def console_script(name: str, module: str) -> list[str]:
    script = shutil.which(name, path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", module]


@pytest.fixture
def served_emulator(tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stderr = (tmp_path / "emulator.log").open("w")
    proc = subprocess.Popen(
        [*console_script("fake-askelephant", "fake_askelephant"), "serve", "--port", "0", "--time-scale", "60",
         "--seed", "5"],
        stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = []
    for line in proc.stdout:
        banner.append(line)
        if "Time scale" in line:
            break
    match = re.search(r"Base URL\s+(http://127\.0\.0\.1:\d+/api)", "".join(banner))
    try:
        assert match, f"no base URL in banner {banner!r}; log: {(tmp_path / 'emulator.log').read_text()}"
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        stderr.close()


def has_webhook_endpoints(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url.removesuffix("/api") + "/__admin/webhook-endpoints", timeout=5):
            return True
    except urllib.error.HTTPError as err:
        return err.code != 404


def test_demo_against_a_served_emulator_prints_insights(served_emulator: str) -> None:
    if not has_webhook_endpoints(served_emulator):
        pytest.skip("the emulator does not serve /__admin/webhook-endpoints yet")
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
