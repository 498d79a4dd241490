"""Request bodies of the control-plane routes that live beside a middleware: faults, recording, snapshots.

Those modules load with the app for their middleware; these wire models (pydantic) load with the first request
that reads one of them, as the public API's do (api/validation.py, issue 22 §5).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...core.faults import MAX_LATENCY_MS, FaultAction, FaultPhase
from ...core.store import WORKSPACE_ID
from ..schemas import WireModel


class LognormalIn(WireModel):
    median_ms: float = Field(gt=0, le=MAX_LATENCY_MS)
    sigma: float = Field(0.5, ge=0, le=5)


class LognormalLatencyIn(WireModel):
    lognormal: LognormalIn


class FaultIn(WireModel):
    """`POST /__admin/faults`; nulls mean "any" / "none" as in the spec's example body."""

    method: str = Field("*", pattern=r"^(\*|[A-Za-z]{1,16})$")
    path: str = Field("*", min_length=1, max_length=2048, pattern=r"^[/*]")
    workspace_id: str | None = Field(None, pattern=WORKSPACE_ID.pattern)
    count: int | None = Field(1, ge=1)
    probability: float = Field(1.0, ge=0, le=1)
    status: int | None = Field(None, ge=400, le=599)
    retry_after: int | None = Field(None, ge=1, le=86_400)
    latency_ms: Any = None  # a number or {"lognormal": …}; checked by latency_errors for flat error paths
    action: FaultAction | None = None
    phase: FaultPhase = "before"


class RecordingStartIn(WireModel):
    name: str = Field("recorded-session", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SnapshotIn(WireModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
