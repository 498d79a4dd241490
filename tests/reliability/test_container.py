"""The container path without a Docker engine: the Dockerfile's entrypoint, env-only config, HEALTHCHECK,
SIGTERM with a request in flight, and a kill -9 that must leave a readable state file."""

from __future__ import annotations

import contextlib
import json
import re
import runpy
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.cli_process import ROOT, base_env, cli, start
from tests.conftest import seed_call
from tests.packaging.dockerignore import DockerIgnore
from tests.reliability.serving import free_port, request, wait_until

DOCKERFILE = ROOT / "Dockerfile"


def dockerfile() -> dict[str, Any]:
    """The final stage's instructions: ENV as a dict, exec-form ENTRYPOINT/CMD/HEALTHCHECK as lists."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    final = text.split("\nFROM ")[-1]
    out: dict[str, Any] = {"env": {}, "from": "FROM " + final.splitlines()[0], "expose": [], "user": None}
    for line in final.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            out["env"].update(dict(part.split("=", 1) for part in shlex.split(rest)))
        elif word in ("ENTRYPOINT", "CMD"):
            out[word.lower()] = json.loads(rest)
        elif word == "HEALTHCHECK":
            out["healthcheck"] = json.loads(rest[rest.index("CMD ") + 4 :])
            out["healthcheck_options"] = rest[: rest.index("CMD ")]
        elif word == "EXPOSE":
            out["expose"].append(rest)
        elif word == "USER":
            out["user"] = rest
    return out


def test_dockerfile_shape() -> None:
    d = dockerfile()
    text = DOCKERFILE.read_text()
    # Every stage builds on one base, a build argument whose default is an official slim Python image.
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.\d+-slim$", text, re.M)
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    # The final stage takes the venv from the build stage and nothing else from the context.
    final = text.split("\nFROM ")[-1]
    copied = re.findall(r"^(?:COPY|ADD) .*", final, re.M)
    assert copied == ["COPY --from=build /opt/fake-askelephant /opt/fake-askelephant"]
    assert d["user"] and d["user"].split(":")[0] not in ("root", "0")
    assert d["expose"] == ["8787"]
    assert d["entrypoint"] == ["fake-askelephant"] and d["cmd"] == ["serve"]
    assert d["healthcheck"] == ["fake-askelephant", "health"]
    assert d["env"]["FAKE_ASKELEPHANT_HOST"] == "0.0.0.0" and d["env"]["FAKE_ASKELEPHANT_PORT"] == "8787"


def source_roots() -> set[str]:
    """The top-level folders setup.py builds packages from (its package_dir maps some from elsewhere)."""
    captured: dict[str, Any] = {}
    with mock.patch("setuptools.setup", lambda **kwargs: captured.update(kwargs)), contextlib.chdir(ROOT):
        runpy.run_path(str(ROOT / "setup.py"))
    where = captured.get("package_dir", {})
    return {where.get(package, package.replace(".", "/")).split("/")[0] for package in captured["packages"]}


def test_docker_context_is_what_the_build_reads() -> None:
    """.dockerignore is an allowlist: the context Docker sends holds the build's metadata and every folder a
    package comes from, and nothing else (no venv, cache, database, tests). tests/packaging/test_wheel_install.py
    also builds a wheel from exactly this context and compares it with the checkout's."""
    ignore = DockerIgnore(ROOT / ".dockerignore")
    roots = source_roots()
    assert {"fake_askelephant", "reference_client", "contract_tests", "scenarios"} <= roots
    sent = ignore.context(ROOT)
    assert {path.split("/")[0] for path in sent} == {"pyproject.toml", "setup.py", "README.md", "LICENSE", *roots}
    assert "scenarios/happy_path.yaml" in sent
    junk = [".git/HEAD", ".venv/bin/python", ".ci-venv-3.12/bin/python", "tests/conftest.py", "docs/scenarios.md",
            "benchmarks/run.py", "dist/x.whl", "build/lib/x.py", "state.sqlite", "fake_askelephant.egg-info/PKG-INFO",
            "fake_askelephant/__pycache__/app.cpython-312.pyc", "contract_tests/x.egg-info/RECORD"]  # fmt: skip
    assert [p for p in junk if not ignore.excluded(p)] == []


def container_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The image's ENV, with the bind moved to loopback and a free port (the test shares the host)."""
    env = {k: v for k, v in dockerfile()["env"].items() if k.startswith("FAKE_ASKELEPHANT_")}
    env.update(FAKE_ASKELEPHANT_HOST="127.0.0.1", FAKE_ASKELEPHANT_PORT=str(free_port()))
    env.update(FAKE_ASKELEPHANT_SEED="9", FAKE_ASKELEPHANT_TIME_SCALE="0", **extra)
    return base_env(**env)


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [*cli(), *dockerfile()["healthcheck"][1:]]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, cwd=ROOT)


@pytest.mark.slow
def test_entrypoint_with_env_only_config_reports_health(tmp_path: Path) -> None:
    env = container_env(tmp_path)
    assert healthcheck(env).returncode == 1  # nothing listening yet
    server = start(dockerfile()["cmd"], env, tmp_path)
    try:
        assert server.base == f"http://127.0.0.1:{env['FAKE_ASKELEPHANT_PORT']}"
        result = healthcheck(env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("ok: ")
        status, health = request("GET", f"{server.base}/__admin/health")
        assert status == 200 and health["seed"] == 9 and health["time_scale"] == 0.0
    finally:
        assert server.stop() == 0


@pytest.mark.slow
def test_sigterm_answers_in_flight_requests_persists_and_exits_0_within_5_s(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    env = container_env(tmp_path, FAKE_ASKELEPHANT_STATE_FILE=str(state_file))
    server = start(["serve"], env, tmp_path)
    api = f"{server.base}/api/v2/engagements"
    try:
        # The in-flight request: a fault holds it 1.5 s (wall) before it runs.
        fault = {"method": "POST", "path": "/api/v2/engagements", "latency_ms": 1500}
        assert request("POST", f"{server.base}/__admin/faults", fault)[0] == 201
        answer: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: answer.update(r=request("POST", api, seed_call())))
        thread.start()

        def held() -> bool:
            return request("GET", f"{server.base}/__admin/faults")[1]["data"][0]["hits"] == 1

        wait_until(held, what="the request to reach the fault")
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(timeout=10)
        elapsed = time.monotonic() - started
        thread.join(timeout=10)
    finally:
        server.close()
    assert code == 0 and elapsed < 5.0, (code, elapsed, server.stderr())
    status, created = answer["r"]
    assert status == 201
    again = start(["serve"], env, tmp_path, "restarted")
    try:
        assert "State file" in again.banner
        assert request("GET", f"{api}/{created['id']}")[0] == 200
        assert request("POST", api, seed_call()) == (200, created)  # idempotency survived the restart
    finally:
        assert again.stop() == 0


@pytest.mark.slow
def test_kill_9_mid_traffic_leaves_a_readable_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    env = container_env(tmp_path, FAKE_ASKELEPHANT_STATE_FILE=str(state_file))
    server = start(["serve"], env, tmp_path)
    api = f"{server.base}/api/v2/engagements"
    answered: list[str] = []
    stop = threading.Event()

    def flood(worker: int) -> None:
        for n in range(200):  # bounded: the kill normally comes long before
            if stop.is_set():
                return
            try:
                status, body = request("POST", api, seed_call(external_id=f"w{worker}-{n}"))
            except OSError:
                return  # the server died mid-request: that one may or may not be on disk
            if status == 201:
                answered.append(body["id"])

    workers = [threading.Thread(target=flood, args=(i,)) for i in range(2)]
    try:
        for w in workers:
            w.start()
        wait_until(lambda: len(answered) >= 40, timeout=60, what="40 answered creates")
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
        server.close()
    with contextlib.closing(sqlite3.connect(state_file)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM records WHERE kind = 'workspace.engagements'").fetchone()[0] >= len(
            answered
        )
    again = start(["serve"], env, tmp_path, "restarted")
    try:
        for engagement_id in answered:
            assert request("GET", f"{api}/{engagement_id}")[0] == 200, engagement_id
    finally:
        assert again.stop() == 0


@pytest.mark.slow
def test_a_corrupt_state_file_is_a_clear_start_up_error(tmp_path: Path) -> None:
    bad = tmp_path / "state.sqlite"
    bad.write_bytes(b"\x00not a database\x00" * 64)
    result = subprocess.run(
        [*cli(), "serve", "--state-file", str(bad), "--port", "0"],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "not a fake-askelephant state file" in result.stderr


@pytest.mark.slow
def test_health_command_stays_light() -> None:
    """Regression: `health` loaded the whole server (aiohttp, faker, pydantic) and took seconds under load,
    against the HEALTHCHECK's 3 s timeout."""
    probe = "import sys, fake_askelephant.cli; print(sorted({'aiohttp', 'faker', 'pydantic'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], env=base_env(), capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
