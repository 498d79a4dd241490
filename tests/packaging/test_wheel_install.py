"""The artifacts a release ships, installed the way a vendor installs them: `python -m build` makes the sdist and
the wheel (the wheel built from the sdist, so a file the sdist forgets breaks the wheel too); each goes into a fresh
venv in a temporary directory, and the console scripts run from a working directory that holds no checkout and
with no PYTHONPATH pointing back at one. Also `pip install "git+file://<checkout>"`, as the README shows."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_process import ROOT, start
from tests.packaging.dockerignore import DockerIgnore
from tests.packaging.slow import packaging_run, run

pytestmark = packaging_run

TOP_LEVEL = {"fake_askelephant", "reference_client", "contract_tests"}
BUILTIN_SCENARIOS = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))


@dataclass
class Installed:
    venv: Path
    work: Path  # an empty working directory: no checkout, nothing importable

    def script(self, name: str) -> list[str]:
        return [str(self.venv / "bin" / name)]

    @property
    def env(self) -> dict[str, str]:
        """This process's environment without anything that could reach the checkout or configure the tools."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FAKE_ASKELEPHANT_", "ASKELEPHANT_", "PYTHON")) and k != "VIRTUAL_ENV"
        }
        env.update(PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200")
        return env

    def run(self, name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run([*self.script(name), *args], cwd=self.work, env=self.env, timeout=timeout)


def install(home: Path, requirement: str) -> Installed:
    venv, work = home / "venv", home / "work"
    run([sys.executable, "-m", "venv", venv])
    work.mkdir()
    installed = Installed(venv, work)
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, requirement], cwd=work, env=installed.env)
    return installed


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, ROOT])
    (wheel,) = out.glob("fake_askelephant-*-py3-none-any.whl")
    (sdist,) = out.glob("fake_askelephant-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request: pytest.FixtureRequest, dists: dict[str, Path], tmp_path_factory) -> Installed:
    # The extras the contract CLI and the reference client's demo need.
    return install(tmp_path_factory.mktemp(request.param), f"{dists[request.param]}[reference,contract]")


def installed_top_level(installed: Installed) -> set[str]:
    """First path components of every file the installer recorded for the distribution (scripts and the
    .dist-info directory aside): what the distribution adds to site-packages."""
    purelib = installed.run("python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout
    (dist_info,) = Path(purelib.strip()).glob("fake_askelephant-*.dist-info")
    rows = csv.reader((dist_info / "RECORD").read_text().splitlines())
    names = {Path(row[0]).parts[0] for row in rows}
    return names - {"..", dist_info.name}


def assert_clean_import(installed: Installed) -> None:
    probe = (
        "import importlib.util, fake_askelephant, reference_client, contract_tests\n"
        "assert importlib.util.find_spec('scenarios') is None, importlib.util.find_spec('scenarios')\n"
        "print(fake_askelephant.__file__)"
    )
    where = Path(installed.run("python", "-c", probe).stdout.strip())
    assert where.is_relative_to(installed.venv), where


def test_wheel_holds_exactly_the_three_packages_and_the_builtin_scenarios(dists: dict[str, Path]) -> None:
    names = zipfile.ZipFile(dists["wheel"]).namelist()
    top = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top == TOP_LEVEL
    shipped = sorted(Path(n).name for n in names if n.startswith("fake_askelephant/scenarios/library/"))
    assert [n for n in shipped if n.endswith(".yaml")] == BUILTIN_SCENARIOS
    (top_level_txt,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    assert set(zipfile.ZipFile(dists["wheel"]).read(top_level_txt).decode().split()) == TOP_LEVEL


def test_sdist_has_what_the_wheel_build_needs(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as sdist:
        members = [m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile()]
    assert {"pyproject.toml", "setup.py", "README.md"} <= set(members)
    assert sorted(Path(m).name for m in members if m.startswith("scenarios/")) == BUILTIN_SCENARIOS


def test_the_docker_build_context_builds_the_same_wheel(dists: dict[str, Path], tmp_path: Path) -> None:
    """The Dockerfile's build stage runs `pip wheel .` on the context .dockerignore lets through: done here on a
    copy of exactly those files, it must give the wheel the release ships, file for file."""
    context, out = tmp_path / "context", tmp_path / "wheels"
    for relative in DockerIgnore(ROOT / ".dockerignore").context(ROOT):
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, context / relative)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", out, context])
    (wheel,) = out.glob("fake_askelephant-*.whl")
    assert sorted(zipfile.ZipFile(wheel).namelist()) == sorted(zipfile.ZipFile(dists["wheel"]).namelist())


def test_installed_distribution_adds_exactly_three_packages(installed: Installed) -> None:
    assert installed_top_level(installed) == TOP_LEVEL
    assert_clean_import(installed)


def test_builtin_scenarios_run_from_an_unrelated_directory(installed: Installed) -> None:
    done = installed.run("fake-askelephant", "scenario", "run", "--builtin")
    assert f"{len(BUILTIN_SCENARIOS)} of {len(BUILTIN_SCENARIOS)} scenario(s) passed" in done.stdout, done.stdout


def test_serve_health_contract_suites_and_demo_against_a_60x_server(installed: Installed) -> None:
    args = ["serve", "--host", "127.0.0.1", "--port", "0", "--time-scale", "60", "--seed", "5"]
    program = installed.script("fake-askelephant")
    server = start(args, installed.env, installed.work, program=program, cwd=installed.work)
    try:
        health = installed.run("fake-askelephant", "health", "--url", f"{server.base}/__admin/health")
        assert health.stdout.startswith("ok: "), health.stdout
        contract = installed.run("askelephant-contract", "api", "--target-url", server.api)
        assert "0 failed, 0 errors" in contract.stdout, contract.stdout
        demo = installed.run("askelephant-ref", "demo", "--base-url", server.api, timeout=120)
        assert "time_scale 60" in demo.stdout and "demo complete" in demo.stdout, demo.stdout
    finally:
        code = server.stop()
    assert code == 0, server.stderr()


def test_pip_install_from_a_git_url(tmp_path: Path) -> None:
    """The README's `pip install "git+file://$PWD"`: pip clones the repository, so this installs what is committed
    at HEAD (pinned to it here), not the working tree."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: {head.stderr.strip()}")
    installed = install(tmp_path, f"git+file://{ROOT}@{head.stdout.strip()}")
    assert installed_top_level(installed) == TOP_LEVEL
    assert_clean_import(installed)
    listed = installed.run("fake-askelephant", "scenario", "list").stdout
    assert "happy-path" in listed, listed
    done = installed.run("fake-askelephant", "scenario", "run", "--builtin")
    assert f"{len(BUILTIN_SCENARIOS)} of {len(BUILTIN_SCENARIOS)} scenario(s) passed" in done.stdout, done.stdout
