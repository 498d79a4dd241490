"""Results: each benchmark returns a Section; the runner writes them as JSON and as a Markdown table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    """One issue #10 target: `measured` against `goal`, in `unit`."""

    name: str
    measured: float
    goal: str
    unit: str
    met: bool


@dataclass
class Section:
    name: str
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def at_most(self, name: str, measured: float, limit: float, unit: str) -> None:
        self.checks.append(Check(name, round(measured, 4), f"≤ {limit:g} {unit}".strip(), unit, measured <= limit))

    def below(self, name: str, measured: float, limit: float, unit: str) -> None:
        self.checks.append(Check(name, round(measured, 4), f"< {limit:g} {unit}".strip(), unit, measured < limit))

    def at_least(self, name: str, measured: float, floor: float, unit: str) -> None:
        self.checks.append(Check(name, round(measured, 4), f"≥ {floor:g} {unit}".strip(), unit, measured >= floor))


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


def number(value: float) -> str:
    """Readable at a glance: 3 significant digits, thousands separated."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(meta: dict[str, Any], sections: list[Section]) -> str:
    lines = ["## Run", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    checks = [c for s in sections for c in s.checks]
    lines += ["", "## Targets", ""]
    lines += _table(
        ["Target", "Measured", "Goal", "Met"],
        [[c.name, f"{number(c.measured)} {c.unit}".strip(), c.goal, "yes" if c.met else "**no**"] for c in checks],
    )
    for s in sections:
        lines += ["", f"## {s.title}", ""]
        lines += _table(s.columns, s.rows)
        if s.notes:
            lines += ["", *(f"- {note}" for note in s.notes)]
    return "\n".join(lines) + "\n"


def write(out_dir: Path, meta: dict[str, Any], sections: list[Section]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    doc = {
        "meta": meta,
        "checks": [asdict(c) for s in sections for c in s.checks],
        "benchmarks": {s.name: {"rows": s.rows, "columns": s.columns, "data": s.data} for s in sections},
    }
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    md_path.write_text(markdown(meta, sections))
    return json_path, md_path
