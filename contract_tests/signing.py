"""Svix-style webhook signatures with stdlib hmac (webhooks.md §5), independent of any webhook library."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SIGNATURE_VERSION = "v1"

__all__ = ["generate_secret", "sign", "signature_header", "verify_signature_header"]


def _key(secret: str) -> bytes:
    """Decoded HMAC key of ``whsec_<base64>``; raises ``ValueError`` on a malformed secret."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"webhook secret is not whsec_ + standard base64: {exc}") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return ``v1,<base64 HMAC-SHA256>`` over ``{msg_id}.{timestamp}.{body}``.

    Args:
        secret: ``whsec_`` + standard base64; the decoded bytes are the HMAC key.
        msg_id: the ``svix-id`` header value.
        timestamp: the ``svix-timestamp`` header value, integer Unix seconds.
        body: the raw body bytes exactly as sent.

    Raises:
        ValueError: malformed secret.
    """
    signed_content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed_content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION}," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per secret, in order (rotation sends ``new old``)."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_)


def verify_signature_header(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """True if any ``v1`` entry of ``header`` matches (constant-time compare); other versions skipped."""
    expected = sign(secret, msg_id, timestamp, body).encode()
    matched = False
    for entry in header.split(" "):
        version, _, value = entry.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        # No early exit: every entry is compared so timing does not reveal which one matched.
        matched |= hmac.compare_digest(expected, f"{version},{value}".encode())
    return matched


def generate_secret(nbytes: int = 24) -> str:
    """A fresh ``whsec_`` secret of ``nbytes`` random bytes (Svix uses 24)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")
