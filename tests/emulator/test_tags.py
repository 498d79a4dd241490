"""Tags (api.md §10), replacing an engagement's tags and contacts (§3.1), and transcript comments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Api, problem, seed_call


async def events(api: Api, type_: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await (await api.client.get(f"/__admin/events?type={type_}")).json())["data"]
    return data


async def new_tag(api: Api, name: str) -> dict[str, Any]:
    resp = await api.call("POST", "/api/v2/tags", json={"name": name})
    assert resp.status == 201, await resp.text()
    tag: dict[str, Any] = await resp.json()
    return tag


async def test_tag_crud_with_events(api: Api) -> None:
    demo = await new_tag(api, "Demo")
    assert demo["object"] == "tag" and demo["id"].startswith("tag_") and demo["name"] == "Demo"
    # The create-tag page's shape: hex_color / description string or null, auto_tagging_enabled boolean.
    assert set(demo) == {
        "object", "id", "name", "created_at", "updated_at", "hex_color", "description", "auto_tagging_enabled"
    }  # fmt: skip
    assert (demo["hex_color"], demo["description"], demo["auto_tagging_enabled"]) == (None, None, True)
    await api.advance(1)
    renamed = await (await api.call("PATCH", f"/api/v2/tags/{demo['id']}", json={"name": "Live demo"})).json()
    assert renamed["name"] == "Live demo" and renamed["updated_at"] > demo["updated_at"]
    same = await (await api.call("PATCH", f"/api/v2/tags/{demo['id']}", json={})).json()
    assert same == renamed
    listed = await (await api.call("GET", "/api/v2/tags")).json()
    assert listed["data"] == [renamed] and listed["has_more"] is False
    # Soft delete (delete-tag page): 200 with the confirmation, then gone from every read.
    resp = await api.call("DELETE", f"/api/v2/tags/{demo['id']}")
    assert resp.status == 200 and await resp.json() == {"id": demo["id"], "object": "tag", "deleted": True}
    assert (await (await api.call("GET", "/api/v2/tags")).json())["data"] == []
    await problem(await api.call("DELETE", f"/api/v2/tags/{demo['id']}"), 404, "not_found")
    await problem(await api.call("PATCH", f"/api/v2/tags/{demo['id']}", json={"name": "x"}), 404, "not_found")
    (created,) = await events(api, "v1.tag.created")
    (updated,) = await events(api, "v1.tag.updated")
    (deleted,) = await events(api, "v1.tag.deleted")
    assert created["data"]["object"] == demo
    assert updated["data"]["previous_attributes"] == {"name": "Demo", "updated_at": demo["updated_at"]}
    assert deleted["data"]["object"] == renamed
    # The name is free again once its tag is deleted.
    assert (await api.call("POST", "/api/v2/tags", json={"name": "live DEMO"})).status == 201


async def test_tag_create_takes_the_documented_fields(api: Api) -> None:
    sent = {"name": "Pricing", "description": "Price talk.", "hex_color": "#1e90FF", "auto_tagging_enabled": False}
    tag = await (await api.call("POST", "/api/v2/tags", json=sent)).json()
    assert {k: tag[k] for k in sent} == sent
    patched = await (
        await api.call("PATCH", f"/api/v2/tags/{tag['id']}", json={"hex_color": None, "auto_tagging_enabled": True})
    ).json()
    assert (patched["hex_color"], patched["auto_tagging_enabled"], patched["description"]) == (
        None,
        True,
        "Price talk.",
    )
    assert (await (await api.call("GET", "/api/v2/tags")).json())["data"] == [patched]


async def test_duplicate_tag_names_are_409(api: Api) -> None:
    """The create-tag page lists 409; what conflicts is not said: a live tag's name, any case (emulator choice)."""
    first = await new_tag(api, "Demo")
    body = await problem(await api.call("POST", "/api/v2/tags", json={"name": "demo"}), 409, "conflict")
    assert first["id"] in body["detail"]
    other = await new_tag(api, "Other")
    await problem(await api.call("PATCH", f"/api/v2/tags/{other['id']}", json={"name": "DEMO"}), 409, "conflict")
    assert (await api.call("PATCH", f"/api/v2/tags/{first['id']}", json={"name": "demo"})).status == 200  # own name


@pytest.mark.parametrize(
    ("method", "body", "field", "code"),
    [
        ("POST", {}, "name", "required"),
        ("POST", {"name": ""}, "name", "too_short"),
        ("POST", {"name": "x" * 256}, "name", "too_long"),
        ("POST", {"name": "ok", "hex_color": "red"}, "hex_color", "invalid_type"),
        ("POST", {"name": "ok", "description": ""}, "description", "too_short"),
        ("POST", {"name": "ok", "auto_tagging_enabled": "yes"}, "auto_tagging_enabled", "invalid_type"),
        ("POST", {"name": 7}, "name", "invalid_type"),
        ("PATCH", {"name": None}, "name", "invalid_type"),
        ("PATCH", {"name": "x" * 256}, "name", "too_long"),
        ("PATCH", {"auto_tagging_enabled": None}, "auto_tagging_enabled", "invalid_type"),
    ],
)
async def test_tag_field_rules(api: Api, method: str, body: dict[str, Any], field: str, code: str) -> None:
    tag = await new_tag(api, "Demo")
    path = "/api/v2/tags" if method == "POST" else f"/api/v2/tags/{tag['id']}"
    resp = await problem(await api.call(method, path, json=body), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in resp["errors"]] == [(field, code)]


async def test_tag_scopes_and_isolation(api: Api) -> None:
    tag = await new_tag(api, "Demo")
    reader = await api.new_key(["tags:read"])
    assert (await api.call("GET", "/api/v2/tags", key=reader)).status == 200
    for method, path in (
        ("POST", "/api/v2/tags"),
        ("PATCH", f"/api/v2/tags/{tag['id']}"),
        ("DELETE", f"/api/v2/tags/{tag['id']}"),
    ):
        body = await problem(await api.call(method, path, key=reader, json={"name": "x"}), 403, "forbidden")
        assert body["missing_scopes"] == ["tags:write"]
    writer = await api.new_key(["tags:write"])
    assert (await problem(await api.call("GET", "/api/v2/tags", key=writer), 403, "forbidden"))["missing_scopes"] == [
        "tags:read"
    ]
    other = await api.new_key(["tags:read", "tags:write"], workspace_id="wrks_other")
    assert (await (await api.call("GET", "/api/v2/tags", key=other)).json())["data"] == []
    await problem(await api.call("DELETE", f"/api/v2/tags/{tag['id']}", key=other), 404, "not_found")


async def test_replace_engagement_tags(api: Api) -> None:
    created = await (await api.create()).json()
    demo, risk = await new_tag(api, "Demo"), await new_tag(api, "Risk")
    path = f"/api/v2/engagements/{created['id']}/tags"
    await api.advance(1)
    resp = await api.call("PUT", path, json={"tag_ids": [risk["id"], demo["id"], risk["id"]]})
    assert resp.status == 200
    body = await resp.json()
    assert body["object"] == "engagement" and "tags" not in body and body["updated_at"] > created["updated_at"]
    expanded = await (await api.get(created["id"], expand="tags")).json()
    assert expanded["tags"] == [risk, demo]  # request order, repeats dropped
    (updated,) = await events(api, "v1.engagement.updated")
    assert updated["data"]["object"] == body
    assert updated["data"]["previous_attributes"] == {"updated_at": created["updated_at"]}
    # Same set again: no stored change, no event.
    assert (await api.call("PUT", path, json={"tag_ids": [risk["id"], demo["id"]]})).status == 200
    assert len(await events(api, "v1.engagement.updated")) == 1
    cleared = await api.call("PUT", path, json={"tag_ids": []})
    assert cleared.status == 200
    assert (await (await api.get(created["id"], expand="tags")).json())["tags"] == []


async def test_replacement_in_the_same_instant_still_emits(api: Api) -> None:
    """Regression: with a frozen clock nothing visible moves, yet the stored change must be announced."""
    created = await (await api.create()).json()
    tag = await new_tag(api, "Demo")
    resp = await api.call("PUT", f"/api/v2/engagements/{created['id']}/tags", json={"tag_ids": [tag["id"]]})
    assert (await resp.json())["updated_at"] == created["updated_at"]
    (updated,) = await events(api, "v1.engagement.updated")
    assert updated["data"]["previous_attributes"] == {}


async def test_unknown_and_foreign_tag_ids_are_422_per_item(api: Api) -> None:
    created = await (await api.create()).json()
    mine = await new_tag(api, "Demo")
    other = await api.new_key(["tags:write"], workspace_id="wrks_other")
    theirs = await (await api.call("POST", "/api/v2/tags", key=other, json={"name": "Theirs"})).json()
    path = f"/api/v2/engagements/{created['id']}/tags"
    resp = await api.call("PUT", path, json={"tag_ids": [mine["id"], "tag_nope", theirs["id"]]})
    body = await problem(resp, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("tag_ids[1]", "invalid_enum"),
        ("tag_ids[2]", "invalid_enum"),
    ]
    assert (await (await api.get(created["id"], expand="tags")).json())["tags"] == []  # nothing stored


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "tag_ids", "required"),
        ({"tag_ids": None}, "tag_ids", "invalid_type"),
        ({"tag_ids": "tag_1"}, "tag_ids", "invalid_type"),
        ({"tag_ids": [1]}, "tag_ids[0]", "invalid_type"),
        ({"tag_ids": [f"tag_{i}" for i in range(101)]}, "tag_ids", "too_long"),
    ],
)
async def test_replace_tags_field_rules_come_before_lookup(
    api: Api, body: dict[str, Any], field: str, code: str
) -> None:
    resp = await api.call("PUT", "/api/v2/engagements/ngmt_nope/tags", json=body)
    errors = (await problem(resp, 422, "validation_failed"))["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]


async def test_deleting_a_tag_detaches_it(api: Api) -> None:
    created = await (await api.create()).json()
    demo, risk = await new_tag(api, "Demo"), await new_tag(api, "Risk")
    await api.call("PUT", f"/api/v2/engagements/{created['id']}/tags", json={"tag_ids": [demo["id"], risk["id"]]})
    await api.advance(1)
    assert (await api.call("DELETE", f"/api/v2/tags/{demo['id']}")).status == 200
    assert (await (await api.get(created["id"], expand="tags")).json())["tags"] == [risk]
    assert len(await events(api, "v1.engagement.updated")) == 2
    path = f"/api/v2/engagements/{created['id']}/tags"
    body = await problem(await api.call("PUT", path, json={"tag_ids": [demo["id"]]}), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("tag_ids[0]", "invalid_enum")]  # deleted: unknown


async def test_replace_engagement_contacts_moves_companies_too(api: Api) -> None:
    company = await (
        await api.call("POST", "/api/v2/companies", json={"name": "Acme", "domains": [{"domain": "acme.example"}]})
    ).json()
    created = await (await api.create()).json()
    other = await (
        await api.create(external_id="c2", participants=[{"name": "Wile E", "email": "wile@acme.example"}])
    ).json()
    wile = (await (await api.get(other["id"], expand="contacts")).json())["contacts"][0]
    path = f"/api/v2/engagements/{created['id']}/contacts"
    resp = await api.call("PUT", path, json={"contact_ids": [wile["id"]]})
    assert resp.status == 200, await resp.text()
    body = await (await api.get(created["id"], expand="contacts,companies")).json()
    assert [c["id"] for c in body["contacts"]] == [wile["id"]]
    assert [c["id"] for c in body["companies"]] == [company["id"]]
    for flt, value in (("contact_ids", wile["id"]), ("company_ids", company["id"])):
        listed = await (await api.call("GET", f"/api/v2/engagements?filter[{flt}][eq]={value}")).json()
        assert {e["id"] for e in listed["data"]} == {created["id"], other["id"]}
    assert (await api.call("PUT", path, json={"contact_ids": []})).status == 200
    body = await (await api.get(created["id"], expand="contacts,companies")).json()
    assert body["contacts"] == [] and body["companies"] == []
    resp = await api.call("PUT", path, json={"contact_ids": ["cnt_nope"]})
    errors = (await problem(resp, 422, "validation_failed"))["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("contact_ids[0]", "invalid_enum")]


@pytest.mark.parametrize("what", ["tags", "contacts"])
async def test_replace_scopes_and_private_engagements(api: Api, what: str) -> None:
    """engagements:write; private ones also engagements:private:write, nothing more (api.md §3.1): without it, a
    caller who may view it gets 403, anyone else 404."""
    public = await (await api.create(external_id="pub")).json()
    private = await (await api.create(external_id="priv", is_private=True)).json()
    body: dict[str, list[str]] = {"tag_ids": []} if what == "tags" else {"contact_ids": []}

    async def put(engagement_id: str, key: str) -> Any:
        return await api.call("PUT", f"/api/v2/engagements/{engagement_id}/{what}", key=key, json=body)

    reader = await api.new_key(["engagements:read", "engagements:private:read"])
    assert (await problem(await put(public["id"], reader), 403, "forbidden"))["missing_scopes"] == ["engagements:write"]
    stranger = {"email": "stranger@example.com"}
    writer = await api.new_key(["engagements:write"], user=stranger)
    assert (await put(public["id"], writer)).status == 200
    await problem(await put(private["id"], writer), 404, "not_found")
    sees_private = await api.new_key(["engagements:write", "engagements:private:read"], user=stranger)
    forbidden = await problem(await put(private["id"], sees_private), 403, "forbidden")
    assert forbidden["missing_scopes"] == ["engagements:private:write"]
    owner = await api.new_key(["engagements:write"])  # the owner may view it, so is told what is missing
    owner_forbidden = await problem(await put(private["id"], owner), 403, "forbidden")
    assert owner_forbidden["missing_scopes"] == ["engagements:private:write"]
    write_only = await api.new_key(["engagements:write", "engagements:private:write"], user=stranger)
    assert (await put(private["id"], write_only)).status == 200  # no private:read needed (issue 20 §4)
    full = await api.new_key(["engagements:write", "engagements:private:read", "engagements:private:write"])
    assert (await put(private["id"], full)).status == 200
    other = await api.new_key(["engagements:write"], workspace_id="wrks_other")
    await problem(await put(public["id"], other), 404, "not_found")


async def test_transcript_comments(api: Api) -> None:
    """The create-transcript-comment page's shape; GET/PATCH/DELETE /v2/transcript_comments/{id} (scopes matrix)."""
    created = await (await api.create()).json()
    path = f"/api/v2/engagements/{created['id']}/transcript_comments"
    body = await problem(await api.call("POST", path, json={"body": "Great objection handling"}), 404, "not_found")
    assert "no transcript" in body["detail"]
    await api.advance(600)
    timeline = await (await api.call("GET", f"/api/v2/engagements/{created['id']}/transcript_timeline")).json()
    assert re.fullmatch(r"tt_[A-Za-z0-9]+", timeline["id"])
    resp = await api.call("POST", path, json={"body": "  Great objection handling \n", "anchor": {"entry_index": 3}})
    assert resp.status == 201
    comment = await resp.json()
    assert comment["object"] == "transcript_comment" and re.fullmatch(r"tano_[A-Za-z0-9]+", comment["id"])
    assert comment["engagement_id"] == created["id"] and comment["created_by"] == "usr_local"
    assert comment["body"] == "Great objection handling"  # trimmed server-side
    assert comment["transcript_timeline_id"] == timeline["id"]  # omitted → the primary timeline
    assert (comment["status"], comment["anchor"], comment["resolved_by"], comment["resolved_at"]) == (
        "open", {"entry_index": 3}, None, None,
    )  # fmt: skip
    explicit = await api.call("POST", path, json={"body": "x", "transcript_timeline_id": timeline["id"]})
    assert explicit.status == 201
    other = await problem(
        await api.call("POST", path, json={"body": "x", "transcript_timeline_id": "tt_1"}), 422, "validation_failed"
    )
    assert [(e["field"], e["code"]) for e in other["errors"]] == [("transcript_timeline_id", "invalid_enum")]
    state = await (await api.client.get("/__admin/state")).json()
    stored = next(w for w in state["workspaces"] if w["id"] == "wrks_local")["transcript_comments"]
    # newest first (issue 22: paged)
    assert [c["id"] for c in stored] == [(await explicit.json())["id"], comment["id"]]

    one = f"/api/v2/transcript_comments/{comment['id']}"
    assert await (await api.call("GET", one)).json() == comment
    await api.advance(5)
    resolved = await (await api.call("PATCH", one, json={"status": "resolved"})).json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "usr_local"
    assert resolved["resolved_at"] == resolved["updated_at"] > comment["updated_at"]
    reopened = await (await api.call("PATCH", one, json={"status": "open", "body": "Reworded"})).json()
    assert (reopened["status"], reopened["resolved_by"], reopened["resolved_at"], reopened["body"]) == (
        "open", None, None, "Reworded",
    )  # fmt: skip
    deleted = await api.call("DELETE", one)
    assert deleted.status == 200
    assert await deleted.json() == {"id": comment["id"], "object": "transcript_comment", "deleted": True}
    for method in ("GET", "PATCH", "DELETE"):
        await problem(await api.call(method, one, json={"body": "y"}), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, [("body", "required")]),
        ({"body": ""}, [("body", "too_short")]),
        ({"body": " \n\t "}, [("body", "too_short")]),  # whitespace-only after trimming (the page: 422)
        ({"body": "x" * 50_001}, [("body", "too_long")]),
        ({"body": "ok", "transcript_timeline_id": "ngmt_1"}, [("transcript_timeline_id", "invalid_type")]),
        ({"body": "ok", "anchor": "entry 3"}, [("anchor", "invalid_type")]),
        ({"body": "ok", "anchor": None}, [("anchor", "invalid_type")]),
    ],
)
async def test_transcript_comment_field_rules(api: Api, body: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    created = await (await api.create()).json()
    await api.advance(600)
    resp = await api.call("POST", f"/api/v2/engagements/{created['id']}/transcript_comments", json=body)
    assert [(e["field"], e["code"]) for e in (await problem(resp, 422, "validation_failed"))["errors"]] == errors


async def test_a_50000_character_comment_is_accepted(api: Api) -> None:
    created = await (await api.create()).json()
    await api.advance(600)
    resp = await api.call(
        "POST", f"/api/v2/engagements/{created['id']}/transcript_comments", json={"body": "x" * 50_000}
    )
    assert resp.status == 201, await resp.text()


async def test_transcript_comment_scopes_and_privacy(api: Api) -> None:
    private = await (await api.create(seed_call(external_id="p", is_private=True))).json()
    await api.advance(600)
    path = f"/api/v2/engagements/{private['id']}/transcript_comments"
    only_write = await api.new_key(["transcript_comments:write"])
    body = await problem(await api.call("POST", path, key=only_write, json={"body": "x"}), 403, "forbidden")
    assert body["missing_scopes"] == ["engagements:read"]
    no_private = await api.new_key(["transcript_comments:write", "engagements:read"], user={"email": "x@example.com"})
    await problem(await api.call("POST", path, key=no_private, json={"body": "x"}), 404, "not_found")
    with_private = await api.new_key(["transcript_comments:write", "engagements:read", "engagements:private:read"])
    resp = await api.call("POST", path, key=with_private, json={"body": "x"})
    assert resp.status == 201
    one = f"/api/v2/transcript_comments/{(await resp.json())['id']}"
    # Top-level routes: read needs transcript_comments:read (a scope the matrix names) + engagements:read.
    reader = await api.new_key(["transcript_comments:read", "engagements:read", "engagements:private:read"])
    assert (await api.call("GET", one, key=reader)).status == 200
    body = await problem(await api.call("PATCH", one, key=reader, json={"body": "y"}), 403, "forbidden")
    assert body["missing_scopes"] == ["transcript_comments:write"]
    body = await problem(await api.call("GET", one, key=with_private), 403, "forbidden")
    assert body["missing_scopes"] == ["transcript_comments:read"]
    stranger = await api.new_key(["transcript_comments:read", "engagements:read"], user={"email": "x@example.com"})
    await problem(await api.call("GET", one, key=stranger), 404, "not_found")  # the engagement is hidden from it
    other = await api.new_key(["transcript_comments:read", "engagements:read"], workspace_id="wrks_other")
    await problem(await api.call("GET", one, key=other), 404, "not_found")
