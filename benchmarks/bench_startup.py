"""Start-up: spawn to first healthy answer, and idle RSS after start (median of several starts each).

Also the modules each server has imported by its first answer: one more start under `python -X importtime`,
counting the import lines written to stderr by the time the first 200 arrives (ours: `fake_askelephant…`).
"""

from __future__ import annotations

import compileall
import statistics
import time
from dataclasses import replace

from .plan import Plan
from .procs import EMULATOR, FLOOR, ROOT, Server, Target
from .report import Section, ratio

MB = 1024 * 1024
IMPORT_LINE = "import time:"


def _one_start(target: Target, idle_s: float) -> tuple[float, float, int]:
    """(wall seconds to the first healthy answer, CPU seconds used by then, idle RSS bytes)."""
    server = Server(target)
    try:
        seconds = server.start()
        cpu = server.cpu_seconds()
        time.sleep(idle_s)  # let start-up garbage settle before reading RSS
        return seconds, cpu, server.rss_bytes()
    finally:
        server.stop()


def modules_before_first_answer(target: Target) -> tuple[int, int]:
    """(modules imported, of them the emulator's own) by the first healthy answer, from `-X importtime`."""
    python, *rest = target.argv
    server = Server(replace(target, argv=(python, "-X", "importtime", *rest)))
    try:
        server.start()
        text = server.stderr_text()
    finally:
        server.stop()
    names = [line.rsplit("|", 1)[1].strip() for line in text.splitlines() if line.startswith(IMPORT_LINE)]
    names = [n for n in names if n != "package"]  # the header line ("self [us] | cumulative | imported package")
    return len(names), sum(1 for n in names if n.split(".")[0] == "fake_askelephant")


def run(plan: Plan) -> Section:
    # Start as an installed package does: pip writes bytecode at install, a source checkout may not have it
    # (PYTHONDONTWRITEBYTECODE), and compiling ~100 modules on every start would be most of what is timed.
    for package in ("fake_askelephant", "benchmarks"):
        compileall.compile_dir(ROOT / package, quiet=1)
    samples: dict[str, list[tuple[float, float, int]]] = {EMULATOR.name: [], FLOOR.name: []}
    for _ in range(plan.starts):
        for target in (FLOOR, EMULATOR):  # alternate so drift in machine load hits both
            samples[target.name].append(_one_start(target, plan.idle_s))
    modules = {target.name: modules_before_first_answer(target) for target in (EMULATOR, FLOOR)}
    start = {name: statistics.median(s for s, _, _ in runs) for name, runs in samples.items()}
    cpu = {name: statistics.median(c for _, c, _ in runs) for name, runs in samples.items()}
    rss = {name: statistics.median(r for _, _, r in runs) / MB for name, runs in samples.items()}
    section = Section(
        "startup",
        f"Start-up (median of {plan.starts} starts, `python -m …`, port given)",
        ["Server", "Spawn → first 200 (s)", "CPU used by then (s)", "Idle RSS (MB)", "Modules imported (ours)"],
        data={
            "starts": plan.starts,
            "start_s": {name: [round(s, 4) for s, _, _ in runs] for name, runs in samples.items()},
            "cpu_s": {name: [round(c, 3) for _, c, _ in runs] for name, runs in samples.items()},
            "rss_mb": {name: [round(r / MB, 1) for _, _, r in runs] for name, runs in samples.items()},
            "median_start_s": {k: round(v, 4) for k, v in start.items()},
            "median_cpu_s": {k: round(v, 3) for k, v in cpu.items()},
            "median_rss_mb": {k: round(v, 1) for k, v in rss.items()},
            "modules_before_first_answer": {k: {"all": v[0], "ours": v[1]} for k, v in modules.items()},
        },
    )
    for name in (EMULATOR.name, FLOOR.name):
        imported, ours = modules[name]
        section.rows.append(
            [name, f"{start[name]:.3f}", f"{cpu[name]:.2f}", f"{rss[name]:.1f}", f"{imported} ({ours})"]
        )
    section.rows.append(
        [
            "emulator / floor",
            f"{ratio(start['emulator'], start['floor']):.2f}×",
            f"{ratio(cpu['emulator'], cpu['floor']):.2f}×",
            "",
            "",
        ]
    )
    section.at_most("start vs floor", ratio(start["emulator"], start["floor"]), 1.5, "×")  # issue 22 §5
    section.below("start", start["emulator"], 0.5, "s")
    section.below("idle RSS", rss["emulator"], 80, "MB")
    section.notes.append("Both trees are byte-compiled first, as an installed package is.")
    section.notes.append(
        "Modules imported: by the first 200, from one more start under `python -X importtime` (not timed)."
    )
    return section
