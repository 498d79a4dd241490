"""`askelephant-contract api` end to end: passes a served emulator, fails a broken one, writes JUnit XML."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contract_tests.cli import main
from contract_tests.target import Target
from tests.cli_process import ROOT, base_env, console_script, start
from tests.contract.test_api_suites import KNOWN_EMULATOR_DISCREPANCIES


@pytest.fixture
def served_emulator(tmp_path: Path) -> Iterator[str]:
    """``fake-askelephant serve`` on a free port with its default (moving, wall-speed) clock."""
    server = start(["serve", "--host", "127.0.0.1", "--port", "0"], base_env(), tmp_path, "serve")
    try:
        yield server.api
    finally:
        server.stop(timeout=30)


@pytest.mark.slow
def test_cli_passes_a_served_emulator(served_emulator: str, tmp_path: Path) -> None:
    junit = tmp_path / "api.xml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ASKELEPHANT_API_KEY", None)
    cmd = [
        *console_script("askelephant-contract", "contract_tests.cli"),
        "api",
        "--target-url",
        served_emulator,
        "--max-examples",
        "4",
        "--steps",
        "10",
        "--junit-xml",
        str(junit),
        # Known emulator-vs-spec gaps fail their check; the rest of the run must still be clean.
        *(arg for name in KNOWN_EMULATOR_DISCREPANCIES for arg in ("--skip", name)),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(emulator)" in done.stdout and "OK:" in done.stdout
    suite = ET.fromstring(junit.read_text()).find("testsuite")  # noqa: S314 - our own report
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"


def test_cli_fails_a_broken_emulator(
    broken_target: Callable[[str], Target], capsys: pytest.CaptureFixture[str]
) -> None:
    url = broken_target("replay_201").base_url
    code = main(["api", "--target-url", url, "--suite", "create", "--max-examples", "4", "--no-shrink"])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"FAIL\s+create\s+valid_create_then_replay", out), out
    assert "expected 200" in out
