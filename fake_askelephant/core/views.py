"""Resources as the REST API and webhook payloads show them (api.md §6.2, §7, §10). No HTTP here."""

from __future__ import annotations

import math
from typing import Any

from .clock import VirtualClock
from .models import (
    ActionItem,
    Company,
    Contact,
    CrmAssociation,
    Engagement,
    Signal,
    Tag,
    TranscriptComment,
    TranscriptTimeline,
    User,
)
from .timefmt import format_ms

DEFAULT_TIME_ZONE = "UTC"  # a user's time zone when none is known (emulator choice)


def _ts(ms: int | None) -> str | None:
    return None if ms is None else format_ms(ms)


def clock(c: VirtualClock) -> dict[str, Any]:
    """The control plane's view of the virtual clock (pipeline.md §7)."""
    return {"now": format_ms(c.now_ms()), "time_scale": c.time_scale}


def engagement(e: Engagement) -> dict[str, Any]:
    """The engagement without expansions; optional fields omitted when empty (api.md §6.2)."""
    created_at = format_ms(e.created_at)
    start_at = format_ms(e.start_at)  # often the creation instant too: each distinct time is formatted once
    out: dict[str, Any] = {
        "object": "engagement",
        "id": e.id,
        "title": e.title,
        "engagement_type": e.engagement_type,
        "processing_status": e.processing_status,
        "is_private": e.is_private,
        "created_at": created_at,
        "updated_at": created_at if e.updated_at == e.created_at else format_ms(e.updated_at),
        "data_source": "API",
        "is_internal": e.is_internal,
        "engagement_at": start_at,
        "start_at": start_at,
        "end_at": _ts(e.end_at),
        "duration_seconds": e.duration_seconds,
    }
    if e.external_url is not None:
        out["external_url"] = e.external_url
    if e.crm_association is not None:
        out["crm_association"] = crm_association(e.crm_association)
    out["owner_user_id"] = e.owner_user_id
    if e.host_user_id:
        out["host_user_id"] = e.host_user_id
    return out


def action_item(item: ActionItem) -> dict[str, Any]:
    return {
        "object": "action_item",
        "id": item.id,
        "engagement_id": item.engagement_id,
        "title": item.title,
        "description": item.description,
        "assignee_user_id": item.assignee_user_id,
        "due_at": _ts(item.due_at),
        "created_at": format_ms(item.created_at),
    }


def signal(s: Signal) -> dict[str, Any]:
    return {
        "object": "signal",
        "id": s.id,
        "engagement_id": s.engagement_id,
        "type": s.type,
        "label": s.label,
        "quote": s.quote,
        "speaker_index": s.speaker_index,
        "start_seconds": s.start_seconds,
        "confidence": s.confidence,
        "created_at": format_ms(s.created_at),
    }


def transcript_text(timeline: TranscriptTimeline) -> str:
    """`Name: text` per entry, one per line (api.md §6.2 `transcript`)."""
    names = {s.speaker_index: s.name for s in timeline.speakers}
    return "\n".join(f"{names.get(e.speaker_index, 'Speaker')}: {e.text}" for e in timeline.entries)


def overall_sentiment(timeline: TranscriptTimeline) -> float | None:
    """Mean of per-speaker mean entry sentiment, 3 decimals; null without data (api.md §6.4)."""
    per_speaker: dict[int, list[float]] = {}
    for entry in timeline.entries:
        if entry.sentiment is not None:
            per_speaker.setdefault(entry.speaker_index, []).append(entry.sentiment)
    if not per_speaker:
        return None
    # math.fsum, not sum: Python 3.12 made sum() of floats compensated, so the plain sum rounded a few calls'
    # figure differently on 3.11 than on 3.12+ (issue 23's golden test). fsum is exact on every version.
    means = [math.fsum(values) / len(values) for values in per_speaker.values()]
    return round(math.fsum(means) / len(means), 3)


def transcript_timeline(engagement_id: str, timeline: TranscriptTimeline) -> dict[str, Any]:
    return {
        "object": "transcript_timeline",
        "id": timeline_id(engagement_id),
        "engagement_id": engagement_id,
        "speakers": [
            {
                "speaker_index": s.speaker_index,
                "name": s.name,
                "email": s.email,
                "phone": s.phone,
                "is_owner": s.is_owner,
                "user_id": s.user_id,
            }
            for s in timeline.speakers
        ],
        "entries": [
            {
                "speaker_index": e.speaker_index,
                "start_seconds": e.start_seconds,
                "end_seconds": e.end_seconds,
                "text": e.text,
                "sentiment": e.sentiment,
            }
            for e in timeline.entries
        ],
        "overall_sentiment": overall_sentiment(timeline),
    }


def user(u: User) -> dict[str, Any]:
    return {
        "object": "user",
        "id": u.id,
        "role": u.role,
        "created_at": format_ms(u.created_at),
        "updated_at": format_ms(u.updated_at),
        "first_name": u.first_name,
        "last_name": u.last_name,
        "emails": [{"email": u.email, "is_primary": True}],
        # Documented as non-null string, string and datetime (api.md §10): unknown values get the documented type
        # (emulator choice, emulator-choices.md).
        "job_title": u.job_title or "",
        "time_zone": u.time_zone or DEFAULT_TIME_ZONE,
        "last_activity_at": format_ms(u.last_activity_at if u.last_activity_at is not None else u.created_at),
    }


def crm_association(a: CrmAssociation) -> dict[str, Any]:
    """As sent (emulator choice): `source` only when it was given."""
    out: dict[str, Any] = {"object_type": a.object_type, "crm_object_id": a.crm_object_id}
    if a.source is not None:
        out["source"] = a.source
    return out


def contact(c: Contact) -> dict[str, Any]:
    """api.md §10: description, company, crm_association, time_zone omitted when empty."""
    out: dict[str, Any] = {
        "object": "contact",
        "id": c.id,
        "created_at": format_ms(c.created_at),
        "updated_at": format_ms(c.updated_at),
        "first_name": c.first_name,
        "last_name": c.last_name,
        "emails": [{"email": e.email, "is_primary": e.is_primary} for e in c.emails],
        "phone_numbers": [{"phone_number": p.phone_number, "is_primary": p.is_primary} for p in c.phone_numbers],
    }
    if c.description:
        out["description"] = c.description
    if c.company_id:
        out["company"] = {"id": c.company_id, "object": "company"}
    if c.crm_association is not None:
        out["crm_association"] = crm_association(c.crm_association)
    if c.time_zone:
        out["time_zone"] = c.time_zone
    return out


def company(c: Company) -> dict[str, Any]:
    """api.md §10: the optional descriptive fields are omitted when empty."""
    out: dict[str, Any] = {
        "object": "company",
        "id": c.id,
        "created_at": format_ms(c.created_at),
        "updated_at": format_ms(c.updated_at),
        "name": c.name,
        "domains": [{"domain": d.domain, "is_primary": d.is_primary} for d in c.domains],
    }
    for name in ("description", "industry", "website", "number_of_employees", "logo_url"):
        value = getattr(c, name)
        if value is not None and value != "":
            out[name] = value
    if c.crm_association is not None:
        out["crm_association"] = crm_association(c.crm_association)
    return out


def engagement_company(c: Company) -> dict[str, Any]:
    """`expand=companies` item (api.md §6.2, fields: emulator choice)."""
    return {"object": "engagement_company", "id": c.id, "name": c.name}


def tag(t: Tag) -> dict[str, Any]:
    """The create-tag page's shape: hex_color and description string or null, auto_tagging_enabled boolean."""
    return {
        "object": "tag",
        "id": t.id,
        "name": t.name,
        "created_at": format_ms(t.created_at),
        "updated_at": format_ms(t.updated_at),
        "hex_color": t.hex_color,
        "description": t.description,
        "auto_tagging_enabled": t.auto_tagging_enabled,
    }


def transcript_comment(c: TranscriptComment) -> dict[str, Any]:
    """The create-transcript-comment page's shape (`object` and `status` values: emulator choice)."""
    return {
        "object": "transcript_comment",
        "id": c.id,
        "engagement_id": c.engagement_id,
        "transcript_timeline_id": c.transcript_timeline_id,
        "body": c.body,
        "status": c.status,
        "anchor": c.anchor,
        "created_by": c.created_by,
        "resolved_by": c.resolved_by,
        "resolved_at": _ts(c.resolved_at),
        "created_at": format_ms(c.created_at),
        "updated_at": format_ms(c.updated_at),
    }


def deleted(record_id: str, kind: str) -> dict[str, Any]:
    """The delete confirmation (delete-tag page: `tag_delete_response`), for every public delete."""
    return {"id": record_id, "object": kind, "deleted": True}


def timeline_id(engagement_id: str) -> str:
    """An engagement's primary transcript timeline (`tt_…`, the comment page): one per engagement here, so its id
    is the engagement's, re-prefixed (emulator choice)."""
    return "tt_" + engagement_id.removeprefix("ngmt_")
