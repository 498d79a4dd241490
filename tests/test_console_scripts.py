"""What the three console scripts share: `… | head` ends them quietly, the way `scenario run` already did."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli_process import ROOT, base_env

pytestmark = pytest.mark.slow  # runs the console scripts as processes

# (module and arguments, exit status): 1 when our own output met the closed pipe; argparse swallows a failed write
# of --help itself and exits 0, and then the final flush must not print "Exception ignored … BrokenPipeError".
COMMANDS = {
    "askelephant-contract list": (["contract_tests.cli", "list"], 1),
    "askelephant-contract schema openapi": (["contract_tests.cli", "schema", "openapi"], 1),
    "fake-askelephant scenario list": (["fake_askelephant", "scenario", "list"], 1),
    "askelephant-contract --help": (["contract_tests.cli", "--help"], 0),
    "fake-askelephant health --help": (["fake_askelephant", "health", "--help"], 0),
    "askelephant-ref --help": (["reference_client", "--help"], 0),
}


@pytest.mark.parametrize(("module_argv", "status"), COMMANDS.values(), ids=COMMANDS.keys())
def test_a_reader_that_goes_away_ends_the_command_quietly(module_argv: list[str], status: int) -> None:
    """`askelephant-contract list | head -1` printed a BrokenPipeError traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: deterministic
    try:
        result = subprocess.run(
            [sys.executable, "-m", *module_argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=base_env(),
            cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == "", result.stderr
    assert result.returncode == status
