"""What a scenario run produced: per-step outcomes on the virtual timeline, webhooks, and the transcript."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from ..core.records import dataclass
from . import transcript
from .matching import Mismatch

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class StepResult:
    index: int  # 1-based, as the report shows it
    name: str | None
    kind: str
    line: int | None
    outcome: str = SKIPPED
    summary: str = ""
    note: str | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """Extra lines under the step: body diffs, polls, what an endpoint received instead."""
    started_ms: int | None = None
    ended_ms: int | None = None
    wall_ms: float = 0.0

    @property
    def label(self) -> str:
        return self.name or self.kind


@dataclass
class ScenarioResult:
    name: str
    source: str
    seed: int
    target: str  # "in-process" or the base URL
    start_ms: int
    base_url: str = ""
    steps: list[StepResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Setup facts worth reading (a remote target's seed differs, its clock was already past the start…)."""
    error: str | None = None
    """Setup or infrastructure failure: the steps could not run."""
    end_ms: int | None = None
    wall_s: float = 0.0
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    """Every webhook attempt (delivery log), endpoint ids replaced by scenario endpoint names."""
    events: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def transcript_bytes(self) -> bytes:
        return transcript.to_bytes(self.transcript, self.base_url)

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.outcome == PASSED for s in self.steps)

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if s.outcome == FAILED), None)

    @property
    def counts(self) -> dict[str, int]:
        out = {PASSED: 0, FAILED: 0, SKIPPED: 0}
        for s in self.steps:
            out[s.outcome] += 1
        return out
