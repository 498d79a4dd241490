"""Start-up and shutdown with a big state file (issues 18, 23): `serve --state-file` with N stored engagements.

    python -m benchmarks.bench_state_startup                        # 100,000 engagements, 3 runs (~2 min on 2 cores)
    python -m benchmarks.bench_state_startup --size 10000 --runs 5
    python -m benchmarks.bench_state_startup --cache /tmp/bench-100k.sqlite   # build the file once, reuse it

The file is built in-process by the same creates the API makes (benchmarks/bench_state_file.py's build_file: PENDING
call engagements with two participants) and copied for every run. Each run spawns `python -m fake_askelephant serve
--state-file COPY`, polls /__admin/health every 2 ms and records: spawn → first answer (it must be 503 `starting`),
spawn → first 200 `ok` (every record loaded), the CPU seconds the server used by each (barely moved by other load,
unlike wall time), SIGTERM → exit once loaded, and, in a second process, SIGTERM → exit once health reports a third
of the records loaded.
Medians of the runs are printed, with the load average before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .bench_state_file import build_file
from .procs import ROOT, free_port

POLL_S = 0.002
TIMEOUT_S = 120.0


def health(port: int) -> tuple[int, dict[str, Any]] | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
    try:
        conn.request("GET", "/__admin/health")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    except OSError:
        return None  # not listening yet
    finally:
        conn.close()


def progress(answer: tuple[int, dict[str, Any]] | None) -> float:
    """How far the load got, from health's reason (0 before the first answer, 2 once `ok`)."""
    if answer is None:
        return 0.0
    if answer[1].get("status") == "ok":
        return 2.0
    found = re.search(r": ([\d,]+) of ([\d,]+) records", answer[1].get("reason", ""))
    if not found:
        raise RuntimeError(f"unexpected health answer while loading: {answer}")
    done, total = (int(g.replace(",", "")) for g in found.groups())
    return done / total


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn(path: Path, port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "fake_askelephant", "serve", "--seed", "1", "--time-scale", "0"]
    argv += ["--state-file", str(path), "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_ASKELEPHANT_")}
    env["PYTHONPATH"] = str(ROOT)
    with (path.parent / "serve.stderr.log").open("ab") as stderr:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def sigterm(proc: subprocess.Popen[bytes]) -> tuple[float, int]:
    """Seconds from SIGTERM to exit, and the exit code."""
    began = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(30)
    return time.perf_counter() - began, code


def one_run(built: Path, work: Path) -> dict[str, float]:
    try:
        return _one_run(built, work)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; serve's stderr: {(work / 'serve.stderr.log').read_text()[-3000:]}") from exc


def _one_run(built: Path, work: Path) -> dict[str, float]:
    (work / "serve.stderr.log").unlink(missing_ok=True)
    copy = work / "served.sqlite"
    shutil.copy(built, copy)
    port = free_port()
    began = time.perf_counter()
    proc = spawn(copy, port)
    out: dict[str, float] = {}
    try:
        while True:
            answer = health(port)
            now = time.perf_counter() - began
            if answer is not None:
                status, body = answer
                if body.get("pid") != proc.pid:  # a port picked by free_port() can be taken before serve binds it
                    raise RuntimeError(f"port {port} is answered by another process (pid {body.get('pid')})")
                if "first_answer_s" not in out:
                    out["first_answer_s"] = now
                    out["cpu_to_first_s"] = cpu_seconds(proc.pid)
                    if body.get("status") != "starting":
                        raise RuntimeError(f"the first answer was not `starting`: {status} {body}")
                if status == 200 and body.get("status") == "ok":
                    out["ok_s"] = now
                    out["cpu_to_ok_s"] = cpu_seconds(proc.pid)
                    break
            if proc.poll() is not None or now > TIMEOUT_S:
                raise RuntimeError(f"serve did not become healthy (exit {proc.poll()})")
            time.sleep(POLL_S)
        out["sigterm_loaded_s"], code = sigterm(proc)
        if code != 0:
            raise RuntimeError(f"exit {code} after SIGTERM")
        # Stopped in the middle of the load: once health says a third of the records are in.
        shutil.copy(built, copy)
        proc = spawn(copy, port)
        while (loaded := progress(health(port))) < 1 / 3:
            if proc.poll() is not None:
                raise RuntimeError("the second serve exited")
            time.sleep(POLL_S)
        if loaded > 1:
            raise RuntimeError("loaded before a third of the load was seen")
        out["sigterm_loading_s"], code = sigterm(proc)
        if code != 0:
            raise RuntimeError(f"exit {code} after SIGTERM mid-load")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="state file to reuse (built there if missing)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fake-askelephant-bench-") as tmp:
        work = Path(tmp)
        built = args.cache or work / "built.sqlite"
        if not built.exists():
            started = time.perf_counter()
            build_file(built, args.size)
            print(f"built {args.size:,} engagements in {time.perf_counter() - started:.1f} s", flush=True)
        file_mib = built.stat().st_size / 2**20
        load_before = os.getloadavg()
        runs = []
        for _ in range(args.runs):
            runs.append(one_run(built, work))
            print(json.dumps({k: round(v, 3) for k, v in runs[-1].items()}), flush=True)
        load_after = os.getloadavg()
    medians = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
    summary = {
        "python": sys.version.split()[0],
        "engagements": args.size,
        "file_mib": round(file_mib, 1),
        "runs": args.runs,
        "median": medians,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
