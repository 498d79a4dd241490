"""SIGTERM ends `serve` within 5 s even when a handler blocks the event loop; a second signal ends it at once.

The blocked loop comes from tests/emulator/blocking_serve.py: `serve` with one extra route that spins forever.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_askelephant.shutdown import WATCHDOG_S
from tests.cli_process import ROOT, Served, base_env, start
from tests.emulator.blocking_serve import BLOCKING, LOOP_ENV
from tests.reliability.serving import wait_until

pytestmark = pytest.mark.slow  # signals real processes

DOCUMENTED_S = 5.0  # README, "Run it as a CI service container"


def block_the_loop(server: Served) -> socket.socket:
    """Send the request whose handler never yields; back once it runs (keep the socket open while it spins)."""
    host, port = server.base.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)), timeout=10)
    try:
        client.sendall(b"POST /__test/block HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
        assert server.proc.stdout is not None
        assert server.proc.stdout.readline().strip() == BLOCKING
    except BaseException:
        client.close()
        raise
    return client


@pytest.fixture(params=["uvloop", "asyncio"])
def blocked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """A server whose event loop is stuck in a handler that never yields."""
    env = base_env(FAKE_ASKELEPHANT_TIME_SCALE="0", **{LOOP_ENV: request.param})
    program = [sys.executable, "-m", "tests.emulator.blocking_serve"]
    server = start(["serve", "--port", "0"], env, tmp_path, program=program)
    try:
        with block_the_loop(server):
            yield server
    finally:
        server.close()


def test_sigterm_ends_a_process_whose_loop_is_blocked_within_5_s(blocked: Served) -> None:
    assert WATCHDOG_S < DOCUMENTED_S
    started = time.monotonic()
    blocked.proc.send_signal(signal.SIGTERM)
    code = blocked.proc.wait(timeout=3 * DOCUMENTED_S)
    elapsed = time.monotonic() - started
    stderr = blocked.stderr()
    assert code == 1 and elapsed < DOCUMENTED_S, (code, elapsed, stderr)
    # The watchdog says where the loop was stuck: the stack of the handler that never yielded.
    assert "SIGTERM, shutting down" in stderr and "Timeout (" in stderr
    assert "blocking_serve.py" in stderr and " in block" in stderr, stderr


@pytest.mark.parametrize(("first", "second"), [(signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGTERM)])
def test_a_second_signal_exits_at_once(blocked: Served, first: signal.Signals, second: signal.Signals) -> None:
    blocked.proc.send_signal(first)
    wait_until(lambda: "shutting down" in blocked.stderr(), what="the first signal to be taken")
    blocked.proc.send_signal(second)
    code = blocked.proc.wait(timeout=3 * DOCUMENTED_S)
    stderr = blocked.stderr()
    # 128 + the signal number, like a shell reports a process killed by it; the watchdog (exit 1) never fired.
    assert code == 128 + second, (code, stderr)
    assert f"{second.name} again, exiting now" in stderr and "Timeout (" not in stderr


def unshare_pid() -> list[str]:
    """`unshare` into a new PID namespace, where the server is PID 1 as in a container; skip where not allowed."""
    command = ["unshare", "--pid", "--fork", "--kill-child"]
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here")
    probe = subprocess.run([*command, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a PID namespace here ({probe.stderr.strip()}): needs root or CAP_SYS_ADMIN")
    return command


@pytest.mark.parametrize("blocking", [False, True], ids=["healthy", "blocked"])
def test_sigterm_to_pid_1_like_docker_stop(tmp_path: Path, blocking: bool) -> None:
    """PID 1 gets only signals it is ready for: the server runs as PID 1 of its own PID namespace and is signalled
    from outside it, as `docker stop` does."""
    module = "tests.emulator.blocking_serve" if blocking else "fake_askelephant"
    program = [*unshare_pid(), sys.executable, "-m", module]
    server = start(["serve", "--port", "0"], base_env(FAKE_ASKELEPHANT_TIME_SCALE="0"), tmp_path, program=program)
    try:
        (pid_1,) = map(int, Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split())
        with contextlib.ExitStack() as stack:
            if blocking:
                stack.enter_context(block_the_loop(server))
            started = time.monotonic()
            os.kill(pid_1, signal.SIGTERM)
            code = server.proc.wait(timeout=3 * DOCUMENTED_S)
            elapsed = time.monotonic() - started
    finally:
        server.close()
    assert code == (1 if blocking else 0) and elapsed < DOCUMENTED_S, (code, elapsed, server.stderr())


def test_sigint_shuts_a_healthy_server_down_gracefully(tmp_path: Path) -> None:
    server = start(["serve", "--port", "0"], base_env(FAKE_ASKELEPHANT_TIME_SCALE="0"), tmp_path)
    assert server.stop(signal.SIGINT) == 0
    assert "SIGINT, shutting down" in server.stderr() and "Traceback" not in server.stderr()


def test_a_signal_during_start_up_is_not_lost() -> None:
    """SIGTERM before the event loop exists still stops the server once it is attached."""
    probe = """
import asyncio, os, signal
from fake_askelephant.shutdown import ShutdownSignals

async def serve(signals):
    stopped = asyncio.Event()
    signals.attach(asyncio.get_running_loop(), stopped.set)
    await asyncio.wait_for(stopped.wait(), 30)

with ShutdownSignals() as signals:
    os.kill(os.getpid(), signal.SIGTERM)  # start-up: no loop yet
    asyncio.run(serve(signals))
print("stopped")
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=base_env(), cwd=ROOT, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "stopped", result.stderr
    assert "SIGTERM, shutting down" in result.stderr
