"""Authentication, scopes and workspace isolation (api.md §3)."""

from __future__ import annotations

import pytest

from tests.conftest import DEFAULT_KEY, Api, frozen_settings, problem, seed_call


@pytest.mark.parametrize(
    "header",
    [None, "", "sk-apik_local.wrong", "sk-apik_nobody.fakeaskelephant", "sk-apik_local", "Basic abc", "Bearer unknown"],
)
async def test_bad_credentials_get_401_with_www_authenticate(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    resp = await api.call("GET", "/api/v2/engagements", key=None, headers=headers)
    await problem(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="askelephant"'


async def test_raw_key_and_bearer_key_are_both_accepted_by_default(api: Api) -> None:
    assert (await api.call("GET", "/api/v2/engagements")).status == 200
    resp = await api.call("GET", "/api/v2/engagements", key=f"bearer {DEFAULT_KEY}")
    assert resp.status == 200


async def test_strict_mode_rejects_bearer_api_keys_with_a_hint(make_api) -> None:
    api = await make_api(frozen_settings(strict=True))
    resp = await api.call("GET", "/api/v2/engagements", key=f"Bearer {DEFAULT_KEY}")
    body = await problem(resp, 401, "unauthorized")
    assert body["detail"] == "Send the raw API key without the Bearer prefix."
    assert (await api.call("GET", "/api/v2/engagements")).status == 200


async def test_missing_scope_is_403_naming_it(api: Api) -> None:
    reader = await api.new_key(["engagements:read"])
    resp = await api.create(key=reader)
    body = await problem(resp, 403, "forbidden")
    assert body["missing_scopes"] == ["engagements:write"]
    assert "engagements:write" in body["detail"]
    # Nothing was created by the refused request.
    listing = await (await api.call("GET", "/api/v2/engagements")).json()
    assert listing["data"] == []


async def test_scope_is_checked_before_the_body(api: Api) -> None:
    reader = await api.new_key(["engagements:read"])
    resp = await api.call(
        "POST", "/api/v2/engagements", key=reader, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    await problem(resp, 403, "forbidden")


async def test_unknown_route_beats_auth(api: Api) -> None:
    await problem(await api.call("GET", "/api/v2/nothing-here", key=None), 404, "not_found")
    resp = await api.call("DELETE", "/api/v2/engagements", key=None)
    await problem(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]


async def test_expand_scopes(api: Api) -> None:
    created = await (await api.create()).json()
    reader = await api.new_key(["engagements:read"])
    body = await problem(await api.get(created["id"], key=reader, expand="owner"), 403, "forbidden")
    assert body["missing_scopes"] == ["users:read"]
    resp = await api.get(created["id"], key=reader, expand="action_items,signals,transcript,media_url,tags")
    assert resp.status == 200
    owner_reader = await api.new_key(["engagements:read", "users:read"])
    expanded = await (await api.get(created["id"], key=owner_reader, expand="owner")).json()
    assert expanded["owner"]["id"] == "usr_local"


async def test_workspaces_are_isolated(api: Api) -> None:
    other = await api.new_key(["engagements:read", "engagements:write"], workspace_id="wrks_other")
    mine = await (await api.create()).json()
    # Same external_id in another workspace is a different engagement.
    resp = await api.create(key=other)
    assert resp.status == 201
    theirs = await resp.json()
    assert theirs["id"] != mine["id"]
    await problem(await api.get(mine["id"], key=other), 404, "not_found")
    listing = await (await api.call("GET", "/api/v2/engagements", key=other)).json()
    assert [e["id"] for e in listing["data"]] == [theirs["id"]]


async def test_private_engagements_are_hidden_without_private_read(api: Api) -> None:
    private = await (await api.create(external_id="p1", is_private=True)).json()
    public = await (await api.create(external_id="p2")).json()
    # Another user of the workspace (no participant): the owner would see it (issue 20 §4, test_private_access.py).
    reader = await api.new_key(["engagements:read", "transcript_timelines:read"], user={"email": "rd@example.com"})
    await problem(await api.get(private["id"], key=reader), 404, "not_found")
    listing = await (await api.call("GET", "/api/v2/engagements", key=reader)).json()
    assert [e["id"] for e in listing["data"]] == [public["id"]]
    await api.advance(600)
    resp = await api.call("GET", f"/api/v2/engagements/{private['id']}/transcript_timeline", key=reader)
    await problem(resp, 404, "not_found")
    private_reader = await api.new_key(["engagements:read", "engagements:private:read", "transcript_timelines:read"])
    assert (await api.get(private["id"], key=private_reader)).status == 200
    resp = await api.call("GET", f"/api/v2/engagements/{private['id']}/transcript_timeline", key=private_reader)
    assert resp.status == 200


async def test_private_timeline_needs_engagements_read_too(api: Api) -> None:
    private = await (await api.create(external_id="p1", is_private=True)).json()
    await api.advance(600)
    key = await api.new_key(["transcript_timelines:read", "engagements:private:read"])
    resp = await api.call("GET", f"/api/v2/engagements/{private['id']}/transcript_timeline", key=key)
    body = await problem(resp, 403, "forbidden")
    assert body["missing_scopes"] == ["engagements:read"]


async def test_admin_key_creation_validates_scopes_and_workspace(api: Api) -> None:
    resp = await api.client.post("/__admin/api-keys", json={"scopes": ["engagements:fly"]})
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == "scopes"
    resp = await api.client.post("/__admin/api-keys", json={"scopes": ["engagements:read"], "workspace_id": "nope"})
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == "workspace_id"


async def test_secret_comparison_uses_constant_time(monkeypatch) -> None:
    import hmac

    from fake_askelephant.core.store import Store

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    store = Store()
    assert store.authenticate_key("sk-apik_nobody.secret") is None
    assert calls, "unknown key ids must still run a constant-time comparison"


async def test_bodies_never_leak_into_other_workspaces_via_replay(api: Api) -> None:
    other = await api.new_key(["engagements:write", "engagements:read"], workspace_id="wrks_two")
    first = await api.create(seed_call(title="mine"))
    second = await api.create(seed_call(title="theirs"), key=other)
    assert (first.status, second.status) == (201, 201)
    assert (await second.json())["title"] == "theirs"


async def test_a_key_that_authenticated_is_refused_once_reset_drops_it(api: Api) -> None:
    """The auth middleware remembers the principal of each key presented (api/auth.py KeyPrincipals): a key dropped
    since must not keep working from that memory."""
    key = await api.new_key(["engagements:read"], workspace_id="wrks_two")
    assert (await api.call("GET", "/api/v2/engagements", key=key)).status == 200
    assert (await api.call("GET", "/api/v2/engagements", key=f"Bearer {key}")).status == 200
    await api.client.post("/__admin/reset?all=true")
    await problem(await api.call("GET", "/api/v2/engagements", key=key), 401, "unauthorized")
    await problem(await api.call("GET", "/api/v2/engagements", key=f"Bearer {key}"), 401, "unauthorized")
    assert (await api.call("GET", "/api/v2/engagements")).status == 200  # the default key, put back by the reset


def test_a_remembered_principal_follows_the_key_stored_under_its_id() -> None:
    from fake_askelephant.api.auth import KeyPrincipals
    from fake_askelephant.core.models import ApiKey
    from fake_askelephant.core.store import Store

    store = Store()
    store.add_api_key(ApiKey("k1", "secret", "wrks_local", "usr_1", frozenset({"engagements:read"})))
    principals = KeyPrincipals()
    first = principals.of(store, "sk-apik_k1.secret")
    assert first is not None and first.scopes == frozenset({"engagements:read"})
    assert principals.of(store, "sk-apik_k1.secret") is first  # remembered
    store.add_api_key(ApiKey("k1", "secret", "wrks_local", "usr_1", frozenset({"engagements:write"})))
    again = principals.of(store, "sk-apik_k1.secret")
    assert again is not None and again.scopes == frozenset({"engagements:write"})
    store.add_api_key(ApiKey("k1", "other", "wrks_local", "usr_1", frozenset({"engagements:write"})))
    assert principals.of(store, "sk-apik_k1.secret") is None
    assert principals.of(store, "sk-apik_k1.other") is not None
