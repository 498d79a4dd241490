"""Schemathesis against the OpenAPI document the emulator serves at /__admin/openapi.json, as a vendor would run
it: the CLI, every check (valid request rejected and schema-violating request accepted included), and all four
phases — the document's examples, coverage (boundary values of every constraint), fuzzing, and stateful sequences
that follow the document's links (create → get/update/delete, next_cursor → the next page).

Zero failures. The only failures forgiven are the rules the document can state only in prose, each listed in
schemathesis_hooks.py; the run's settings are in schemathesis.toml. Bounded and repeatable: SCHEMATHESIS_EXAMPLES
examples per operation (default 5), deterministic generation, no example database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_KEY, OnAThread, frozen_settings, served_on_a_thread

HERE = Path(__file__).resolve().parent
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
PHASES = ("Examples", "Coverage", "Fuzzing", "Stateful")


@pytest.fixture(scope="module")
def emulator() -> Iterator[OnAThread]:
    with served_on_a_thread(frozen_settings(fixtures="sample")) as running:
        yield running


def schemathesis_cli() -> list[str]:
    script = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "schemathesis.cli"]


@pytest.mark.slow
@pytest.mark.timeout(480)  # ~40 operations × 4 phases: ~60 s alone, several times that on a busy 2-core machine
def test_schemathesis_all_phases_all_checks_zero_failures(emulator: OnAThread) -> None:
    result = subprocess.run(
        [
            *schemathesis_cli(),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{emulator.origin}/__admin/openapi.json",
            "--header",
            f"Authorization: {DEFAULT_KEY}",
            "--max-examples",
            str(EXAMPLES),
            "--workers",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=HERE.parents[1],
        env={**os.environ, "PYTHONPATH": str(HERE.parents[1])},
    )
    report = result.stdout + result.stderr
    (Path(os.environ.get("SCHEMATHESIS_REPORT", os.devnull))).write_text(report, encoding="utf-8")
    summary = report[report.rfind("SUMMARY") :]
    for phase in PHASES:
        assert re.search(rf"✅ {phase}\b", summary), f"phase {phase} did not pass:\n{report[-6000:]}"
    assert re.search(r"Selected: (\d+)/\1\b", summary), summary  # every operation tested
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated.group(1)) > 40 * EXAMPLES, summary  # the phases really ran
    assert result.returncode == 0, report[-6000:]
