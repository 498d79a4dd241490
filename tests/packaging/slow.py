"""The packaging tests build and install the artifacts a release ships (a few minutes, PyPI for dependencies):
they run once per CI run, not once per interpreter. `.ci/run` sets the variable for one of its Pythons."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

RUN_VAR = "FAKE_ASKELEPHANT_PACKAGING_TESTS"

packaging_run = [
    pytest.mark.slow,
    pytest.mark.timeout(600),  # a build or an install from PyPI, inside the test or its fixture
    pytest.mark.skipif(
        os.environ.get(RUN_VAR) != "1",
        reason=f"slow packaging test: {RUN_VAR}=1 runs it (.ci/run sets it for one interpreter)",
    ),
]


def run(command: list[str | Path], *, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run to completion; a non-zero exit fails the test with the command's own output."""
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done
