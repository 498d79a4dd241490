"""The GitHub workflows cannot run here: they are checked as data. Valid YAML, only well-known actions, CI runs the
interpreters `.ci/run` tests, and a release publishes the wheel, the sdist and an image built from this Dockerfile
only after that CI passed."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.cli_process import ROOT
from tests.packaging.slow import RUN_VAR

WORKFLOWS = ROOT / ".github" / "workflows"
KNOWN_ACTIONS = re.compile(r"^(actions/[\w-]+@v\d+|docker/[\w-]+-action@v\d+|pypa/gh-action-pypi-publish@release/v1)$")


def ci_run_pythons() -> list[str]:
    match = re.search(r"^PYTHONS=\(([^)]*)\)", (ROOT / ".ci" / "run").read_text(), re.M)
    assert match, "PYTHONS=(...) not found in .ci/run"
    return match.group(1).split()


def workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:  # YAML 1.1 reads a bare `on` key as true
        data["on"] = data.pop(True)
    return data


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def uses(data: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(data) if "uses" in step]


def job_using(data: dict[str, Any], action: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(job id, job, step) of the only step that uses `action@…`."""
    (found,) = [
        (name, job, step)
        for name, job in data["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith(f"{action}@")
    ]
    return found


def needs(data: dict[str, Any], job: str) -> set[str]:
    """Every job `job` waits for, directly or not."""
    direct = data["jobs"][job].get("needs", [])
    direct = [direct] if isinstance(direct, str) else direct
    return set(direct).union(*(needs(data, d) for d in direct))


def test_ci_runs_dot_ci_run_on_the_versions_it_tests() -> None:
    ci = workflow("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert all(KNOWN_ACTIONS.match(u) for u in uses(ci)), uses(ci)
    _, _, setup = job_using(ci, "actions/setup-python")
    assert str(setup["with"]["python-version"]).split() == ci_run_pythons()
    runs = [step["run"] for step in steps(ci) if "run" in step]
    assert runs[-1].strip() == ".ci/run"
    # The interpreters handed to .ci/run are the same list again (CI_PYTHON_3_11=… for each).
    (export,) = [r for r in runs if "CI_PYTHON_" in r]
    assert re.search(r"for v in ([\d. ]+);", export).group(1).split() == ci_run_pythons()  # type: ignore[union-attr]


def test_release_publishes_after_ci_from_this_dockerfile() -> None:
    release = workflow("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert all(KNOWN_ACTIONS.match(u) for u in uses(release)), uses(release)
    assert release["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"

    pypi, pypi_job, _ = job_using(release, "pypa/gh-action-pypi-publish")
    assert pypi_job["permissions"] == {"id-token": "write"}  # trusted publishing, no token
    assert "ci" in needs(release, pypi)
    builds = [step["run"] for step in steps(release) if "python -m build" in step.get("run", "")]
    assert builds, "no job builds the wheel and sdist"

    image, image_job, push = job_using(release, "docker/build-push-action")
    assert "ci" in needs(release, image)
    assert image_job["permissions"]["packages"] == "write"
    context = ROOT / push["with"]["context"]
    assert (context / push["with"].get("file", "Dockerfile")).resolve() == (ROOT / "Dockerfile").resolve()
    assert set(push["with"]["platforms"].split(",")) >= {"linux/amd64", "linux/arm64"}
    assert push["with"]["push"] is True
    assert "ghcr.io/" in job_using(release, "docker/metadata-action")[2]["with"]["images"]


def test_ci_run_turns_the_packaging_tests_on_for_one_of_its_interpreters() -> None:
    """A misspelt variable would leave them skipped in every run, and CI green without them."""
    text = (ROOT / ".ci" / "run").read_text()
    match = re.search(r"^PACKAGING_ON=(\S+)", text, re.M)
    assert match and match.group(1) in ci_run_pythons()
    assert f"{RUN_VAR}=$packaging python -m pytest" in text
