"""`fake-askelephant scenario …` as CI runs it: exit codes, reports, and byte-identical runs across processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from contract_tests.inprocess import ThreadedServer
from fake_askelephant.cli import main
from fake_askelephant.scenarios import library, load_source, run_scenario
from tests.conftest import served_on_a_thread

ROOT = Path(__file__).resolve().parents[2]
FAILING = """
name: deliberately-failing
steps:
  - name: submit
    request:
      method: POST
      path: /api/v2/engagements
      body: {type: CALL, title: Demo, source_system: d, external_id: e-1, media_url: "https://r.example.com/1.mp3"}
    expect:
      status: 201
      body: {processing_status: COMPLETED, title: Demo}
  - advance: 10s
"""


def run_cli(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    return subprocess.run(
        [sys.executable, "-m", "fake_askelephant", "scenario", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=110,
        check=False,
    )


@pytest.mark.slow
async def test_cli_runs_the_library_green_and_matches_an_in_process_run_byte_for_byte(tmp_path: Path) -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.yaml"))
    proc = run_cli(
        "run",
        *files,
        "--junit",
        str(tmp_path / "junit.xml"),
        "--json",
        str(tmp_path / "report.json"),
        "--transcript-dir",
        str(tmp_path / "t"),
        hash_seed="4242",  # another hash seed: set/dict iteration order must not leak into output
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(files)} of {len(files)} scenario(s) passed" in proc.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")  # noqa: S314 - our own output
    assert suite is not None and suite.get("tests") == str(len(files)) and suite.get("failures") == "0"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] is True and len(report["scenarios"]) == len(files)
    for entry in library():
        result = await run_scenario(load_source(entry.name))
        written = (tmp_path / "t" / f"{entry.name}.jsonl").read_bytes()
        assert written == result.transcript_bytes(), f"{entry.name}: the subprocess run differs from this one"


@pytest.mark.slow
def test_failing_scenario_exits_1_with_the_mismatch_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    proc = run_cli("run", str(path), "--junit", str(tmp_path / "j.xml"))
    assert proc.returncode == 1
    out = proc.stdout
    assert "FAIL deliberately-failing" in out
    assert '$.processing_status: expected "COMPLETED", got "PENDING"' in out
    assert f"({path}:4)" in out  # the step's line
    assert re.search(r"^\s+-\s+2 advance\s+skipped$", out, re.M), out  # nothing runs after a failure
    assert "0 passed, 1 failed, 1 skipped" in out
    case = ET.parse(tmp_path / "j.xml").getroot().find("testsuite/testcase")  # noqa: S314 - our own output
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and "step 1 submit" in failure.get("message", "")
    assert "processing_status" in (failure.text or "")


def test_invalid_file_exits_2_with_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("steps:\n  - advance: 5s\n  - reqest: {path: /api/v2/engagements}\n")
    assert main(["scenario", "run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: steps[1]: a step needs one action" in err
    assert "unknown key 'reqest' (did you mean 'request'?)" in err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "no/such/file.yaml"]) == 2
    assert "no such file or built-in scenario" in capsys.readouterr().err


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    listed = capsys.readouterr().out
    assert "happy-path" in listed and "receiver-down" in listed
    assert main(["scenario", "show", "late-insights"]) == 0
    shown = capsys.readouterr().out
    assert shown == (ROOT / "scenarios" / "late_insights.yaml").read_text()
    assert main(["scenario", "show", "nope"]) == 2
    assert "no built-in scenario 'nope'" in capsys.readouterr().err


def test_run_a_builtin_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "duplicate-submit"]) == 0
    assert "PASS duplicate-submit" in capsys.readouterr().out


@pytest.mark.slow
def test_a_reader_that_goes_away_ends_the_run_quietly() -> None:
    """`scenario run … | head -1` printed a BrokenPipeError traceback; now it stops with exit 1 and no noise."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first report line hits a closed pipe, deterministically
    try:
        result = subprocess.run(
            [sys.executable, "-m", "fake_askelephant", "scenario", "run", str(ROOT / "scenarios" / "happy_path.yaml")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def running() -> Iterator[str]:
    """A running emulator's root, http://127.0.0.1:PORT (another thread: `main` runs its own event loop)."""
    with served_on_a_thread() as emulator:
        yield emulator.origin


@pytest.mark.parametrize("form", ["{root}", "{root}/", "{root}/api", "{root}/api/"])
def test_target_url_takes_the_root_or_the_api_base(running: str, form: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--target-url http://…/api` (what askelephant-contract takes) failed every scenario on a 404 health check."""
    assert main(["scenario", "run", "builtin:duplicate-submit", "--target-url", form.format(root=running)]) == 0
    assert "PASS duplicate-submit" in capsys.readouterr().out


@pytest.mark.parametrize("path", ["/api/v2", "/emulator"])
def test_a_target_url_with_another_path_gets_a_hint(
    running: str, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "run", "builtin:duplicate-submit", "--target-url", running + path]) == 2
    err = capsys.readouterr().err
    assert f"{running}{path}/__admin/health answered 404" in err
    assert f"this host's emulator answers at {running}: give its root {running} or its API base {running}/api" in err


def test_a_target_url_that_is_no_emulator_says_what_it_takes(capsys: pytest.CaptureFixture[str]) -> None:
    server = ThreadedServer(web.Application()).start()  # answers 404 everywhere
    try:
        assert main(["scenario", "run", "builtin:duplicate-submit", "--target-url", server.origin]) == 2
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert "answered 404: is this the emulator?" in err and "its root (http://HOST:PORT)" in err
