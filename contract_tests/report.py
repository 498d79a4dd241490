"""Check results, rendered as a readable text report and as JUnit XML for CI."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Outcome = Literal["passed", "failed", "skipped", "error"]
_MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "error": "ERROR"}

__all__ = ["CheckResult", "Outcome", "Report"]


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict; ``message`` says what was expected and what came back."""

    suite: str
    name: str
    outcome: Outcome
    duration_seconds: float
    message: str = ""
    description: str = ""


@dataclass
class Report:
    """All results of one run against one target."""

    title: str
    target: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored (skips are fine)."""
        return all(r.outcome in ("passed", "skipped") for r in self.results)

    def counts(self) -> dict[Outcome, int]:
        out: dict[Outcome, int] = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for r in self.results:
            out[r.outcome] += 1
        return out

    def result(self, name: str) -> CheckResult:
        """The result of check ``name``; raises ``KeyError`` if it did not run."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no check named {name!r} in this report")

    def failed_names(self) -> list[str]:
        return [r.name for r in self.results if r.outcome in ("failed", "error")]

    def to_text(self, *, verbose: bool = False) -> str:
        """One line per check, then the failure messages, then a summary line."""
        lines = [f"{self.title} — {self.target}", ""]
        width = max((len(r.name) for r in self.results), default=10)
        for r in self.results:
            lines.append(f"  {_MARKS[r.outcome]:<5} {r.suite:<12} {r.name:<{width}}  {r.duration_seconds:6.2f}s")
            if verbose and r.description:
                lines.append(f"        {r.description}")
        problems = [r for r in self.results if r.outcome in ("failed", "error")]
        for r in problems:
            lines += ["", f"--- {_MARKS[r.outcome]}: {r.suite}.{r.name}", r.message.rstrip()]
        skipped = [r for r in self.results if r.outcome == "skipped"]
        if skipped and verbose:
            lines += ["", "Skipped:"] + [f"  {r.name}: {r.message}" for r in skipped]
        c = self.counts()
        verdict = "OK" if self.ok else "FAILED"
        lines += [
            "",
            f"{verdict}: {c['passed']} passed, {c['failed']} failed, {c['error']} errors, {c['skipped']} skipped",
        ]
        return "\n".join(lines) + "\n"

    def to_junit_xml(self) -> str:
        """JUnit XML (one testsuite; classname = suite) that CI systems render."""
        c = self.counts()
        suite = ET.Element(
            "testsuite",
            name=self.title,
            tests=str(len(self.results)),
            failures=str(c["failed"]),
            errors=str(c["error"]),
            skipped=str(c["skipped"]),
            time=f"{sum(r.duration_seconds for r in self.results):.3f}",
        )
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="target", value=self.target)
        for r in self.results:
            case = ET.SubElement(suite, "testcase", classname=r.suite, name=r.name, time=f"{r.duration_seconds:.3f}")
            if r.outcome == "failed":
                ET.SubElement(case, "failure", message=r.message.splitlines()[0] if r.message else "").text = r.message
            elif r.outcome == "error":
                ET.SubElement(case, "error", message=r.message.splitlines()[0] if r.message else "").text = r.message
            elif r.outcome == "skipped":
                ET.SubElement(case, "skipped", message=r.message)
        root = ET.Element("testsuites")
        root.append(suite)
        return ET.tostring(root, encoding="unicode", xml_declaration=True)

    def write_junit(self, path: str | Path) -> None:
        Path(path).write_text(self.to_junit_xml(), encoding="utf-8")


@contextmanager
def timer() -> Iterator[list[float]]:
    """Yields a one-item list that holds the elapsed seconds once the block ends."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start
