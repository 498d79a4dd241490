"""Run `fake-askelephant` as a real process (the container's entrypoint) and talk to it over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from fake_askelephant.app import create_app
from tests.conftest import DEFAULT_KEY, frozen_settings

ROOT = Path(__file__).resolve().parents[2]
BANNER_END = "Time scale"


def cli() -> list[str]:
    """The console script when installed (CI installs the package); `python -m` from a bare checkout."""
    script = shutil.which("fake-askelephant", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "fake_askelephant"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def base_env(**config: str) -> dict[str, str]:
    """The parent's environment minus any FAKE_ASKELEPHANT_* it happens to carry, plus `config`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_ASKELEPHANT_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(config)
    return env


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str  # http://127.0.0.1:PORT
    banner: str
    stderr_path: Path
    _stderr: Any = field(repr=False, default=None)

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._stderr:
            self._stderr.close()


def start(args: list[str], env: dict[str, str], tmp_path: Path, name: str = "server") -> Served:
    stderr_path = tmp_path / f"{name}.stderr.log"
    stderr = stderr_path.open("w")
    proc = subprocess.Popen([*cli(), *args], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=ROOT)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if BANNER_END in line:
            break
    banner = "".join(lines)
    match = re.search(r"Base URL\s+(http://[^/\s]+)/api", banner)
    if not match:
        proc.kill()
        proc.wait()
        stderr.close()
        raise AssertionError(f"no banner: {banner!r}; stderr: {stderr_path.read_text()}")
    return Served(proc, match.group(1), banner, stderr_path, stderr)


def request(method: str, url: str, body: Any = None, *, key: str | None = DEFAULT_KEY) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = key
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def wait_until(condition: Any, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll an observable condition with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class ThreadedEmulator:
    """The emulator on its own event loop in a thread: schemathesis calls it synchronously over loopback."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.app = create_app(frozen_settings())
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> ThreadedEmulator:
        self.thread.start()
        assert self.ready.wait(30), "emulator thread did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def serves(self, method: str, path: str) -> bool:
        canonical = {(r.method, r.resource.canonical) for r in self.app.router.routes() if r.resource is not None}
        return (method.upper(), "/api" + path) in canonical
