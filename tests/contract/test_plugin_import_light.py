"""Regression: the pytest11 plugin loads in every pytest run of every project that installed the package,
so importing it must not need the [contract] extra (it broke `pytest` for plain `pip install .` users)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # imports in a fresh interpreter

ROOT = Path(__file__).resolve().parents[2]
BLOCK = "import sys\nfor m in ('hypothesis', 'jsonschema', 'referencing', 'svix'):\n    sys.modules[m] = None\n"


def test_plugin_and_served_schemas_import_without_contract_extras() -> None:
    code = BLOCK + "import contract_tests.plugin, contract_tests.schemas, fake_askelephant.app\nprint('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
