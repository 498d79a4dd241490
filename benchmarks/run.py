"""Run every benchmark (or some), print the table, write results.json and results.md.

python -m benchmarks                      # full run, ~8 minutes on 2 cores
python -m benchmarks --smoke              # seconds; checks the suite still works, says nothing about speed
python -m benchmarks --only http,volume --generator aiohttp --out /tmp/bench
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from . import bench_http, bench_memory, bench_startup, bench_volume, bench_webhooks
from .loadgen import pick_generator
from .plan import Plan, full_plan, smoke_plan
from .report import Section, write

BENCHMARKS: dict[str, Callable[[Plan], Section]] = {
    "startup": bench_startup.run,
    "http": bench_http.run,
    "volume": bench_volume.run,
    "webhooks": bench_webhooks.run,
    "memory": bench_memory.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict[str, Any]:
    models = (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if "model name" in line)
    cpu = next(models, platform.processor() or "unknown")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "platform": platform.platform(),
        "wrk": _wrk_version(),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else "unknown"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI: proves the suite runs")
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "aiohttp"),
        default=None,
        help="load generator: auto = wrk when installed (default), aiohttp in --smoke",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where results go (default {DEFAULT_OUT})")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    generator = pick_generator(args.generator or ("aiohttp" if args.smoke else "auto"))
    plan = smoke_plan(generator) if args.smoke else full_plan(generator)
    meta: dict[str, Any] = {
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "smoke": plan.smoke,
        "generator": generator,
        **machine(),
        "load average before (1/5/15 min)": _load(),
    }
    sections = []
    began = time.perf_counter()
    for name in names:
        print(f"[benchmarks] {name} …", file=sys.stderr, flush=True)
        load_before = _load()
        section = BENCHMARKS[name](plan)
        section.notes.append(f"Load average (1/5/15 min) at start: {load_before}; at end: {_load()}.")
        sections.append(section)
    meta["load average after (1/5/15 min)"] = _load()
    meta["wall time (s)"] = round(time.perf_counter() - began, 1)
    json_path, md_path = write(args.out, meta, sections)
    print(md_path.read_text())
    print(f"[benchmarks] wrote {json_path} and {md_path}", file=sys.stderr)
    return 0
