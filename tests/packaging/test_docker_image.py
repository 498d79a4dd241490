"""The image built from the Dockerfile, run by a Docker daemon: health, the API flow, `docker stop`, `docker restart`
with the state file on a volume, the non-root user. Skips (and says why) where no daemon answers.

The base image is the Dockerfile's default (python:3.12-slim) unless FAKE_ASKELEPHANT_DOCKER_BASE names another
(a machine that cannot pull from Docker Hub builds a stand-in base and passes it here); a default base the daemon
can neither find nor pull is a skip that says so, a chosen one is a failure. Containers share the host's
network (`--network host`: it works where the daemon has no bridge) and bind loopback on a free port."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli_process import ROOT
from tests.conftest import seed_call
from tests.packaging.slow import packaging_run
from tests.reliability.serving import free_port, request

pytestmark = packaging_run

BASE_VAR = "FAKE_ASKELEPHANT_DOCKER_BASE"
TOP_LEVEL = {"fake_askelephant", "reference_client", "contract_tests"}


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert done.returncode == 0, f"docker {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def default_base() -> str:
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert match, "the Dockerfile has no ARG PYTHON_IMAGE default"
    return match.group(1)


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH: the image test needs a Docker daemon")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30, check=False)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(f"no Docker daemon reachable ({reason})")
    chosen = os.environ.get(BASE_VAR)
    base = chosen or default_base()
    if docker("image", "inspect", base, check=False).returncode != 0:
        pulled = docker("pull", base, timeout=600, check=False)
        if pulled.returncode != 0:
            reason = f"the daemon has no {base} and cannot pull it ({pulled.stderr.strip()})"
            if chosen:
                pytest.fail(f"{BASE_VAR}={chosen}: {reason}")
            pytest.skip(f"{reason}; {BASE_VAR} names another Python 3.11+ base image")
    tag = f"fake-askelephant:test-{uuid.uuid4().hex[:12]}"
    build = ["build", "--network", "host", "--build-arg", f"PYTHON_IMAGE={base}", "-t", tag, str(ROOT)]
    built = docker(*build, timeout=900, check=False)
    assert built.returncode == 0, f"docker build failed (base {base}):\n{built.stdout[-4000:]}\n{built.stderr[-4000:]}"
    try:
        yield tag
    finally:
        docker("rmi", "--force", tag, check=False)


def test_image_holds_the_installed_wheel_and_nothing_to_build_with(image: str) -> None:
    config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"].split(":")[0] not in ("", "0", "root")
    assert config["Healthcheck"]["Test"] == ["CMD", "fake-askelephant", "health"]
    probe = """
import csv, importlib.util, json, pathlib, sysconfig
import fake_askelephant
site = pathlib.Path(sysconfig.get_paths()["purelib"])
(record,) = site.glob("fake_askelephant-*.dist-info/RECORD")
print(json.dumps({
    "module": fake_askelephant.__file__,
    "top_level": sorted({pathlib.Path(r[0]).parts[0] for r in csv.reader(record.read_text().splitlines())}
                        - {"..", record.parent.name}),
    "importable": [m for m in ("pip", "setuptools", "wheel", "build", "scenarios") if importlib.util.find_spec(m)],
    "leftovers": [p for p in ("/src", "/wheels") if pathlib.Path(p).exists()],
}))
"""
    found = json.loads(docker("run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", probe).stdout)
    assert found["module"].startswith("/opt/fake-askelephant/")
    assert set(found["top_level"]) == TOP_LEVEL
    assert found["importable"] == []  # the venv kept no installer, and no top-level `scenarios`
    assert found["leftovers"] == []  # no source tree, no wheel


class Container:
    """One container of the image with the state file on a named volume."""

    def __init__(self, image: str, volume: str, port: int) -> None:
        self.image, self.volume, self.port = image, volume, port
        self.name = f"fake-askelephant-test-{uuid.uuid4().hex[:12]}"
        self.base = f"http://127.0.0.1:{port}"

    def run(self) -> None:
        env = {
            "FAKE_ASKELEPHANT_HOST": "127.0.0.1",
            "FAKE_ASKELEPHANT_PORT": str(self.port),
            "FAKE_ASKELEPHANT_TIME_SCALE": "0",
            "FAKE_ASKELEPHANT_SEED": "7",
            "FAKE_ASKELEPHANT_STATE_FILE": "/data/state.sqlite",
        }
        flags = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
        docker("run", "--detach", "--name", self.name, "--network", "host", "--volume", f"{self.volume}:/data",
               *flags, self.image)  # fmt: skip

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(docker("inspect", "--format", "{{json .State}}", self.name).stdout)
        return state

    def logs(self) -> str:
        done = docker("logs", self.name, check=False)
        return done.stdout + done.stderr

    def wait_healthy(self, timeout: float = 60) -> None:
        """Until Docker's own HEALTHCHECK reports `healthy` (its first probe runs 5 s after the start)."""
        deadline = time.monotonic() + timeout
        while (state := self.state()).get("Health", {}).get("Status") != "healthy":
            assert state["Running"], f"container stopped: {state}\n{self.logs()}"
            assert state["Health"]["Status"] != "unhealthy", f"{state['Health']}\n{self.logs()}"
            assert time.monotonic() < deadline, f"not healthy after {timeout} s: {state}\n{self.logs()}"
            time.sleep(0.25)

    def exec_python(self, code: str) -> str:
        return docker("exec", self.name, "python", "-c", code).stdout.strip()

    def remove(self) -> None:
        docker("rm", "--force", self.name, check=False)


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"fake-askelephant-test-{uuid.uuid4().hex[:12]}"
    docker("volume", "create", name)
    try:
        yield name
    finally:
        docker("volume", "rm", "--force", name, check=False)


def test_healthy_flow_stop_restart_and_state_on_a_volume(image: str, volume: str) -> None:
    container = Container(image, volume, free_port())
    api = f"{container.base}/api/v2/engagements"
    try:
        container.run()
        container.wait_healthy()

        # The server (PID 1) runs as a non-root user, and it can write its volume.
        uids = container.exec_python("print(open('/proc/1/status').read().split('Uid:')[1].split()[0])")
        assert uids != "0"
        probe = "import os; open('/data/probe', 'w').write('x'); print(os.stat('/data/probe').st_uid)"
        assert container.exec_python(probe) == uids

        # create → advance → GET
        status, created = request("POST", api, seed_call())
        assert status == 201, created
        assert request("POST", f"{container.base}/__admin/clock/advance", {"seconds": 600})[0] == 200
        status, full = request("GET", f"{api}/{created['id']}?expand=action_items,signals,transcript")
        assert status == 200 and full["processing_status"] == "COMPLETED" and full["action_items"], full

        # `docker stop`: SIGTERM, exit 0 well inside Docker's 10 s grace and the documented 5 s.
        started = time.monotonic()
        docker("stop", "--time", "10", container.name, timeout=30)
        elapsed = time.monotonic() - started
        assert container.state()["ExitCode"] == 0 and elapsed < 5.0, (elapsed, container.state(), container.logs())
        owner = "import os; print(os.stat('/data/state.sqlite').st_uid)"

        # `docker restart` (here: of the stopped container) resumes from the state file on the volume.
        docker("restart", "--time", "10", container.name, timeout=30)
        container.wait_healthy()
        assert container.exec_python(owner) == uids
        assert request("GET", f"{api}/{created['id']}?expand=action_items,signals,transcript") == (200, full)
        status, replayed = request("POST", api, seed_call())
        assert (status, replayed["id"]) == (200, created["id"])  # the idempotency record survived too

        # And of the running one, after a write made since the last restart.
        status, created2 = request("POST", api, seed_call(external_id="after-restart"))
        assert status == 201, created2
        status, second = request("GET", f"{api}/{created2['id']}")
        assert status == 200, second
        docker("restart", "--time", "10", container.name, timeout=30)
        container.wait_healthy()
        assert request("GET", f"{api}/{second['id']}") == (200, second)

        # A new container on the same volume (an upgraded image, say) starts from the same state.
        container.remove()
        container = Container(image, volume, container.port)
        container.run()
        container.wait_healthy()
        assert request("GET", f"{api}/{created['id']}?expand=action_items,signals,transcript") == (200, full)
        assert request("GET", f"{api}/{second['id']}") == (200, second)
    finally:
        container.remove()
