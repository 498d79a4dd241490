"""The directory routes the scopes matrix and reference pages name (issue 20): contacts and companies with their
engagements and CRM associations, the full tag shape with its 409 and soft delete, and transcript comments by id.
Writes outside `contract-test:` engagement creates are refused against the real API, so the write checks need
the emulator; the read of a contact's and a company's engagements runs against any target."""

from __future__ import annotations

from typing import Any

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import created, minimal_payload
from contract_tests.checks import Budget, CheckSkipped, api_check
from contract_tests.target import ApiClient, Target


def _first(target: Target, client: ApiClient, path: str) -> dict[str, Any] | None:
    resp = client.get(path, params={"limit": "1"})
    expect.status(resp, 200)
    data = expect.json_body(target, resp, "list_page")["data"]
    return data[0] if data else None


@api_check("reads")
def check_contact_and_company_engagements(target: Target, budget: Budget) -> None:
    """GET /v2/contacts/{id}/engagements and /v2/companies/{id}/engagements answer an engagement list (scopes
    matrix), each item related to that contact or company; an unknown id is 404."""
    client = target.api
    if target.is_emulator:  # a workspace of its own with a contact and a company, made by one call
        client = target.new_workspace().client
        domain = f"{target.run_id}.contract-co.example"
        expect.status(client.post("/v2/companies", {"name": "Contract Co", "domains": [{"domain": domain}]}), 201)
        participants = [{"name": "Contract Contact", "email": f"cc@{domain}"}]
        payload = minimal_payload(target, target.fresh_external_id(), participants=participants)
        created(target, client.create_engagement(payload))
    for kind, schema, prefix in (("contacts", "contact", "cnt_"), ("companies", "company", "cmp_")):
        record = _first(target, client, f"/v2/{kind}")
        if record is None:
            raise CheckSkipped(f"the workspace has no {kind} to read the engagements of")
        expect.matches_schema(target, schema, record, f"first of GET /v2/{kind}")
        resp = client.get(f"/v2/{kind}/{record['id']}/engagements", params={"limit": "5", "expand": kind})
        page = expect.json_body(target, resp, "engagement_list")
        expect.choice(target, bool(page["data"]), f"{resp.describe()}: the call made for it is not listed")
        for engagement in page["data"]:
            related = [r["id"] for r in engagement.get(kind, [])]
            assert record["id"] in related, f"{resp.describe()}: {engagement['id']} is not related to {record['id']}"
        expect.problem(target, client.get(f"/v2/{kind}/{prefix}contracttestnope/engagements"), 404)


@api_check("reads", needs_admin=True)
def check_contact_routes(target: Target, budget: Budget) -> None:
    """POST /v2/contacts → 201 contact (an email taken → 409), its engagements, DELETE …/crm_association → the
    contact without one, DELETE /v2/contacts/{id} → 200 confirmation, then 404."""
    client = target.new_workspace().client
    email = f"{target.fresh_external_id().replace(':', '-')}@contract-co.example"
    body = {
        "first_name": "Contract",
        "emails": [{"email": email}],
        "crm_association": {"object_type": "contact", "crm_object_id": "P-9", "source": "hubspot"},
    }
    contact = expect.json_body(target, client.post("/v2/contacts", body), "contact")
    assert contact["crm_association"] == body["crm_association"], f"crm_association not as sent: {contact}"
    expect.problem(target, client.post("/v2/contacts", {"emails": [{"email": email}]}), 409)
    engagement = created(
        target,
        client.create_engagement(
            minimal_payload(target, target.fresh_external_id(), participants=[{"name": "C", "email": email}])
        ),
    )
    page = expect.json_body(target, client.get(f"/v2/contacts/{contact['id']}/engagements"), "engagement_list")
    assert [e["id"] for e in page["data"]] == [engagement["id"]], f"contact engagements: {page['data']}"
    cleared = expect.json_body(
        target, client.request("DELETE", f"/v2/contacts/{contact['id']}/crm_association"), "contact"
    )
    assert "crm_association" not in cleared, f"the association is still there: {cleared}"
    resp = client.request("DELETE", f"/v2/contacts/{contact['id']}")
    expect.status(resp, 200)
    assert resp.json() == {"id": contact["id"], "object": "contact", "deleted": True}, resp.body[:300]
    expect.problem(target, client.get(f"/v2/contacts/{contact['id']}"), 404)


@api_check("reads", needs_admin=True)
def check_company_routes(target: Target, budget: Budget) -> None:
    """PATCH /v2/companies/{id} → the company; PUT/DELETE …/crm_association (all three fields required);
    DELETE /v2/companies/{id} → 200 confirmation, then 404."""
    client = target.new_workspace().client
    domain = f"{target.run_id}.contract-co.example"
    company = expect.json_body(
        target, client.post("/v2/companies", {"name": "Contract Co", "domains": [{"domain": domain}]}), "company"
    )
    path = f"/v2/companies/{company['id']}"
    patched = expect.json_body(target, client.request("PATCH", path, json_body={"description": "probe"}), "company")
    assert patched["description"] == "probe", f"PATCH description not applied: {patched}"
    association = {"object_type": "company", "crm_object_id": "C-9", "source": "hubspot"}
    with_crm = expect.json_body(
        target, client.request("PUT", f"{path}/crm_association", json_body=association), "company"
    )
    assert with_crm["crm_association"] == association, f"crm_association not as sent: {with_crm}"
    partial = {"object_type": "company", "crm_object_id": "C-9"}
    expect.problem(target, client.request("PUT", f"{path}/crm_association", json_body=partial), 422, field="source")
    cleared = expect.json_body(target, client.request("DELETE", f"{path}/crm_association"), "company")
    assert "crm_association" not in cleared, f"the association is still there: {cleared}"
    resp = client.request("DELETE", path)
    expect.status(resp, 200)
    assert resp.json() == {"id": company["id"], "object": "company", "deleted": True}, resp.body[:300]
    expect.problem(target, client.get(path), 404)


@api_check("reads", needs_admin=True)
def check_tag_shape_conflict_and_soft_delete(target: Target, budget: Budget) -> None:
    """POST /v2/tags returns the create-tag page's shape, a taken name → 409, DELETE → 200 `{id, object, deleted}`
    and the tag is gone from the list (delete-tag page)."""
    client = target.new_workspace().client
    sent = {"name": "Contract tag", "description": "probe", "hex_color": "#1E90FF", "auto_tagging_enabled": False}
    tag = expect.json_body(target, client.post("/v2/tags", sent), "tag")
    assert {k: tag[k] for k in sent} == sent, f"tag fields not as sent: {tag}"
    expect.problem(target, client.post("/v2/tags", {"name": "Contract tag"}), 409)
    resp = client.request("DELETE", f"/v2/tags/{tag['id']}")
    expect.status(resp, 200)
    assert resp.json() == {"id": tag["id"], "object": "tag", "deleted": True}, resp.body[:300]
    listed = expect.json_body(target, client.get("/v2/tags"), "list_page")["data"]
    assert tag["id"] not in [t["id"] for t in listed], "a deleted tag is still listed"


@api_check("pipeline", needs_admin=True)
def check_transcript_comment_routes(target: Target, budget: Budget) -> None:
    """A comment on the primary timeline (`body` trimmed, `tt_` timeline id), read, resolved and deleted through
    /v2/transcript_comments/{id}."""
    client = target.new_workspace().client
    engagement = created(target, client.create_engagement(minimal_payload(target, target.fresh_external_id())))
    target.advance(900)
    timeline = expect.json_body(
        target, client.get(f"/v2/engagements/{engagement['id']}/transcript_timeline"), "transcript_timeline"
    )
    resp = client.post(f"/v2/engagements/{engagement['id']}/transcript_comments", {"body": "  probe  "})
    expect.status(resp, 201)
    comment = expect.json_body(target, resp, "transcript_comment")
    assert comment["body"] == "probe", f"body not trimmed: {comment['body']!r}"
    assert comment["transcript_timeline_id"] == timeline["id"], f"not the primary timeline: {comment}"
    path = f"/v2/transcript_comments/{comment['id']}"
    assert expect.json_body(target, client.get(path), "transcript_comment") == comment, "GET differs from the 201"
    resolved = expect.json_body(
        target, client.request("PATCH", path, json_body={"status": "resolved"}), "transcript_comment"
    )
    assert resolved["resolved_by"] and resolved["resolved_at"], f"resolving recorded nobody: {resolved}"
    expect.status(client.request("DELETE", path), 200)
    expect.problem(target, client.get(path), 404)
