"""Webhook event bodies (webhooks.md §1–§3) as Hypothesis strategies and as one fixed builder for the kit."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies.payloads import texts
from contract_tests.strategies.urls import safe_external_urls

ENGAGEMENT_EVENT_TYPES = (
    "v1.engagement.created",
    "v1.engagement.updated",
    "v1.engagement.deleted",
    "v1.engagement.transcript_timeline.completed",
)
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def iso_ms(moment: dt.datetime) -> str:
    """``2026-03-09T12:00:00.000Z`` (UTC, milliseconds), the emulator's timestamp form."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def random_ulid() -> str:
    """26 Crockford base32 characters; the suffix shape of every emulator id."""
    return "".join(secrets.choice(_ULID_ALPHABET) for _ in range(26))


def ulids() -> st.SearchStrategy[str]:
    return st.text(alphabet=_ULID_ALPHABET, min_size=26, max_size=26)


@st.composite
def engagement_objects(draw: st.DrawFn, *, status: str | None = None) -> dict[str, Any]:
    """An engagement as REST returns it without expansions (api.md §6.2)."""
    created = draw(
        st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC))
    )
    status = status or draw(st.sampled_from(["PENDING", "PROCESSING", "COMPLETED", "FAILED"]))
    duration = draw(st.integers(60, 1200))
    obj: dict[str, Any] = {
        "object": "engagement",
        "id": "ngmt_" + draw(ulids()),
        "title": draw(texts(1, 80)),
        "engagement_type": draw(st.sampled_from(["CALL", "MEETING"])),
        "processing_status": status,
        "is_private": draw(st.booleans()),
        "created_at": iso_ms(created),
        "updated_at": iso_ms(created + dt.timedelta(seconds=draw(st.integers(0, 600)))),
        "data_source": "API",
        "is_internal": draw(st.booleans()),
        "engagement_at": iso_ms(created),
        "start_at": iso_ms(created),
        "end_at": iso_ms(created + dt.timedelta(seconds=duration)),
        "duration_seconds": duration,
        "owner_user_id": "usr_local",
        "host_user_id": "usr_local",
    }
    if draw(st.booleans()):
        obj["external_url"] = draw(safe_external_urls())
    return obj


@st.composite
def webhook_events(draw: st.DrawFn, event_type: str | None = None) -> dict[str, Any]:
    """An engagement event envelope consistent with its type (status, previous_attributes)."""
    event_type = event_type or draw(st.sampled_from(ENGAGEMENT_EVENT_TYPES))
    status = {
        "v1.engagement.created": "PENDING",
        "v1.engagement.transcript_timeline.completed": "PROCESSING",
    }.get(event_type)
    obj = draw(engagement_objects(status=status))
    previous: dict[str, Any] = {}
    if event_type == "v1.engagement.updated":
        previous = {"updated_at": obj["created_at"]}
        if obj["processing_status"] == "PROCESSING":
            previous.update(processing_status="PENDING")
    return {
        "id": "evt_" + draw(ulids()),
        "type": event_type,
        "api_version": "v1",
        "created_at": obj["updated_at"],
        "workspace_id": "wrks_" + draw(st.from_regex(r"\A[A-Za-z0-9]{1,26}\Z")),
        "data": {"object": obj, "previous_attributes": previous},
    }


def transcript_event(now: dt.datetime, *, title: str = "WAVV call with Zoë Müller — 予定") -> dict[str, Any]:
    """A fresh ``v1.engagement.transcript_timeline.completed`` envelope with new ids, stamped ``now``."""
    ulid = random_ulid()
    started = now - dt.timedelta(minutes=8)
    obj = {
        "object": "engagement",
        "id": "ngmt_" + random_ulid(),
        "title": title,
        "engagement_type": "CALL",
        "processing_status": "PROCESSING",
        "is_private": False,
        "created_at": iso_ms(now - dt.timedelta(minutes=1)),
        "updated_at": iso_ms(now),
        "data_source": "API",
        "is_internal": False,
        "engagement_at": iso_ms(started),
        "start_at": iso_ms(started),
        "end_at": iso_ms(started + dt.timedelta(seconds=400)),
        "duration_seconds": 400,
        "external_url": "wavv://call/12345",
        "owner_user_id": "usr_local",
        "host_user_id": "usr_local",
    }
    return {
        "id": "evt_" + ulid,
        "type": "v1.engagement.transcript_timeline.completed",
        "api_version": "v1",
        "created_at": iso_ms(now),
        "workspace_id": "wrks_local",
        "data": {"object": obj, "previous_attributes": {}},
    }


def compact_body(event: dict[str, Any]) -> bytes:
    """The emulator's wire form: compact separators, UTF-8 unescaped (webhooks.md §2)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def spaced_body(event: dict[str, Any]) -> bytes:
    """Same event, other bytes: spaced separators. Valid JSON a re-serialising verifier reproduces wrongly."""
    return json.dumps(event, indent=1, ensure_ascii=False).encode("utf-8")
