"""benchmarks/procs.Server measures the server it started, not whichever process answers on the port it picked."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen

import pytest

from benchmarks import procs

pytestmark = pytest.mark.slow  # starts server processes


class _Impostor(BaseHTTPRequestHandler):
    """Another server already on the port: healthy, but not ours (the pid is this test process's)."""

    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "pid": os.getpid()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_picked_port_another_process_took_first_is_picked_again(
    impostor: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CI runs three suites side by side: a port free_port() picked can be bound by another suite's server first.
    The benchmark then drove that server, which another client was resetting (a DELETE of an engagement just made
    answered 404 in CI)."""
    picks = iter([impostor])
    real_free_port = procs.free_port
    monkeypatch.setattr(procs, "free_port", lambda: next(picks, None) or real_free_port())

    with procs.Server(procs.FLOOR) as floor:
        assert floor.port != impostor
        with urlopen(f"{floor.base_url}/health", timeout=5) as resp:
            assert json.load(resp)["pid"] == floor.pid  # the answer comes from the process it started

    assert f"port {impostor} is answered by another process (pid {os.getpid()})" in capsys.readouterr().err


def test_a_server_that_exits_is_reported_with_its_stderr() -> None:
    broken = procs.Target("broken", (sys.executable, "-c", "import sys; sys.exit('no such app')", "--port"), "/")
    with pytest.raises(RuntimeError, match="broken did not become healthy: no such app"):
        procs.Server(broken).start()
