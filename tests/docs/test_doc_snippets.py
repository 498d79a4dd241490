"""The pytest snippets the docs hand to vendors run as written, with only what the docs say they need.

Each runs in a pytest subprocess, in a directory outside the checkout, with plugin autoloading off: the only
plugins are the ones a fresh venv with the package (and what the text names) would load.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_process import ROOT, base_env

pytestmark = pytest.mark.slow  # runs the docs' snippets in fresh interpreters

# The entry point `pip install` registers (pyproject.toml, [project.entry-points.pytest11]).
PACKAGE_PLUGIN = "contract_tests.plugin"
EMULATOR_PLUGIN = "fake_askelephant.pytest_plugin"
FAILING = """
name: deliberately-failing
steps:
  - request: {method: GET, path: /api/v2/engagements/ngmt_missing}
    expect: {status: 200}
"""


def python_blocks(doc: Path, section: str) -> list[str]:
    text = doc.read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def run_pytest(directory: Path, *plugins: str) -> subprocess.CompletedProcess[str]:
    env = base_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    for plugin in plugins:
        command += ["-p", plugin]
    return subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True, timeout=300)


def test_readme_in_your_tests_needs_only_pytest(tmp_path: Path) -> None:
    """The README's five lines, with only the plugin the package's entry point loads (no asyncio plugin)."""
    sync_test, _ = python_blocks(ROOT / "README.md", "In your tests (Python)")
    assert len(sync_test.strip().splitlines()) <= 5
    (tmp_path / "test_readme_snippet.py").write_text(sync_test)
    result = run_pytest(tmp_path, EMULATOR_PLUGIN)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


def test_readme_async_snippet_needs_pytest_asyncio(tmp_path: Path) -> None:
    _, async_test = python_blocks(ROOT / "README.md", "In your tests (Python)")
    assert "pip install pytest pytest-asyncio" in (ROOT / "README.md").read_text()
    (tmp_path / "test_readme_async_snippet.py").write_text(async_test)
    result = run_pytest(tmp_path, EMULATOR_PLUGIN, "pytest_asyncio.plugin")
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr


def test_scenarios_from_pytest_needs_only_pytest(tmp_path: Path) -> None:
    """Each YAML file next to the test is one test; a failing scenario fails its test, with the report."""
    (snippet,) = python_blocks(ROOT / "docs" / "scenarios.md", "From pytest")
    (tmp_path / "test_my_scenarios.py").write_text(snippet)
    (tmp_path / "scenarios").mkdir()
    library = ROOT / "scenarios"
    for name in ("happy_path.yaml", "duplicate_submit.yaml"):
        shutil.copy(library / name, tmp_path / "scenarios" / name)
    result = run_pytest(tmp_path, PACKAGE_PLUGIN)
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr

    (tmp_path / "scenarios" / "failing.yaml").write_text(FAILING)
    result = run_pytest(tmp_path, PACKAGE_PLUGIN)
    assert result.returncode == 1 and "1 failed, 2 passed" in result.stdout, result.stdout + result.stderr
    assert "test_scenario[failing]" in result.stdout and "FAIL deliberately-failing" in result.stdout
