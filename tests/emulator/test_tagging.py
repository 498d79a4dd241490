"""Issue 20 §7: "tagging always runs" (create engagement) — the analysis applies workspace tags to every
processed call, deterministically from its content, announced by v1.engagement.updated."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, frozen_settings, seed_call


async def tags_of(api: Api, engagement_id: str) -> list[str]:
    body = await (await api.get(engagement_id, expand="tags,transcript")).json()
    return [t["name"] for t in body["tags"]]


async def make_tags(api: Api, *names: str) -> dict[str, str]:
    out = {}
    for name in names:
        out[name] = (await (await api.call("POST", "/api/v2/tags", json={"name": name})).json())["id"]
    return out


async def test_a_processed_call_carries_the_tags_its_content_names(api: Api) -> None:
    """N17: expand=tags stayed [] after COMPLETED, with 39 tags in the workspace."""
    await make_tags(api, "Pricing", "Security review", "Churn", "follow-up")
    eid = (await (await api.create(seed_call(run_workflows=False))).json())["id"]
    assert await tags_of(api, eid) == []
    await api.advance(600)
    body = await (await api.get(eid, expand="tags,transcript")).json()
    assert body["processing_status"] == "COMPLETED"
    named = [t["name"] for t in body["tags"]]
    text = body["transcript"].casefold()
    assert named and all(n.casefold() in text for n in named)
    assert "Churn" not in named or "churn" in text


async def test_without_a_named_tag_one_tag_stands_for_the_topic_deterministically(make_api: Any) -> None:
    async def run() -> list[str]:
        api: Api = await make_api(frozen_settings(seed=3))
        await make_tags(api, "Zebra", "Quokka")
        eid = (await (await api.create()).json())["id"]
        await api.advance(600)
        return await tags_of(api, eid)

    first = await run()
    assert len(first) == 1 and first[0] in ("Zebra", "Quokka")
    assert await run() == first


async def test_tagging_is_announced_and_keeps_tags_a_client_set(api: Api) -> None:
    ids = await make_tags(api, "Pricing", "Hand-picked")
    eid = (await (await api.create()).json())["id"]
    put = await api.call("PUT", f"/api/v2/engagements/{eid}/tags", json={"tag_ids": [ids["Hand-picked"]]})
    assert put.status == 200
    await api.advance(600)
    assert await tags_of(api, eid) == ["Hand-picked", "Pricing"]
    stage = [e for e in api.emulator.bus.log if e.type == "v1.engagement.updated"]
    assert any(e.created_at == api.emulator.pipeline.runs[eid].done_at["action_items"] for e in stage)


async def test_tags_with_auto_tagging_off_are_never_applied(api: Api) -> None:
    tag = (await (await api.call("POST", "/api/v2/tags", json={"name": "Pricing"})).json())["id"]
    api.emulator.store.workspace("wrks_local").directory.tags[tag].auto_tagging_enabled = False
    eid = (await (await api.create()).json())["id"]
    await api.advance(600)
    assert await tags_of(api, eid) == []


async def test_a_failed_transcription_applies_no_tags(api: Api) -> None:
    await make_tags(api, "Pricing")
    await api.client.post(
        "/__admin/pipeline-rules", json={"match": {"external_id": "*"}, "pipeline": {"transcription": "failed"}}
    )
    eid = (await (await api.create()).json())["id"]
    await api.advance(600)
    assert await tags_of(api, eid) == []
