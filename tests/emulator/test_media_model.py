"""Issue 20 §2: the offline media model makes the documented media 422s testable without a network.

Without --media-fetch nothing is fetched; the URL stands in for the media host (api.md §5.4): the last path
segment's extension decides the content type, and hosts under the reserved `.invalid` TLD (RFC 6761) are
unreachable. Pipeline rules still script the media outcome.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, frozen_settings, problem, seed_call


async def media_error(api: Api, media_url: str) -> tuple[int, str | None]:
    resp = await api.create(seed_call(external_id=f"m-{media_url}", media_url=media_url))
    if resp.status != 422:
        return resp.status, None
    body = await problem(resp, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["media_url"]
    return 422, body["errors"][0]["code"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/page.html",
        "https://example.com/files/report.PDF",
        "https://api.example.com/v1/call.json?download=1",
        "https://example.com/a.htm#t=3",
        "https://cdn.example.com/cover.png",
    ],
)
async def test_non_media_extensions_are_unsupported_media_type(api: Api, url: str) -> None:
    assert await media_error(api, url) == (422, "unsupported_media_type")


@pytest.mark.parametrize(
    "url", ["https://unreachable.invalid/call.mp3", "https://rec.cdn.INVALID./x.wav", "https://invalid/x.mp3"]
)
async def test_hosts_under_invalid_are_unreachable(api: Api, url: str) -> None:
    assert await media_error(api, url) == (422, "media_unreachable")


@pytest.mark.parametrize(
    "url",
    [
        "https://recordings.example.com/call-1.mp3",
        "https://recordings.example.com/call-1.WAV",
        "https://cdn.example.com/v/1.mp4",
        "https://signed.example.com/recordings/7f3a?X-Amz-Signature=abc",  # no extension: a signed link
        "https://example.com/media.html/stream",  # only the last segment counts
        "https://example.com/rec.opus",
    ],
)
async def test_media_and_extensionless_urls_are_accepted(api: Api, url: str) -> None:
    assert await media_error(api, url) == (201, None)


async def test_the_policy_runs_before_the_model_and_a_rejected_create_stores_nothing(api: Api) -> None:
    assert await media_error(api, "http://example.com/page.html") == (422, "insecure_scheme")
    assert await media_error(api, "https://10.0.0.1/page.html") == (422, "private_address")
    assert not api.emulator.store.workspace("wrks_local").engagements


async def test_a_replay_is_answered_before_the_media_check(api: Api) -> None:
    """Idempotency lookup first (api.md §5.1): a known external_id answers 200 whatever its media now says."""
    assert (await api.create(seed_call(external_id="same"))).status == 201
    replay = await api.create(seed_call(external_id="same", media_url="https://example.com/page.html"))
    assert replay.status == 200


async def test_pipeline_rules_still_script_the_media(api: Api) -> None:
    rules = [
        {"match": {"external_id": "ok-*"}, "media": "ok"},
        {"match": {"external_id": "down-*"}, "media": "unreachable"},
    ]
    for rule in rules:
        assert (await api.client.post("/__admin/pipeline-rules", json=rule)).status == 201
    ok = await api.create(seed_call(external_id="ok-1", media_url="https://example.com/page.html"))
    assert ok.status == 201
    down = await problem(await api.create(seed_call(external_id="down-1")), 422, "validation_failed")
    assert down["errors"][0]["code"] == "media_unreachable"


async def test_media_fetch_mode_fetches_instead(make_api: Any) -> None:
    """With --media-fetch the real answer decides; the model never runs (a .invalid host fails the DNS lookup)."""
    api: Api = await make_api(frozen_settings(media_fetch=True))
    resp = await api.create(seed_call(external_id="f-1", media_url="https://unreachable.invalid/a.wav"))
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["code"] == "media_unreachable"
    assert "offline media model" not in body["errors"][0]["message"]
