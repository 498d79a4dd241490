"""docs/scenarios.md stays true: its tutorial scenario passes, its broken variant fails as shown."""

from __future__ import annotations

import re
from pathlib import Path

from fake_askelephant.scenarios import load_text, run_scenario
from fake_askelephant.scenarios.report import scenario_text

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "scenarios.md").read_text()
README = (ROOT / "README.md").read_text()
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)


async def test_the_tutorial_scenario_passes_and_its_report_matches_the_doc() -> None:
    result = await run_scenario(load_text(YAML_BLOCKS[0], "my_dialer.yaml"))
    assert result.ok, scenario_text(result)
    shown = scenario_text(result).splitlines()
    assert len(shown) > 2
    for line in shown[1:-1]:  # the first line names the file, the last has the wall time
        assert line in DOC, f"the doc's sample output is stale: {line!r}"


async def test_the_broken_tutorial_fails_as_the_doc_shows() -> None:
    broken = YAML_BLOCKS[0].replace("processing_status: PENDING", "processing_status: COMPLETED")
    result = await run_scenario(load_text(broken, "my_dialer.yaml"))
    assert not result.ok
    for line in scenario_text(result).splitlines()[1:-1]:
        assert line in DOC, f"the doc's failure sample is stale: {line!r}"


async def test_the_documented_insights_policy_block_is_a_valid_step() -> None:
    policy = YAML_BLOCKS[1]
    text = "steps:\n  - name: submit\n    request: {method: POST, path: /x}\n" + policy
    assert load_text(text, "policy.yaml", default_name="policy").scenario.steps[1].kind == "wait_for"


async def test_the_readme_example_passes() -> None:
    block = re.search(r"```yaml\n(name: receiver-down.*?)```", README, re.S)
    assert block is not None
    result = await run_scenario(load_text(block.group(1), "README.md"))
    assert result.ok, scenario_text(result)
