"""Helpers shared by the API suites: where to write, minimal payloads, and comparing engagement bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from contract_tests.api_suites import expect
from contract_tests.http import HttpResponse
from contract_tests.target import ApiClient, Target

# Fields the pipeline moves on its own (pipeline.md §2); everything else is fixed at create.
PIPELINE_FIELDS = frozenset({"processing_status", "updated_at"})
STATUS_RANK = {"PENDING": 0, "PROCESSING": 1, "COMPLETED": 2, "FAILED": 2}


def writer(target: Target) -> ApiClient:
    """Where a check may create: a fresh workspace (emulator) or the key's own workspace (real API)."""
    return target.new_workspace().client if target.is_emulator else target.api


def minimal_payload(target: Target, external_id: str, **fields: Any) -> dict[str, Any]:
    """Smallest valid create: media_url (emulator) or a one-line transcript_timeline (real API)."""
    payload: dict[str, Any] = {
        "type": "CALL",
        "title": "contract probe",
        "source_system": "contract-test",
        "external_id": external_id,
    }
    if target.is_emulator:
        payload["media_url"] = "https://recordings.example.com/contract/probe.mp3"
    else:
        payload["transcript_timeline"] = {
            "speakers": [{"name": "Contract Test"}],
            "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": "contract test"}],
        }
    payload.update(fields)
    return payload


def stable_view(engagement: dict[str, Any]) -> dict[str, Any]:
    """The engagement minus the fields the pipeline may have moved since."""
    return {k: v for k, v in engagement.items() if k not in PIPELINE_FIELDS}


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_same_engagement(target: Target, before: dict[str, Any], after: dict[str, Any], what: str) -> None:
    """``after`` is ``before`` (identical when the clock is frozen) or a later pipeline state of it."""
    if target.clock_is_frozen():
        assert after == before, f"{what}: body differs from the stored engagement:\n  was {before}\n  now {after}"
        return
    assert stable_view(after) == stable_view(before), (
        f"{what}: fixed fields changed:\n  was {stable_view(before)}\n  now {stable_view(after)}"
    )
    assert_not_regressed(before, after, what)


def assert_not_regressed(before: dict[str, Any], after: dict[str, Any], what: str) -> None:
    """Status never moves back and ``updated_at`` never decreases (pipeline.md §2)."""
    b, a = before["processing_status"], after["processing_status"]
    assert STATUS_RANK[a] >= STATUS_RANK[b] and not (b in ("COMPLETED", "FAILED") and a != b), (
        f"{what}: processing_status went {b} -> {a}"
    )
    assert parse_time(after["updated_at"]) >= parse_time(before["updated_at"]), (
        f"{what}: updated_at went back {before['updated_at']} -> {after['updated_at']}"
    )


def created(target: Target, resp: HttpResponse) -> dict[str, Any]:
    """Assert a 201 create (body, ``Location``) and return the engagement."""
    expect.status(resp, 201)
    body: dict[str, Any] = expect.json_body(target, resp, "engagement")
    want = f"/api/v2/engagements/{body['id']}"
    location = resp.headers.get("Location")
    expect.choice(target, location == want, f"{resp.describe()}: Location {location!r}, want {want}")
    return body


def get_engagement(target: Target, client: ApiClient, engagement_id: str, expand: str | None = None) -> dict[str, Any]:
    """GET one engagement, asserting 200 + schema (+ ETag, docs)."""
    resp = client.get(f"/v2/engagements/{engagement_id}", params={"expand": expand} if expand else None)
    expect.status(resp, 200)
    body: dict[str, Any] = expect.json_body(target, resp, "engagement")
    assert "ETag" in resp.headers, f"{resp.describe()}: no ETag on GET engagement (api.md §2)"
    assert body["id"] == engagement_id, f"{resp.describe()}: returned id {body['id']}"
    return body


def walk(
    target: Target,
    client: ApiClient,
    params: dict[str, str],
    *,
    max_pages: int = 200,
    must_finish: bool = True,
) -> list[dict[str, Any]]:
    """Follow ``next_cursor`` to the end (or ``max_pages``), asserting each page; return the items."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    limit = int(params.get("limit", "25"))
    for page_no in range(max_pages):
        query = dict(params) if cursor is None else {**params, "cursor": cursor}
        resp = client.get("/v2/engagements", params=query)
        expect.status(resp, 200)
        page = expect.json_body(target, resp, "engagement_list")
        assert "ETag" not in resp.headers or not target.is_emulator, (
            f"{resp.describe()}: lists carry no ETag (api.md §8)"
        )
        assert len(page["data"]) <= limit, f"{resp.describe()}: {len(page['data'])} items > limit {limit}"
        items.extend(page["data"])
        if not page["has_more"]:
            expect.choice(
                target,
                bool(page["data"]) or page_no == 0,
                f"{resp.describe()}: trailing empty page; the last item's page must say has_more false",
            )
            return items
        expect.choice(target, bool(page["data"]), f"{resp.describe()}: empty page with has_more true (page {page_no})")
        cursor = page["next_cursor"]
    if must_finish:
        raise AssertionError(f"list walk did not end within {max_pages} pages")
    return items
