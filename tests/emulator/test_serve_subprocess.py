"""`fake-askelephant serve` as the README runs it, over real HTTP, then SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_process import ROOT, base_env, cli, start
from tests.conftest import DEFAULT_KEY, seed_call

pytestmark = pytest.mark.slow  # runs `fake-askelephant serve` as a process


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = base_env(FAKE_ASKELEPHANT_SEED="3", FAKE_ASKELEPHANT_TIME_SCALE="0")
    served = start(["serve", "--host", "127.0.0.1", "--port", "0"], env, tmp_path)
    try:
        assert DEFAULT_KEY in served.banner and "Seed        3" in served.banner
        yield served.proc, served.api
    finally:
        served.close()


def request(method: str, url: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": DEFAULT_KEY, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def test_readme_flow_over_real_http_then_sigterm(server: tuple[subprocess.Popen[str], str]) -> None:
    proc, base = server
    status, headers, created = request("POST", f"{base}/v2/engagements", seed_call())
    assert status == 201 and headers["Location"] == f"/api/v2/engagements/{created['id']}"
    status, _, replay = request("POST", f"{base}/v2/engagements", seed_call())
    assert status == 200 and replay == created
    admin = base.removesuffix("/api")
    status, _, _ = request("POST", f"{admin}/__admin/clock/advance", {"seconds": 600})
    assert status == 200
    status, _, full = request("GET", f"{base}/v2/engagements/{created['id']}?expand=action_items,signals,transcript")
    assert status == 200 and full["processing_status"] == "COMPLETED" and full["action_items"] and full["signals"]
    status, headers, err = request("GET", f"{base}/v2/engagements/ngmt_missing")
    assert status == 404 and err["request_id"] == headers["X-Request-Id"]

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0


def test_malformed_api_key_flag_exits_2() -> None:
    result = subprocess.run(
        [*cli(), "serve", "--api-key", "not-a-key", "--port", "0"],
        capture_output=True,
        text=True,
        env=base_env(),
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--api-key" in result.stderr and "sk-apik_<id>.<secret>" in result.stderr


def test_a_port_in_use_is_one_line_and_starts_nothing(tmp_path: Path) -> None:
    """It printed a traceback and "Unclosed client session"; the state file was opened (and written) regardless."""
    state_file = tmp_path / "state.sqlite"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*cli(), "serve", "--port", str(port), "--state-file", str(state_file)],
            capture_output=True,
            text=True,
            env=base_env(),
            cwd=ROOT,
            timeout=30,
        )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"fake-askelephant: cannot listen on 127.0.0.1:{port}: Address already in use (is another fake-askelephant "
        "running? Stop it, or pick another --port; --port 0 picks a free one)"
    ]
    assert result.stdout == "" and not state_file.exists()


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [("0.0.0.0", None, True), ("0.0.0.0", "tok-1", False), ("127.0.0.1", None, False)],
)
def test_the_banner_prints_the_bound_address_and_warns_when_the_control_plane_is_open(
    tmp_path: Path, host: str, token: str | None, warned: bool
) -> None:
    env = base_env(FAKE_ASKELEPHANT_TIME_SCALE="0", **({"FAKE_ASKELEPHANT_ADMIN_TOKEN": token} if token else {}))
    served = start(["serve", "--host", host, "--port", "0"], env, tmp_path)
    try:
        port = served.base.rsplit(":", 1)[1]
        assert f"  Listening   {host}:{port}\n" in served.banner
        warning = [line for line in served.banner.splitlines() if "open to the network" in line]
        assert len(warning) == (1 if warned else 0), served.banner
        if warned:
            assert "--admin-token" in warning[0] and "FAKE_ASKELEPHANT_ADMIN_TOKEN" in warning[0]
        assert ("Admin token required" in served.banner) == bool(token)
        assert token is None or token not in served.banner  # the token itself is never printed
    finally:
        served.close()
