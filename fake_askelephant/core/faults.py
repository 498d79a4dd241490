"""Injected HTTP faults (pipeline.md §6): which request a rule hits, how often, and how much latency it adds.

The HTTP edge (api/admin/faults.py) turns a picked rule into a status, a dropped connection or a cut body; this
module only decides, from a seeded RNG, so one seed picks the same requests and latencies on every run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import field
from fnmatch import fnmatchcase
from typing import Literal

from .records import dataclass
from .seeded import SeededRandom

log = logging.getLogger("fake_askelephant.faults")

FaultPhase = Literal["before", "after"]
FaultAction = Literal["reset", "truncate"]
MAX_LATENCY_MS = 60_000.0  # a lognormal tail is capped here (emulator choice)


@dataclass
class FaultRule:
    id: str
    created_at: int
    method: str = "*"  # upper-case method or "*"
    path: str = "*"  # fnmatch glob over the request path (no query string)
    workspace_id: str | None = None
    count: int | None = 1  # as configured; None = unlimited
    remaining: int | None = 1
    probability: float = 1.0
    status: int | None = None
    retry_after: int | None = None
    latency_ms: float | None = None
    latency_median_ms: float | None = None  # lognormal latency: median and sigma
    latency_sigma: float | None = None
    action: FaultAction | None = None
    phase: FaultPhase = "before"
    hits: int = 0

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    @property
    def runs_request(self) -> bool:
        """Whether the request reaches its handler: phase "after", or a latency-only rule, or a truncate
        without a status (there is no body to cut until the request has run)."""
        if self.phase == "after":
            return True
        return self.status is None and self.action in (None, "truncate")

    def matches(self, method: str, path: str, workspace_id: str | None) -> bool:
        if not self.active:
            return False
        if self.method != "*" and self.method != method.upper():
            return False
        if self.workspace_id is not None and self.workspace_id != workspace_id:
            return False
        return fnmatchcase(path, self.path)


@dataclass(frozen=True)
class FaultHit:
    fault_id: str
    request_id: str
    method: str
    path: str
    virtual_time: int
    latency_ms: float


@dataclass
class FaultRules:
    """Rules in creation order; the first active match whose probability draw succeeds fires."""

    rng: SeededRandom  # persisted by its position (persistence/state.py)
    rules: list[FaultRule] = field(default_factory=list)

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def get(self, fault_id: str) -> FaultRule | None:
        return next((r for r in self.rules if r.id == fault_id), None)

    def remove(self, fault_id: str) -> bool:
        rule = self.get(fault_id)
        if rule is not None:
            self.rules.remove(rule)
        return rule is not None

    def clear(self, workspace_id: str | None = None) -> None:
        """All rules, or only those scoped to `workspace_id` (reset of one workspace, pipeline.md §7)."""
        if workspace_id is None:
            self.rules.clear()
        else:
            self.rules = [r for r in self.rules if r.workspace_id != workspace_id]

    def pick(self, method: str, path: str, workspace_id: str | None) -> FaultRule | None:
        for rule in self.rules:
            if not rule.matches(method, path, workspace_id):
                continue
            # Draw only for partial probabilities, so certain rules leave the seeded stream untouched.
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.hits += 1
            if rule.remaining is not None:
                rule.remaining -= 1
            return rule
        return None

    def latency_ms(self, rule: FaultRule) -> float:
        if rule.latency_median_ms is not None:
            drawn = self.rng.lognormvariate(math.log(rule.latency_median_ms), rule.latency_sigma or 0.0)
            return min(drawn, MAX_LATENCY_MS)
        return min(rule.latency_ms or 0.0, MAX_LATENCY_MS)

    def record(self, hit: FaultHit) -> None:
        log.info(
            "injected fault %s on %s %s (request %s, latency %.0f ms)",
            hit.fault_id,
            hit.method,
            hit.path,
            hit.request_id,
            hit.latency_ms,
        )
