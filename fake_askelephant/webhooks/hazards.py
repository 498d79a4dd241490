"""Webhook hazards: opt-in misbehaviour per endpoint, to test receivers (pipeline.md §5, §7).

Duplicates (a second attempt right after a success), out-of-order delivery (a message held back until the next one
overtook it), stale timestamps, signatures with a wrong secret, altered bodies, and a delayed first attempt. The
draws come from a seeded stream per endpoint, so one seed misbehaves the same way on every run.
"""

from __future__ import annotations

from typing import Literal, get_args

from ..core.records import dataclass
from ..core.seeded import RngState, SeededRandom, rng_restore, rng_snapshot
from .signing import generate_secret, signature_header

Hazard = Literal["duplicate", "out_of_order", "stale_timestamp", "wrong_secret", "body_altered"]
HAZARD_PROBABILITIES: tuple[Hazard, ...] = get_args(Hazard)
SIGNING_HAZARDS: tuple[Hazard, ...] = ("stale_timestamp", "wrong_secret", "body_altered")  # at most one per attempt
STALE_BY_S = 10 * 60
OUT_OF_ORDER_HOLD_MS = 60_000  # a held message goes out after the next one, or after this long


@dataclass
class Hazards:
    """An endpoint's hazard settings: a probability per hazard, and a fixed delay of the first attempt."""

    duplicate: float = 0.0
    out_of_order: float = 0.0
    stale_timestamp: float = 0.0
    wrong_secret: float = 0.0
    body_altered: float = 0.0
    delay_first_attempt_seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in (*HAZARD_PROBABILITIES, "delay_first_attempt_seconds")}


@dataclass(frozen=True)
class Signed:
    """What an attempt sends after its signing hazard (if any) was applied."""

    timestamp: int
    signature: str
    body: bytes
    hazard: Hazard | None


class HazardDice:
    """The seeded streams, one per endpoint, created on first use."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.rngs: dict[str, SeededRandom] = {}  # the streams made so far (persisted by their positions)

    def rng(self, endpoint_id: str) -> SeededRandom:
        rng = self.rngs.get(endpoint_id)
        if rng is None:
            rng = self.rngs[endpoint_id] = SeededRandom(f"{self._seed}:hazards:{endpoint_id}")
        return rng

    def draw(self, endpoint_id: str, hazards: Hazards, hazard: Hazard) -> bool:
        """Draws only for a probability above 0, so endpoints without hazards leave their stream untouched."""
        p: float = getattr(hazards, hazard)
        return p > 0 and self.rng(endpoint_id).random() < p

    def sign(
        self, endpoint_id: str, hazards: Hazards, secrets: list[str], msg_id: str, timestamp: int, body: bytes
    ) -> Signed:
        """Sign an attempt over the exact bytes sent, after at most one signing hazard."""
        hazard = next((h for h in SIGNING_HAZARDS if self.draw(endpoint_id, hazards, h)), None)
        if hazard == "stale_timestamp":
            timestamp -= STALE_BY_S
        if hazard == "wrong_secret":
            secrets = [generate_secret(self.rng(endpoint_id))]
        signature = signature_header(secrets, msg_id, timestamp, body)
        if hazard == "body_altered":
            body = body.replace(b'"api_version":"v1"', b'"api_version":"v1","tampered":true', 1)
        return Signed(timestamp, signature, body, hazard)

    def snapshot(self) -> dict[str, RngState]:
        return {endpoint_id: rng_snapshot(rng) for endpoint_id, rng in self.rngs.items()}

    def restore(self, saved: dict[str, RngState]) -> None:
        for endpoint_id, state in saved.items():
            rng_restore(self.rng(endpoint_id), state)
