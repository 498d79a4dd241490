"""docs/quickstart-curl.md runs as written against `fake-askelephant serve` and prints what it shows; the README
points to both quick starts and its Node CI job is a well-formed one.

(docs/quickstart-node.md runs in tests/clients/test_typescript_client.py, with the other Node work.)
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from fake_askelephant.cli import build_parser
from tests.cli_process import ROOT, base_env
from tests.docs import quickstarts

README = (ROOT / "README.md").read_text()


@pytest.mark.slow  # a real `fake-askelephant serve` and a shell
def test_curl_quickstart_runs_as_written(tmp_path: Path) -> None:
    missing = [tool for tool in ("bash", "curl", "jq", "openssl") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the curl quick start needs {', '.join(missing)}")
    quick = quickstarts.parse(ROOT / "docs" / "quickstart-curl.md")
    assert quick.serve_args == ["--time-scale", "0", "--seed", "42"] and not quick.installs
    served = quickstarts.serve(quick, tmp_path)
    try:
        result = quickstarts.run(quick.script(served.base.removeprefix("http://")), tmp_path, base_env())
    finally:
        served.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    quickstarts.assert_prints_what_the_page_shows(quick, result.stdout)


@pytest.mark.slow  # a shell
def test_a_page_that_prints_something_else_fails(tmp_path: Path) -> None:
    """The comparison can fail: a wrong expected line and a missing one are both caught."""
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\nfake-askelephant serve --time-scale 0\n```\n\n```bash\necho one\necho two\n```\n\n"
        "```text\none\nthree\n```\n"
    )
    quick = quickstarts.parse(page)
    stdout = quickstarts.run(quick.script("127.0.0.1:1"), tmp_path, base_env()).stdout
    with pytest.raises(AssertionError, match=r"printed \['one', 'two'\], the page shows \['one', 'three'\]"):
        quickstarts.assert_prints_what_the_page_shows(quick, stdout)
    quick.expected[0] = ["one", "t…"]
    quickstarts.assert_prints_what_the_page_shows(quick, stdout)
    quick.expected[0] = ["one"]
    with pytest.raises(AssertionError):
        quickstarts.assert_prints_what_the_page_shows(quick, stdout)


def test_readme_points_to_both_quick_starts() -> None:
    assert "](docs/quickstart-curl.md)" in README and "](docs/quickstart-node.md)" in README


def test_readme_node_ci_job_uses_the_service_and_types_from_it() -> None:
    section = README.split("**GitHub Actions, a Node project**", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block
    job: dict[str, Any] = yaml.safe_load(block.group(1))["jobs"]["test"]
    service = job["services"]["askelephant"]
    assert service["ports"] == ["8787:8787"] and service["env"]["FAKE_ASKELEPHANT_TIME_SCALE"] == "0"
    health = re.search(r'--health-cmd "([^"]+)"', service["options"])
    assert health and shlex.split(health.group(1))[0] == "fake-askelephant"
    build_parser().parse_args(shlex.split(health.group(1))[1:])  # a real subcommand
    steps = job["steps"]
    assert [s["uses"] for s in steps if "uses" in s] == ["actions/checkout@v4", "actions/setup-node@v4"]
    runs = [s["run"] for s in steps if "run" in s]
    assert runs[0] == "npm ci"
    assert "openapi-typescript http://localhost:8787/__admin/openapi.json" in runs[1]
    assert steps[-1]["env"]["ASKELEPHANT_BASE_URL"] == "http://localhost:8787/api"
