"""Literal examples copied from the shared spec (api.md, webhooks.md): known answers for the tests."""

from __future__ import annotations

from typing import Any

# dialer-flow.md §2: the dialer's create request (tests copy it before changing it).
DIALER_REQUEST: dict[str, Any] = {
    "type": "CALL",
    "title": "Sales call with Jane Doe",
    "source_system": "my-dialer",
    "external_id": "call-20260513-001",
    "media_url": "https://recordings.example.com/call-20260513-001.mp3",
    "external_url": "https://my-dialer.example.com/calls/call-20260513-001",
    "run_workflows": True,
    "participants": [
        {"name": "Alice Smith", "email": "alice@example.com", "is_owner": True},
        {"name": "Jane Doe", "email": "jane@customer.com", "phone": "+14155550100"},
    ],
}

# api.md §5.1: the 201 for dialer-flow.md §2's request.
ENGAGEMENT_201 = {
    "object": "engagement",
    "id": "ngmt_01KK97DZX0JD0E5QKV2N8R4T6W",
    "title": "Sales call with Jane Doe",
    "engagement_type": "CALL",
    "processing_status": "PENDING",
    "is_private": False,
    "created_at": "2026-03-09T11:59:00.000Z",
    "updated_at": "2026-03-09T11:59:00.000Z",
    "data_source": "API",
    "is_internal": False,
    "engagement_at": "2026-03-09T11:59:00.000Z",
    "start_at": "2026-03-09T11:59:00.000Z",
    "end_at": "2026-03-09T12:12:59.000Z",
    "duration_seconds": 839,
    "external_url": "https://my-dialer.example.com/calls/call-20260513-001",
    "owner_user_id": "usr_local",
    "host_user_id": "usr_local",
}

# api.md §4.
PROBLEM_422 = {
    "type": "https://app.askelephant.ai/errors/validation_failed",
    "title": "Validation Failed",
    "status": 422,
    "detail": "The request contains invalid fields.",
    "request_id": "rid_01KK97FTG0Q8W2M7B5T6C1D0EX",
    "errors": [{"field": "limit", "code": "invalid_range", "message": "limit must be between 1 and 100."}],
}

# api.md §7.
ACTION_ITEM = {
    "object": "action_item",
    "id": "actitm_01KK97HSZ84ZQ2N6R8T0W3Y5A7",
    "engagement_id": "ngmt_01KK97DZX0JD0E5QKV2N8R4T6W",
    "title": "Send pricing proposal",
    "description": "Alice emails Jane the annual pricing options by Friday.",
    "assignee_user_id": "usr_local",
    "due_at": None,
    "created_at": "2026-03-09T12:01:05.000Z",
}
SIGNAL = {
    "object": "signal",
    "id": "sgnl_01KK97KSEG7A1C3E5G7J9K1M3N5P",
    "engagement_id": "ngmt_01KK97DZX0JD0E5QKV2N8R4T6W",
    "type": "pricing",
    "label": "Pricing question",
    "quote": "What would annual billing cost us?",
    "speaker_index": 1,
    "start_seconds": 142.5,
    "confidence": 0.87,
    "created_at": "2026-03-09T12:02:10.000Z",
}

# webhooks.md §5.1: the worked signing example.
WORKED_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
WORKED_OLD_SECRET = "whsec_GBkaGxwdHh8gISIjJCUmJygpKissLS4v"
WORKED_MSG_ID = "msg_01KK97FTG0TR4NSCR1PTRDY7QZ"
WORKED_TIMESTAMP = 1773057600
WORKED_BODY_SHA256 = "0f5a748f8cc8ddb04e3958997daa7698d716d6329464d6bf0069537b1139ee6f"
WORKED_BODY = (
    b'{"id":"evt_01KK97FTG0TR4NSCR1PTRDY7QZ","type":"v1.engagement.transcript_timeline.completed","api_version":"v1",'
    b'"created_at":"2026-03-09T12:00:00.000Z","workspace_id":"wrks_local","data":{"object":{"object":"engagement",'
    b'"id":"ngmt_01KK97DZX0B7WAVVC4XK2M9QHR","title":"WAVV call with Jane Doe","engagement_type":"CALL",'
    b'"processing_status":"PROCESSING","is_private":false,"created_at":"2026-03-09T11:59:00.000Z",'
    b'"updated_at":"2026-03-09T12:00:00.000Z","data_source":"API","is_internal":false,'
    b'"engagement_at":"2026-03-09T11:51:40.000Z","start_at":"2026-03-09T11:51:40.000Z",'
    b'"end_at":"2026-03-09T11:58:20.000Z","duration_seconds":400,"external_url":"wavv://call/12345",'
    b'"owner_user_id":"usr_local","host_user_id":"usr_local"},"previous_attributes":{}}}'
)
WORKED_SIGNATURE = "v1,ymuh+JQtbyR794Ed0uv+rbKfar/HppnuCeERR/QRyMw="
WORKED_RETRY_TIMESTAMP = 1773057605
WORKED_RETRY_SIGNATURE = "v1,IUxQ6dI+6jjSQBTB8utNRdCKZyYe++wIj0OSj3u1hx0="
WORKED_ROTATION_HEADER = (
    "v1,ymuh+JQtbyR794Ed0uv+rbKfar/HppnuCeERR/QRyMw= v1,uRUG2PjsW+ZdaOwQKqIu3H/QDWJWQ0GaM7UBzvJDgxE="
)

# Svix's published vector (svix python tests, quoted in webhooks.md §5.1).
SVIX_SECRET = "whsec_plJ3nmyCDGBKInavdOK15jsl"
SVIX_MSG_ID = "msg_loFOjxBNrRLzqYUf"
SVIX_TIMESTAMP = 1731705121
SVIX_BODY = b'{"event_type":"ping","data":{"success":true}}'
SVIX_SIGNATURE = "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0="
