"""Svix / Standard Webhooks signatures (webhooks.md §5), with stdlib hmac so the runtime needs no SDK.

Tests prove byte-compatibility with the official `svix` and `standardwebhooks` packages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import re
from collections.abc import Iterable, Mapping

from ..core.records import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
GENERATED_SECRET_BYTES = 24  # what Svix generates (docs: Svix)
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
TOLERANCE_S = 5 * 60
_B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


class InvalidSecret(ValueError):
    pass


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_` (any length, as the Svix libraries accept)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if not encoded or not _B64.match(encoded):
        raise InvalidSecret("secret must be whsec_ followed by standard base64")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("secret must be whsec_ followed by standard base64") from exc


def validate_secret(secret: str) -> str:
    """A secret an endpoint may be configured with: `whsec_` + standard base64 of 24–64 bytes (pipeline.md §7)."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("secret must start with whsec_")
    key = secret_key(secret)
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(f"secret must encode {MIN_SECRET_BYTES}–{MAX_SECRET_BYTES} bytes, not {len(key)}")
    return secret


def generate_secret(rng: random.Random, nbytes: int = GENERATED_SECRET_BYTES) -> str:
    """Seeded, so a scenario's secrets (and thus signatures) repeat run to run."""
    return SECRET_PREFIX + base64.b64encode(rng.randbytes(nbytes)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}." + body)), over the exact bytes sent."""
    digest = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated entries, newest secret first (rotation carries both: webhooks.md §5)."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets)


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "reason": self.reason}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(f"svix-{name}") or lowered.get(f"webhook-{name}")


def verify(secrets: Iterable[str], headers: Mapping[str, str], body: bytes, now_s: float) -> Verification:
    """What a correct receiver does (webhooks.md §7): headers present, timestamp within ±5 min, any v1 match."""
    msg_id, timestamp, signature = _header(headers, "id"), _header(headers, "timestamp"), _header(headers, "signature")
    if not msg_id or not timestamp or not signature:
        return Verification(False, "missing svix-id / svix-timestamp / svix-signature headers")
    try:
        ts = int(timestamp)
    except ValueError:
        return Verification(False, "svix-timestamp is not an integer")
    if ts < now_s - TOLERANCE_S:
        return Verification(False, "timestamp too old (more than 5 minutes)")
    if ts > now_s + TOLERANCE_S:
        return Verification(False, "timestamp too new (more than 5 minutes ahead)")
    offered = [part.split(",", 1)[1] for part in signature.split() if part.startswith("v1,")]
    secrets = list(secrets)
    if not secrets:
        return Verification(False, "no endpoint secret is known for this sink")
    for secret in secrets:
        expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected.encode(), o.encode()) for o in offered):
            return Verification(True, "signature verified")
    return Verification(False, "no matching signature")
