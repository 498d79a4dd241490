"""Reading engagements and its error model (api.md §2–§4, §6.1): auth, scopes, 404s, ETags, expand."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import created, get_engagement, minimal_payload
from contract_tests.checks import Budget, CheckSkipped, api_check, hypothesis_settings
from contract_tests.strategies.events import ulids
from contract_tests.strategies.queries import EXPANDS
from contract_tests.target import Target


@api_check("reads")
def check_unknown_engagement_is_404(target: Target, budget: Budget) -> None:
    """GET of an id that does not exist (well-formed or not) -> 404 problem+json."""
    ids = st.one_of(ulids().map(lambda u: "ngmt_" + u), st.from_regex(r"\A[A-Za-z0-9_]{1,40}\Z"))

    @given(engagement_id=ids)
    @hypothesis_settings(budget)
    def prop(engagement_id: str) -> None:
        resp = target.api.get(f"/v2/engagements/{engagement_id}")
        body = expect.problem(target, resp, 404)
        expect.choice(target, body["type"].endswith("/not_found"), f"{resp.describe()}: type {body['type']}")

    prop()


@api_check("reads")
def check_credentials_required(target: Target, budget: Budget) -> None:
    """No, malformed or unknown API key -> 401 problem+json with WWW-Authenticate, on reads and writes."""
    bad_keys = st.one_of(
        st.none(),
        st.sampled_from(["", "sk-apik_", "sk-apik_nope", "Bearer ", "Basic dXNlcjpwYXNz", "sk-apik_unknown.secret"]),
        st.from_regex(r"\Ask-apik_[A-Za-z0-9]{1,20}\.[A-Za-z0-9_-]{1,30}\Z"),
    )

    @given(key=bad_keys, write=st.booleans())
    @hypothesis_settings(budget)
    def prop(key: str | None, write: bool) -> None:
        headers = {} if key is None else {"Authorization": key}
        if write:
            spec = target.api.spec(
                "POST",
                "/v2/engagements",
                json_body=minimal_payload(target, target.fresh_external_id()),
                headers=headers,
                auth=False,
            )
        else:
            spec = target.api.spec("GET", "/v2/engagements", headers=headers, auth=False)
        resp = target.http.send(spec)
        expect.problem(target, resp, 401)
        assert "WWW-Authenticate" in resp.headers, f"{resp.describe()}: 401 without WWW-Authenticate (api.md §3)"

    prop()


@api_check("reads", needs_admin=True)
def check_scopes_enforced(target: Target, budget: Budget) -> None:
    """Without engagements:write no create (403); without engagements:read no list or get (403)."""
    workspace = target.new_workspace()
    reader = target.mint_client(workspace.workspace_id, ("engagements:read",))
    writer_only = target.mint_client(workspace.workspace_id, ("engagements:write",))
    payload = minimal_payload(target, target.fresh_external_id())
    denied = reader.create_engagement(payload)
    body = expect.problem(target, denied, 403)
    expect.choice(target, "engagements:write" in body["detail"], f"{denied.describe()}: detail does not name the scope")
    engagement = created(target, writer_only.create_engagement(payload))
    expect.problem(target, writer_only.get("/v2/engagements"), 403)
    expect.problem(target, writer_only.get(f"/v2/engagements/{engagement['id']}"), 403)
    get_engagement(target, reader, engagement["id"])


@api_check("reads", needs_admin=True)
def check_workspaces_are_isolated(target: Target, budget: Budget) -> None:
    """Another workspace's engagement is 404 and unlisted; the same external_id is independent there."""
    one, two = target.new_workspace(), target.new_workspace()
    external_id = target.fresh_external_id()
    mine = created(target, one.client.create_engagement(minimal_payload(target, external_id)))
    expect.problem(target, two.client.get(f"/v2/engagements/{mine['id']}"), 404)
    listed = two.client.get("/v2/engagements", params={"limit": "100"})
    expect.status(listed, 200)
    assert mine["id"] not in {e["id"] for e in listed.json()["data"]}, "a foreign engagement appears in another's list"
    theirs = created(target, two.client.create_engagement(minimal_payload(target, external_id)))
    assert theirs["id"] != mine["id"], "one external_id in two workspaces returned the same engagement"


@api_check("reads")
def check_expand_values(target: Target, budget: Budget) -> None:
    """Each documented expand adds its field to GET; an unknown one -> 422 naming expand (emulator choice)."""
    client = target.new_workspace().client if target.is_emulator else target.api
    if target.is_emulator:
        engagement_id = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))[
            "id"
        ]
    else:
        page = client.get("/v2/engagements", params={"limit": "1"})
        expect.status(page, 200)
        data = page.json()["data"]
        if not data:
            raise CheckSkipped("the workspace has no engagement to read")
        engagement_id = data[0]["id"]

    @given(names=st.lists(st.sampled_from(EXPANDS), min_size=1, max_size=4, unique=True), spaced=st.booleans())
    @hypothesis_settings(budget)
    def prop(names: list[str], spaced: bool) -> None:
        raw = (", " if spaced else ",").join(names)
        body = get_engagement(target, client, engagement_id, expand=raw)
        missing = [n for n in names if n not in body]
        assert not missing, f"expand={raw!r} did not add {missing}"

    prop()
    if target.is_emulator:
        bad = client.get(f"/v2/engagements/{engagement_id}", params={"expand": "action_items,nope"})
        expect.problem(target, bad, 422, field="expand", codes={"invalid_enum"})


@api_check("reads")
def check_etag_revalidation(target: Target, budget: Budget) -> None:
    """GET engagement carries an ETag; If-None-Match with it -> 304 without a body (emulator choice)."""
    client = target.new_workspace().client if target.is_emulator else target.api
    if not target.is_emulator:
        raise CheckSkipped("304 revalidation is an emulator choice")
    engagement_id = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))["id"]
    first = client.get(f"/v2/engagements/{engagement_id}")
    expect.status(first, 200)
    etag = first.headers.get("ETag", "")
    assert etag.startswith('W/"'), f'{first.describe()}: ETag {etag!r} is not weak W/"…"'
    again = client.get(f"/v2/engagements/{engagement_id}", headers={"If-None-Match": etag})
    if target.clock_is_frozen():
        expect.status(again, 304)
        assert again.body == b"", f"{again.describe()}: 304 with a body"
    else:
        expect.status(again, 200, 304)
    other = client.get(f"/v2/engagements/{engagement_id}", headers={"If-None-Match": 'W/"0000"'})
    expect.status(other, 200)


@api_check("reads")
def check_tolerated_requests_are_flagged(target: Target, budget: Budget) -> None:
    """``Bearer sk-apik_…`` (the docs: send the raw key) and query parameters a route does not read: the real API
    may refuse them (401 / 400) or ignore them; the emulator accepts them with a ``Warning: 299`` naming the
    problem (emulator choice)."""
    if target.api.api_key is None or not target.api.api_key.startswith("sk-apik_"):
        raise CheckSkipped("the target's credential is not an API key")
    bearer = target.http.send(
        target.api.spec("GET", "/v2/engagements", headers={"Authorization": f"Bearer {target.api.api_key}"})
    )
    expect.status(bearer, 200, 401)
    if bearer.status == 401:
        expect.problem(target, bearer, 401)
    expect.choice(target, bearer.status == 200, f"{bearer.describe()}: a Bearer API key is accepted by default")
    warning = " ".join(bearer.headers.getall("Warning", []))
    expect.choice(target, "Bearer" in warning, f"{bearer.describe()}: no Warning header about the Bearer prefix")
    for params, name in (({"limti": "1"}, "limti"), ({"expand[]": "action_items"}, "expand[]")):
        resp = target.api.get("/v2/engagements", params=params)
        expect.status(resp, 200, 400, 422)
        if resp.status != 200:
            expect.problem(target, resp, (400, 422))
        warning = " ".join(resp.headers.getall("Warning", []))
        expect.choice(
            target, resp.status == 200 and repr(name) in warning, f"{resp.describe()}: no Warning naming {name!r}"
        )
