"""`fake-askelephant serve` as the README runs it, over real HTTP, then SIGTERM."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_KEY, seed_call

ROOT = Path(__file__).resolve().parents[2]


def command() -> list[str]:
    """The console script when installed (CI installs the package); `python -m` from a bare checkout."""
    script = shutil.which("fake-askelephant", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "fake_askelephant"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_ASKELEPHANT_SEED": "3", "FAKE_ASKELEPHANT_TIME_SCALE": "0"}
    stderr = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(
        [*command(), "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
        cwd=ROOT,
    )
    banner = []
    assert proc.stdout is not None
    for line in proc.stdout:
        banner.append(line)
        if "Time scale" in line:
            break
    text = "".join(banner)
    match = re.search(r"Base URL\s+(http://127\.0\.0\.1:\d+/api)", text)
    try:
        assert match, f"no base URL in banner: {text!r}; stderr: {(tmp_path / 'stderr.log').read_text()}"
        assert DEFAULT_KEY in text and "Seed        3" in text
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        stderr.close()


def request(method: str, url: str, body: dict | None = None) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
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
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*command(), "serve", "--api-key", "not-a-key", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--api-key" in result.stderr and "sk-apik_<id>.<secret>" in result.stderr
