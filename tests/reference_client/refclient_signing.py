"""Svix signing for the tests, written from webhooks.md §5 independently of the svix package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from tests.contract import spec_examples as ex

SECRET = ex.WORKED_SECRET  # bytes 00..17, webhooks.md §5.1
OLD_SECRET = ex.WORKED_OLD_SECRET  # bytes 18..2f
SPEC_BODY = ex.WORKED_BODY  # the worked example: 746 bytes, one line
SPEC_MSG_ID = ex.WORKED_MSG_ID


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The signing algorithm of webhooks.md §5, independent of the svix package under test."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    body: bytes,
    *,
    msg_id: str = SPEC_MSG_ID,
    secret: str = SECRET,
    timestamp: int | None = None,
    prefix="svix",
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(ts),
        f"{prefix}-signature": sign(secret, msg_id, ts, body),
        "content-type": "application/json",
    }
