"""Svix signing for the tests, written from webhooks.md §5 independently of the svix package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"  # bytes 00..17, webhooks.md §5.1
OLD_SECRET = "whsec_GBkaGxwdHh8gISIjJCUmJygpKissLS4v"  # bytes 18..2f

# webhooks.md §5.1 worked example: 746 bytes, one line.
SPEC_BODY = (
    b'{"id":"evt_01KK97FTG0TR4NSCR1PTRDY7QZ","type":"v1.engagement.transcript_timeline.completed",'
    b'"api_version":"v1","created_at":"2026-03-09T12:00:00.000Z","workspace_id":"wrks_local",'
    b'"data":{"object":{"object":"engagement","id":"ngmt_01KK97DZX0B7WAVVC4XK2M9QHR",'
    b'"title":"WAVV call with Jane Doe","engagement_type":"CALL","processing_status":"PROCESSING",'
    b'"is_private":false,"created_at":"2026-03-09T11:59:00.000Z","updated_at":"2026-03-09T12:00:00.000Z",'
    b'"data_source":"API","is_internal":false,"engagement_at":"2026-03-09T11:51:40.000Z",'
    b'"start_at":"2026-03-09T11:51:40.000Z","end_at":"2026-03-09T11:58:20.000Z","duration_seconds":400,'
    b'"external_url":"wavv://call/12345","owner_user_id":"usr_local","host_user_id":"usr_local"},'
    b'"previous_attributes":{}}}'
)
SPEC_MSG_ID = "msg_01KK97FTG0TR4NSCR1PTRDY7QZ"


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
