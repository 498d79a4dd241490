"""Request-level rules around the create route (api.md §3–§5): bodies, routes, owners, privacy, page size."""

from __future__ import annotations

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import created, get_engagement, minimal_payload, walk
from contract_tests.checks import Budget, api_check
from contract_tests.target import ApiClient, Target


@api_check("reads")
def check_malformed_bodies_rejected(target: Target, budget: Budget) -> None:
    """Truncated JSON or a non-object body -> 400; a non-JSON Content-Type -> 415 (emulator choice)."""
    for raw in (b'{"type":', b"[]", b'"text"', b"null"):
        resp = target.api.request("POST", "/v2/engagements", body=raw, headers={"Content-Type": "application/json"})
        body = expect.problem(target, resp, 400)
        expect.choice(target, body["type"].endswith("/invalid_request"), f"{resp.describe()}: type {body['type']}")
    payload = minimal_payload(target, target.fresh_external_id())
    as_text = target.api.spec("POST", "/v2/engagements", json_body=payload, headers={"Content-Type": "text/plain"})
    resp = target.http.send(as_text)
    if target.is_emulator:
        expect.problem(target, resp, 415)
    else:
        expect.status(resp, 201, 200, 400, 415)


@api_check("reads")
def check_unknown_routes_and_methods(target: Target, budget: Budget) -> None:
    """An unknown path -> 404 problem+json; a wrong method on a known path -> 405 with Allow (emulator choice)."""
    expect.problem(target, target.api.get("/v2/no-such-resource"), 404)
    if target.is_emulator:
        resp = target.api.request("DELETE", "/v2/engagements")
        expect.problem(target, resp, 405)
        allowed = {m.strip() for m in resp.headers.get("Allow", "").split(",")}
        assert {"GET", "POST"} <= allowed, f"{resp.describe()}: Allow {resp.headers.get('Allow')!r}"


@api_check("lists", needs_admin=True)
def check_default_page_size_is_25(target: Target, budget: Budget) -> None:
    """Without ``limit`` a page holds 25 items (docs); the rest follow via the cursor."""
    workspace = target.new_workspace()
    for i in range(27):
        created(
            target,
            workspace.client.create_engagement(minimal_payload(target, target.fresh_external_id(), title=f"p{i}")),
        )
    resp = workspace.client.get("/v2/engagements")
    expect.status(resp, 200)
    page = expect.json_body(target, resp, "engagement_list")
    assert len(page["data"]) == 25 and page["has_more"], (
        f"{resp.describe()}: {len(page['data'])} items, has_more {page['has_more']}"
    )
    target.settle()
    assert len(walk(target, workspace.client, {})) == 27, "walking the default pages did not return all 27"


@api_check("reads", needs_admin=True)
def check_private_engagements_hidden(target: Target, budget: Budget) -> None:
    """A private engagement is visible to its participants (the owner, users among the participants) and to
    engagements:private:read; to anyone else 404 and unlisted. Replacing its tags needs engagements:write +
    engagements:private:write only (api.md §3.1)."""
    workspace = target.new_workspace()
    participant = "participant@contract-test.example.com"
    payload = minimal_payload(
        target, target.fresh_external_id(), is_private=True, participants=[{"name": "P", "email": participant}]
    )
    private = created(target, workspace.client.create_engagement(payload))
    public = created(target, workspace.client.create_engagement(minimal_payload(target, target.fresh_external_id())))
    assert private["is_private"] is True, "is_private: true was not stored"
    owner = target.mint_client(workspace.workspace_id, ("engagements:read",))  # the workspace owner owns both
    get_engagement(target, owner, private["id"])
    # The participant becomes a user after the fact: matching is by email at create, so mint it first next time.
    reader = target.mint_client(workspace.workspace_id, ("engagements:read",), "stranger@contract-test.example.com")
    expect.problem(target, reader.get(f"/v2/engagements/{private['id']}"), 404)
    listed = {e["id"] for e in walk(target, reader, {"limit": "100"})}
    assert listed == {public["id"]}, f"a reader without private:read lists {sorted(listed)}"
    private_reader = target.mint_client(workspace.workspace_id, ("engagements:read", "engagements:private:read"))
    get_engagement(target, private_reader, private["id"])
    assert {e["id"] for e in walk(target, private_reader, {"limit": "100"})} == {public["id"], private["id"]}
    member = target.mint_client(workspace.workspace_id, ("engagements:read",), participant)
    later = created(target, workspace.client.create_engagement({**payload, "external_id": target.fresh_external_id()}))
    get_engagement(target, member, later["id"])
    expect.problem(target, member.get(f"/v2/engagements/{private['id']}"), 404)  # not a user when it was created
    writer = target.mint_client(
        workspace.workspace_id, ("engagements:write", "engagements:private:write"), "ops@contract-test.example.com"
    )
    resp = writer.request("PUT", f"/v2/engagements/{private['id']}/tags", json_body={"tag_ids": []})
    expect.status(resp, 200)


@api_check("create", needs_admin=True)
def check_owner_resolution(target: Target, budget: Budget) -> None:
    """is_owner resolves to a workspace user by email, case-insensitively; unresolved -> the key's user."""
    workspace_id = f"wrks_ctown{target.run_id}{target.fresh_external_id()[-8:]}"
    holder = target.admin_json(
        "POST",
        "/api-keys",
        {
            "scopes": ["workspace:admin"],
            "workspace_id": workspace_id,
            "user": {"email": "holder@dialer.example.com", "first_name": "Key", "last_name": "Holder"},
        },
        expect=201,
    )
    agent = target.admin_json(
        "POST",
        "/api-keys",
        {
            "scopes": ["users:read"],
            "workspace_id": workspace_id,
            "user": {"email": "agent@dialer.example.com", "first_name": "Alice", "last_name": "Agent"},
        },
        expect=201,
    )
    client = ApiClient(target.http, target.base_url, holder["key"], real=False)
    owned = created(
        target,
        client.create_engagement(
            minimal_payload(
                target,
                target.fresh_external_id(),
                participants=[{"name": "Alice", "email": "AGENT@Dialer.Example.com", "is_owner": True}],
            )
        ),
    )
    assert owned["owner_user_id"] == agent["user_id"], (
        f"owner {owned['owner_user_id']}, want {agent['user_id']} (is_owner email matches a user, any case)"
    )
    expect.choice(target, owned.get("host_user_id") == agent["user_id"], "host_user_id is not the owner")
    expect.choice(target, owned["is_internal"] is True, "every participant is a user, yet is_internal is false")
    fallback = created(
        target,
        client.create_engagement(
            minimal_payload(
                target,
                target.fresh_external_id(),
                participants=[
                    {"name": "Jane", "email": "jane@customer.example.com", "is_owner": True},
                    {"name": "Bob", "phone": "+14155550100"},
                ],
            )
        ),
    )
    expect.choice(target, fallback["owner_user_id"] == holder["user_id"], "unresolved owner is not the key's user")
    expect.choice(target, fallback["is_internal"] is False, "external participants, yet is_internal is true")
