"""`--state-file` cost (issue 18): per-create latency with the file vs without at 100 / 10,000 / 100,000 stored
engagements, start-up with a full file, and the file's size per engagement.

    python -m benchmarks.bench_state_file                   # 100, 10,000, 100,000 (about 10 minutes on 2 cores)
    python -m benchmarks.bench_state_file --sizes 100,1000  # quicker

For each size a state file is built in-process (the same creates the API makes, written with the persister's own
full dump) and copied twice: one copy is served with `serve --state-file` (every create is committed before its
201), the other is loaded into an emulator served *without* a state file (benchmarks/preloaded_app.py), so both
servers hold the same engagements. Each then answers CREATES sequential new-engagement POSTs on one keep-alive
connection (c=1: latency, not throughput); the table gives medians and p99 and their ratio. Both servers run at
once and take turns, BLOCK creates at a time (the first turn alternating), so both see the same machine: on a
shared, busy machine the load drifts over a run, and measuring one server after the other put that drift into
the ratio. Start-up is spawn to the first 200 on /__admin/health with the full file.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fake_askelephant.core import scopes
from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.models import EngagementDraft, Participant, Principal
from fake_askelephant.core.timefmt import format_ms, parse_iso, wall_ms
from fake_askelephant.emulator import Emulator
from fake_askelephant.persistence import state
from fake_askelephant.persistence.statefile import StateFile

from .procs import EMULATOR, Server, Target

KEY = "sk-apik_local.fakeaskelephant"
T0 = parse_iso("2026-03-09T12:00:00Z")
CREATES = 400
BLOCK = 20  # creates per turn (CREATES is a multiple)
ADMIN = Principal("wrks_local", "usr_local", frozenset({scopes.ADMIN}), "apik_local")


def draft(n: int, prefix: str = "stored") -> EngagementDraft:
    return EngagementDraft(
        "CALL",
        f"Call {n}",
        "bench",
        f"{prefix}-{n}",
        media_url=f"https://recordings.example.com/{prefix}-{n}.mp3",
        participants=(
            Participant("Alice Smith", "alice@example.com", None, True),
            Participant(f"Customer {n % 500}", f"customer{n % 500}@customer.example", None),
        ),
    )


def build_file(path: Path, engagements: int) -> None:
    em = Emulator(seed=1, clock=VirtualClock(T0, 0.0))

    async def fill() -> None:
        for n in range(engagements):
            await em.engagements.create_engagement(ADMIN, draft(n))

    asyncio.run(fill())
    file = StateFile(str(path))
    file.write(state.dump(em), [], [("seed", "1"), ("saved_at", format_ms(wall_ms()))], replace=True)
    file.close()


class Creator:
    """New-engagement POSTs, sequential on one keep-alive connection; `run` times each."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.made = 0
        self.samples: list[float] = []

    def run(self, count: int) -> None:
        headers = {"Authorization": KEY, "Content-Type": "application/json"}
        for n in range(self.made, self.made + count):
            body = {
                "type": "CALL",
                "title": f"New {n}",
                "source_system": "bench",
                "external_id": f"new-{n}",
                "media_url": f"https://recordings.example.com/new-{n}.mp3",
                "participants": [{"name": "Jane Doe", "email": f"jane{n}@customer.example"}],
            }
            started = time.perf_counter()
            self.conn.request("POST", "/api/v2/engagements", json.dumps(body), headers)
            resp = self.conn.getresponse()
            resp.read()
            self.samples.append(time.perf_counter() - started)
            if resp.status != 201:
                raise RuntimeError(f"create answered {resp.status}")
        self.made += count

    def close(self) -> None:
        self.conn.close()


def preloaded(path: Path) -> Target:
    return Target(
        "preloaded", (sys.executable, "-m", "benchmarks.preloaded_app", str(path), "--port"), "/__admin/health"
    )


def with_file(path: Path) -> Target:
    argv = (*EMULATOR.argv[:-1], "--state-file", str(path), "--port")
    return Target("state-file", argv, "/__admin/health")


def p99(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(len(samples) * 0.99) - 1)]


def measure(size: int, work: Path) -> dict[str, float]:
    built = work / f"built-{size}.sqlite"
    started = time.perf_counter()
    build_file(built, size)
    build_s = time.perf_counter() - started
    served, loaded = work / f"served-{size}.sqlite", work / f"loaded-{size}.sqlite"
    shutil.copy(built, served)
    shutil.copy(built, loaded)
    result: dict[str, float] = {"engagements": size, "build_s": build_s}
    result["file_bytes"] = built.stat().st_size
    servers = {"without": Server(preloaded(loaded)), "with": Server(with_file(served))}
    creators: dict[str, Creator] = {}
    try:
        for name, server in servers.items():
            result[f"start_{name}_s"] = server.start()
            creators[name] = Creator(server.port)
        for turn in range(CREATES // BLOCK):
            for name in ("without", "with") if turn % 2 == 0 else ("with", "without"):
                creators[name].run(BLOCK)
    finally:
        for creator in creators.values():
            creator.close()
        for server in servers.values():
            server.stop()
    for name, creator in creators.items():
        warm = creator.samples[CREATES // 10 :]  # the first creates pay for imports and caches
        result[f"{name}_p50_ms"] = statistics.median(warm) * 1000
        result[f"{name}_p99_ms"] = p99(warm) * 1000
    result["ratio_p50"] = result["with_p50_ms"] / result["without_p50_ms"]
    return result


def table(results: list[dict[str, float]]) -> str:
    lines = [
        "| Stored engagements | p50 without file (ms) | p50 with file (ms) | ratio | p99 without / with (ms) "
        "| start-up with file (s) | file size per engagement |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {int(r['engagements']):,} | {r['without_p50_ms']:.2f} | {r['with_p50_ms']:.2f} | "
            f"{r['ratio_p50']:.2f}× | {r['without_p99_ms']:.2f} / {r['with_p99_ms']:.2f} | "
            f"{r['start_with_s']:.2f} | {r['file_bytes'] / r['engagements'] / 1024:.1f} KiB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,10000,100000")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="fake-askelephant-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(measure(size, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
