"""Disk full, for real (issue 18): a `serve --state-file` process whose file cannot grow any more.

test_durability.py injects SQLITE_FULL at the StateFile seam, in-process; here nothing is injected into the
emulator: the operating system refuses the writes, SQLite reports what it reports, and the process is killed
with SIGKILL and started again on the same file. Two ways to fill the disk:

- `fsize`: RLIMIT_FSIZE lowered on the running process from outside (prlimit(2): same user, no privilege), so a
  write past the limit fails with EFBIG (Python ignores SIGXFSZ) — works on any Linux;
- `tmpfs`: the file lives on a 4 MiB tmpfs that a filler file fills up (ENOSPC, a real full filesystem) — needs
  root and `mount`, skipped otherwise.

"Freeing the disk" is raising the limit back / deleting the filler; the process must recover by itself.

The oracle is the file read back by a restarted process: every engagement answered 201 is there, no engagement
answered 503 is, a tag whose DELETE was refused is still there. 2xx must mean stored; 503 problem+json
`unavailable` with Retry-After when it could not be stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_process import Served, base_env, start
from tests.conftest import DEFAULT_KEY, seed_call
from tests.reliability.serving import wait_until

UNAVAILABLE = "https://app.askelephant.ai/errors/unavailable"
ROOM_BYTES = 48 * 1024  # what is left on the "disk" when it fills: a few creates fit, then none


def call(method: str, url: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    """(status, headers, parsed body): the headers matter here (Retry-After, the problem media type)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": DEFAULT_KEY, "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


Disk = Callable[[Served, Path], contextlib.AbstractContextManager[None]]  # fill on entry, free on exit


@contextlib.contextmanager
def fsize_limit(server: Served, path: Path) -> Iterator[None]:
    """RLIMIT_FSIZE on the running server: its files (the database, its WAL) can grow ROOM_BYTES more at most."""
    import resource  # POSIX only

    sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()]
    before = resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (max(sizes) + ROOM_BYTES, before[1]))
    try:
        yield
    finally:
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, before)


@contextlib.contextmanager
def full_tmpfs(server: Served, path: Path) -> Iterator[None]:
    """A filler file takes all but ROOM_BYTES of the tmpfs the state file lives on."""
    stat = os.statvfs(path.parent)
    filler = path.parent / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - ROOM_BYTES))
    try:
        yield
    finally:
        filler.unlink()


@contextlib.contextmanager
def state_dir(kind: str, tmp_path: Path) -> Iterator[Path]:
    if kind == "fsize":
        yield tmp_path
        return
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a tmpfs of its own needs root and mount(8)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def titles(api: str) -> set[str]:
    """The stored engagements' titles (each create's title is its external_id, which the API does not show)."""
    status, _, page = call("GET", f"{api}/v2/engagements?limit=100")
    assert status == 200 and page["has_more"] is False, page
    return {e["title"] for e in page["data"]}


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prlimit(2) and tmpfs are Linux")
@pytest.mark.parametrize("kind", ["fsize", "tmpfs"])
def test_a_full_disk_refuses_with_503_keeps_every_2xx_and_recovers(kind: str, tmp_path: Path) -> None:
    fill: Disk = {"fsize": fsize_limit, "tmpfs": full_tmpfs}[kind]
    with state_dir(kind, tmp_path) as directory:
        path = directory / "state.sqlite"
        env = base_env(FAKE_ASKELEPHANT_STATE_FILE=str(path), FAKE_ASKELEPHANT_TIME_SCALE="0")
        acknowledged: set[str] = set()
        refused: set[str] = set()

        def create(n: int) -> int:
            external_id = f"{kind}-{n}"
            body = seed_call(external_id=external_id, title=external_id)
            status, headers, body = call("POST", f"{server.api}/v2/engagements", body)
            if status == 201:
                acknowledged.add(external_id)
            else:
                assert status == 503, body
                assert headers["Content-Type"].startswith("application/problem+json"), headers
                assert body["type"] == UNAVAILABLE and body["status"] == 503, body
                assert int(headers["Retry-After"]) > 0 and headers["X-Request-Id"] == body["request_id"]
                refused.add(external_id)
            return status

        server = start(["serve", "--port", "0"], env, tmp_path, "first")
        try:
            for n in range(5):
                assert create(n) == 201
            status, _, tag = call("POST", f"{server.api}/v2/tags", {"name": "kept"})
            assert status == 201
            tags_before = call("GET", f"{server.api}/v2/tags?limit=100")[2]
            assert tag in tags_before["data"] and tags_before["has_more"] is False

            with fill(server, path):
                n = 5
                while create(n) == 201:  # the room left fills up: a few creates fit, then none
                    n += 1
                    assert n < 500, "500 creates answered 201 while the disk filled up"
                first_refusal = n
                for n in range(first_refusal + 1, first_refusal + 4):  # refused up front while still full
                    assert create(n) == 503
                status, headers, body = call("DELETE", f"{server.api}/v2/tags/{tag['id']}")
                assert status == 503 and body["type"] == UNAVAILABLE and "Retry-After" in headers, body
                status, _, health = call("GET", f"{server.base}/__admin/health")
                assert status == 200 and health["status"] == "degraded", health
                assert str(path) in health["reason"], health
                # Reads still answer, from memory put back to the file: exactly what was acknowledged.
                assert titles(server.api) == acknowledged

            # Room again: the background probe writes, health says ok, creates are stored again.
            wait_until(lambda: call("GET", f"{server.base}/__admin/health")[2]["status"] == "ok", 30, "recovery")
            for n in range(first_refusal + 4, first_refusal + 7):
                assert create(n) == 201
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(timeout=10)
        finally:
            server.close()
        stderr = (tmp_path / "first.stderr.log").read_text()
        assert "could not be written" in stderr and "writable again" in stderr, stderr
        assert "Traceback" not in stderr, stderr

        assert len(acknowledged) >= 8 and len(refused) >= 4, (acknowledged, refused)
        with contextlib.closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        again = start(["serve", "--port", "0"], env, tmp_path, "again")
        try:
            assert titles(again.api) == acknowledged  # every 2xx, none of the 503s
            assert call("GET", f"{again.api}/v2/tags?limit=100")[2] == tags_before  # its DELETE was refused
        finally:
            assert again.stop() == 0
