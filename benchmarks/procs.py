"""Server processes under test: start as a user would (`python -m …`), time the first healthy answer, read RSS."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
HEALTH_POLL_S = 0.002
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PORT_ATTEMPTS = 5


@dataclass(frozen=True)
class Target:
    """How to start one kind of server; `port` is appended as the last argument."""

    name: str
    argv: tuple[str, ...]
    health_path: str

    def command(self, port: int) -> list[str]:
        return [*self.argv, str(port)]


EMULATOR = Target(
    "emulator",
    (sys.executable, "-m", "fake_askelephant", "serve", "--seed", "1", "--time-scale", "0", "--port"),
    "/__admin/health",
)
FLOOR = Target("floor", (sys.executable, "-m", "benchmarks.floor_app", "--port"), "/health")
RECEIVER = Target("receiver", (sys.executable, "-m", "benchmarks.receiver_app", "--port"), "/health")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answering_pid(port: int, path: str) -> int | None:
    """The pid a 200 health answer on `port` names (0 if it names none); None while nothing answers 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            return None
        try:
            pid = json.loads(body).get("pid")
        except (ValueError, AttributeError):
            return 0
        return pid if isinstance(pid, int) else 0
    except OSError:
        return None
    finally:
        conn.close()


class PortTaken(RuntimeError):
    """Another process answered on the port picked for ours (free_port's pick is only free when picked)."""


class Server:
    """One server process. `start()` returns seconds from spawn to the first 200 on the health path."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        # Lives as long as the process it captures; closed in stop().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "server not started"
        return self._proc.pid

    def start(self) -> float:
        """Spawn, wait for the first 200 on the health path *from this process*, and return the seconds that took.

        A port picked by free_port() can be taken by another process before ours binds it (CI runs three suites side
        by side, each starting servers on picked ports): then our server exits and a health check on the port is
        answered by the other one, whose state another client is changing. The health answer's `pid` tells them
        apart; a taken port is picked again."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                return self._start_once()
            except PortTaken as exc:
                print(f"[benchmarks] {exc}; attempt {attempt} of {PORT_ATTEMPTS}", file=sys.stderr)
                self.port = free_port()
        raise RuntimeError(f"{self.target.name}: every port picked was taken by another process")

    def _start_once(self) -> float:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        began = time.perf_counter()
        self._proc = subprocess.Popen(
            self.target.command(self.port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._stderr
        )
        deadline = began + START_TIMEOUT_S
        while (pid := answering_pid(self.port, self.target.health_path)) is None:
            if self._proc.poll() is not None or time.perf_counter() > deadline:
                self._fail("did not become healthy")
            time.sleep(HEALTH_POLL_S)
        if pid != self._proc.pid:
            self._end()
            raise PortTaken(f"{self.target.name}: port {self.port} is answered by another process (pid {pid or '?'})")
        return time.perf_counter() - began

    def _fail(self, what: str) -> NoReturn:
        detail = self.stderr()
        self.stop()
        raise RuntimeError(f"{self.target.name} {what}: {detail}")

    def rss_bytes(self) -> int:
        """Resident set size now, from /proc (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc status")

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far: unlike wall time, barely moved by other load."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stderr(self) -> str:
        return self.stderr_text()[-2000:]

    def stderr_text(self) -> str:
        """Everything the process has written to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        self._end()
        self._stderr.close()

    def _end(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and not self._stderr.closed:
            # What the server logged is often the only clue to why a run failed (CI keeps no server logs).
            print(f"[benchmarks] {self.target.name} stderr (tail):\n{self.stderr()}", file=sys.stderr)
        self.stop()
