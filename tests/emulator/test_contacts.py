"""Contacts (api.md §10): participants become contacts (§5), list/get/PATCH/CRM association, events."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, problem, seed_call


async def events(api: Api, type_: str | None = None) -> list[dict[str, Any]]:
    query = f"?type={type_}" if type_ else ""
    body = await (await api.client.get(f"/__admin/events{query}")).json()
    data: list[dict[str, Any]] = body["data"]
    return data


async def contacts(api: Api, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
    kwargs = {"key": key} if key else {}
    resp = await api.call("GET", "/api/v2/contacts?" + urlencode(params), **kwargs)
    assert resp.status == 200, await resp.text()
    page = await resp.json()
    assert page["object"] == "list" and page["has_more"] is (page["next_cursor"] is not None)
    data: list[dict[str, Any]] = page["data"]
    return data


async def add_company(api: Api, domain: str, name: str = "Customer Inc") -> dict[str, Any]:
    resp = await api.call("POST", "/api/v2/companies", json={"name": name, "domains": [{"domain": domain}]})
    assert resp.status == 201, await resp.text()
    company: dict[str, Any] = await resp.json()
    return company


async def test_participants_become_contacts_announced_before_the_engagement(api: Api) -> None:
    created = await (await api.create()).json()
    found = await contacts(api, order_by="updated_at:asc")
    alice, jane = sorted(found, key=lambda c: c["first_name"])
    assert (alice["first_name"], alice["last_name"]) == ("Alice", "Smith")
    assert alice["emails"] == [{"email": "alice@example.com", "is_primary": True}]
    assert alice["phone_numbers"] == []
    assert jane["phone_numbers"] == [{"phone_number": "+14155550100", "is_primary": True}]
    for omitted in ("description", "company", "crm_association", "time_zone"):
        assert omitted not in jane
    log = await events(api)
    assert [e["type"] for e in log] == ["v1.contact.created", "v1.contact.created", "v1.engagement.created"]
    assert {e["data"]["object"]["id"] for e in log[:2]} == {alice["id"], jane["id"]}
    assert all(e["data"]["previous_attributes"] == {} for e in log)
    expanded = await (await api.get(created["id"], expand="contacts")).json()
    assert [c["id"] for c in expanded["contacts"]] == [alice["id"], jane["id"]]
    assert expanded["contacts"][1] == jane


async def test_participants_match_existing_contacts_by_email_then_phone(api: Api) -> None:
    await api.create()
    before = {c["id"] for c in await contacts(api)}
    second = await api.create(
        external_id="call-2",
        participants=[
            {"name": "A. Smith", "email": "ALICE@example.COM"},  # Alice, in other case
            {"name": "Office line", "phone": "+14155550100"},  # Jane, by phone
            {"name": "Bob", "email": "bob@elsewhere.com", "phone": "+14155550111"},  # nobody: created
        ],
    )
    linked = (await (await api.get((await second.json())["id"], expand="contacts")).json())["contacts"]
    assert [c["id"] in before for c in linked] == [True, True, False]
    assert [c["first_name"] for c in linked] == ["Alice", "Jane", "Bob"]
    assert linked[2]["last_name"] is None
    # Email wins over phone: Alice's email with Jane's phone is Alice; an unknown email falls back to phone.
    third = await api.create(
        external_id="call-3",
        participants=[
            {"name": "X", "email": "alice@example.com", "phone": "+14155550100"},
            {"name": "Y", "email": "new@elsewhere.com", "phone": "+14155550111"},
        ],
    )
    linked = (await (await api.get((await third.json())["id"], expand="contacts")).json())["contacts"]
    assert [c["first_name"] for c in linked] == ["Alice", "Bob"]
    assert len(await contacts(api)) == 3
    assert [e["type"] for e in await events(api, "v1.contact.created")] == ["v1.contact.created"] * 3


async def test_users_are_not_contacts_and_repeats_link_once(api: Api) -> None:
    resp = await api.create(
        participants=[
            {"name": "Local Owner", "email": "owner@example.com", "is_owner": True},
            {"name": "Jane", "email": "jane@customer.com"},
            {"name": "Jane again", "email": "jane@customer.com"},
        ]
    )
    body = await (await api.get((await resp.json())["id"], expand="contacts")).json()
    assert [c["emails"][0]["email"] for c in body["contacts"]] == ["jane@customer.com"]
    assert body["is_internal"] is False


async def test_replays_and_rejected_creates_make_no_contacts(api: Api) -> None:
    await api.create()
    await api.create(title="replay")
    bad = await api.create(external_id="x", media_url="http://insecure.example.com/a.mp3")
    await problem(bad, 422, "validation_failed")
    assert len(await contacts(api)) == 2


async def test_contacts_take_the_company_holding_their_email_domain(api: Api) -> None:
    company = await add_company(api, "customer.com")
    created = await (await api.create()).json()
    jane = next(c for c in await contacts(api) if c["first_name"] == "Jane")
    assert jane["company"] == {"id": company["id"], "object": "company"}
    alice = next(c for c in await contacts(api) if c["first_name"] == "Alice")
    assert "company" not in alice  # example.com is nobody's domain
    body = await (await api.get(created["id"], expand="companies")).json()
    assert body["companies"] == [{"object": "engagement_company", "id": company["id"], "name": "Customer Inc"}]


async def test_list_search_order_and_updated_at_filters(api: Api) -> None:
    await api.create(participants=[{"name": "Jane Doe", "email": "jane@customer.com"}])
    await api.advance(5)
    await api.create(external_id="c2", participants=[{"name": "Zed Zulu", "email": "zed@other.io"}])
    names = [c["first_name"] for c in await contacts(api)]
    assert names == ["Zed", "Jane"]  # updated_at:desc by default
    assert [c["first_name"] for c in await contacts(api, search="DOE")] == ["Jane"]
    assert [c["first_name"] for c in await contacts(api, search="other.IO")] == ["Zed"]
    assert [c["first_name"] for c in await contacts(api, search="nobody")] == []
    zed = (await contacts(api, search="zed"))[0]
    assert [c["first_name"] for c in await contacts(api, **{"filter[updated_at][gte]": zed["updated_at"]})] == ["Zed"]
    assert await contacts(api, **{"filter[updated_at][gt]": zed["updated_at"]}) == []
    assert [c["first_name"] for c in await contacts(api, **{"filter[updated_at][lt]": zed["updated_at"]})] == ["Jane"]


async def test_list_pages_with_cursors(api: Api) -> None:
    people = [{"name": f"P{i}", "email": f"p{i}@x.example"} for i in range(7)]
    await api.create(participants=people)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await (await api.call("GET", "/api/v2/contacts?" + urlencode(params))).json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7
    body = await problem(await api.call("GET", "/api/v2/contacts?limit=0"), 422, "validation_failed")
    assert body["errors"][0] == {
        "field": "limit",
        "code": "invalid_range",
        "message": "limit must be between 1 and 100.",
    }
    await problem(await api.call("GET", "/api/v2/contacts?cursor=nope"), 400, "invalid_request")


async def test_get_with_etag_and_404s(api: Api) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    resp = await api.call("GET", f"/api/v2/contacts/{jane['id']}")
    assert resp.status == 200 and await resp.json() == jane
    etag = resp.headers["ETag"]
    again = await api.call("GET", f"/api/v2/contacts/{jane['id']}", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json={"time_zone": "Europe/Paris"})
    changed = await api.call("GET", f"/api/v2/contacts/{jane['id']}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    await problem(await api.call("GET", "/api/v2/contacts/cnt_nope"), 404, "not_found")
    other = await api.new_key(["contacts:read"], workspace_id="wrks_other")
    await problem(await api.call("GET", f"/api/v2/contacts/{jane['id']}", key=other), 404, "not_found")
    assert await contacts(api, key=other) == []


async def test_scopes(api: Api) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    nothing = await api.new_key(["engagements:read"])
    body = await problem(await api.call("GET", "/api/v2/contacts", key=nothing), 403, "forbidden")
    assert body["missing_scopes"] == ["contacts:read"]
    reader = await api.new_key(["contacts:read"])
    resp = await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", key=reader, json={"first_name": "J"})
    assert (await problem(resp, 403, "forbidden"))["missing_scopes"] == ["contacts:write"]
    resp = await api.call("PUT", f"/api/v2/contacts/{jane['id']}/crm_association", key=reader, json={})
    assert (await problem(resp, 403, "forbidden"))["missing_scopes"] == ["contacts:write"]
    writer = await api.new_key(["contacts:write"])
    resp = await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", key=writer, json={"first_name": "J"})
    assert resp.status == 200


async def test_patch_updates_every_documented_field_and_emits_a_diff(api: Api) -> None:
    company = await add_company(api, "acme.example", "Acme")
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    await api.advance(1)
    patch = {
        "first_name": "Janet",
        "last_name": "Doe-Smith",
        "description": "Decision maker",
        "time_zone": "America/New_York",
        "company_id": company["id"],
        "emails": [{"email": "janet@acme.example"}, {"email": "jane@customer.com", "is_primary": True}],
        "phone_numbers": [{"phone_number": "+14155550199"}],
    }
    resp = await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json=patch)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["first_name"] == "Janet" and body["last_name"] == "Doe-Smith"
    assert body["description"] == "Decision maker" and body["time_zone"] == "America/New_York"
    assert body["company"] == {"id": company["id"], "object": "company"}
    assert body["emails"] == [
        {"email": "janet@acme.example", "is_primary": False},
        {"email": "jane@customer.com", "is_primary": True},
    ]
    assert body["phone_numbers"] == [{"phone_number": "+14155550199", "is_primary": True}]  # first → primary
    assert body["updated_at"] > jane["updated_at"] and body["created_at"] == jane["created_at"]
    (event,) = await events(api, "v1.contact.updated")
    assert event["data"]["object"] == body
    previous = event["data"]["previous_attributes"]
    assert previous["first_name"] == "Jane" and previous["updated_at"] == jane["updated_at"]
    assert previous["description"] is None and previous["company"] is None  # omitted before → null
    assert set(previous) == {*patch, "updated_at", "company"} - {"company_id"}
    # The new email finds the contact when it next takes part in a call.
    again = await api.create(external_id="c2", participants=[{"name": "J", "email": "JANET@acme.example"}])
    linked = (await (await api.get((await again.json())["id"], expand="contacts")).json())["contacts"]
    assert [c["id"] for c in linked] == [jane["id"]]


async def test_patch_null_clears_and_empty_patch_changes_nothing(api: Api) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    await api.advance(1)
    same = await (await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json={})).json()
    assert same == jane
    unchanged = await (await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json={"first_name": "Jane"})).json()
    assert unchanged == jane
    assert await events(api, "v1.contact.updated") == []
    cleared = await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json={"first_name": None, "phone_numbers": []})
    body = await cleared.json()
    assert body["first_name"] is None and body["phone_numbers"] == []
    # The cleared phone no longer finds her.
    second = await api.create(external_id="c2", participants=[{"name": "Caller", "phone": "+14155550100"}])
    linked = (await (await api.get((await second.json())["id"], expand="contacts")).json())["contacts"]
    assert linked[0]["id"] != jane["id"]


@pytest.mark.parametrize(
    ("patch", "field", "code"),
    [
        ({"first_name": ""}, "first_name", "too_short"),
        ({"last_name": "x" * 256}, "last_name", "too_long"),
        ({"description": "x" * 2001}, "description", "too_long"),
        ({"time_zone": 5}, "time_zone", "invalid_type"),
        ({"company_id": 12}, "company_id", "invalid_type"),
        ({"emails": None}, "emails", "invalid_type"),
        ({"emails": [{"email": "no-at-sign"}]}, "emails[0].email", "invalid_type"),
        (
            {"emails": [{"email": "a@x.io", "is_primary": True}, {"email": "b@x.io", "is_primary": True}]},
            "emails",
            "invalid_range",
        ),
        ({"emails": [{"email": "a@x.io"}, {"email": "A@X.io"}]}, "emails", "invalid_type"),
        ({"emails": [{"email": f"e{i}@x.io"} for i in range(21)]}, "emails", "too_long"),
        ({"phone_numbers": [{"phone_number": ""}]}, "phone_numbers[0].phone_number", "too_short"),
        ({"phone_numbers": [{}]}, "phone_numbers[0].phone_number", "required"),
    ],
)
async def test_patch_field_rules(api: Api, patch: dict[str, Any], field: str, code: str) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    body = await problem(
        await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json=patch), 422, "validation_failed"
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]


async def test_patch_order_404_then_unknown_company_then_conflict(api: Api) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    await problem(await api.call("PATCH", "/api/v2/contacts/cnt_nope", json={"company_id": "cmp_x"}), 404, "not_found")
    body = await problem(
        await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json={"company_id": "cmp_nope"}),
        422,
        "validation_failed",
    )
    assert body["errors"] == [
        {
            "field": "company_id",
            "code": "invalid_enum",
            "message": "company_id 'cmp_nope' is not a company in this workspace.",
        }
    ]
    taken = {"emails": [{"email": "Alice@Example.com"}]}  # Alice's, in other case
    body = await problem(await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json=taken), 409, "conflict")
    assert "Alice@Example.com" in body["detail"]
    assert "errors" not in body
    # Nothing changed; keeping her own email is no conflict.
    own = {"emails": [{"email": "JANE@customer.com"}]}
    assert (await api.call("PATCH", f"/api/v2/contacts/{jane['id']}", json=own)).status == 200


async def test_patch_body_syntax(api: Api) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    path = f"/api/v2/contacts/{jane['id']}"
    await problem(
        await api.call("PATCH", path, data=b"{", headers={"Content-Type": "application/json"}), 400, "invalid_request"
    )
    await problem(
        await api.call("PATCH", path, data=b"a=b", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_content_type",
    )
    await problem(await api.call("POST", path, json={}), 405, "method_not_allowed")


async def test_crm_association_is_replaced_returned_as_sent_and_filterable(api: Api) -> None:
    await api.create()
    jane, alice = (await contacts(api, search="jane"))[0], (await contacts(api, search="alice"))[0]
    path = f"/api/v2/contacts/{jane['id']}/crm_association"
    first = await api.call(
        "PUT", path, json={"object_type": "contact", "crm_object_id": "003A1", "source": "salesforce"}
    )
    assert (await first.json())["crm_association"] == {
        "object_type": "contact",
        "crm_object_id": "003A1",
        "source": "salesforce",
    }
    replacement = {"object_type": "Contact", "crm_object_id": "77", "source": "hubspot"}
    second = await (await api.call("PUT", path, json=replacement)).json()
    assert second["crm_association"] == replacement  # single, replaced
    updates = await events(api, "v1.contact.updated")
    assert (
        len(updates) == 2 and updates[1]["data"]["previous_attributes"]["crm_association"]["crm_object_id"] == "003A1"
    )
    flt = "filter[crm_associations][eq][0]"
    found = await contacts(api, **{f"{flt}[id]": "77", f"{flt}[object_type]": "contact"})
    assert [c["id"] for c in found] == [jane["id"]]
    assert await contacts(api, **{f"{flt}[id]": "003A1", f"{flt}[object_type]": "contact"}) == []
    assert alice["id"] not in {c["id"] for c in found}
    resp = await api.call("GET", "/api/v2/contacts?" + urlencode({f"{flt}[id]": "1", f"{flt}[object_type]": "company"}))
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == f"{flt}[object_type]" and body["errors"][0]["code"] == "invalid_enum"


async def test_crm_association_rules(api: Api) -> None:
    await api.create()
    jane = (await contacts(api, search="jane"))[0]
    path = f"/api/v2/contacts/{jane['id']}/crm_association"
    body = await problem(await api.call("PUT", path, json={"object_type": ""}), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("object_type", "too_short"),
        ("crm_object_id", "required"),
        ("source", "required"),  # all three required (set-company-crm-association page; fidelity.md K09)
    ]
    long = {"object_type": "contact", "crm_object_id": "1", "source": "s" * 255}
    assert (await api.call("PUT", path, json=long)).status == 200  # 1–255 (K09: was ≤ 100)
    body = await problem(await api.call("PUT", path, json={**long, "source": "s" * 256}), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("source", "too_long")]
    body = await problem(
        await api.call("PUT", path, json={"object_type": "contact", "crm_object_id": 5, "source": None}),
        422,
        "validation_failed",
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("crm_object_id", "invalid_type"),
        ("source", "invalid_type"),
    ]
    resp = await api.call(
        "PUT",
        "/api/v2/contacts/cnt_nope/crm_association",
        json={"object_type": "contact", "crm_object_id": "1", "source": "hubspot"},
    )
    await problem(resp, 404, "not_found")


async def test_admin_delete_unlinks_and_emits(api: Api) -> None:
    created = await (await api.create()).json()
    jane = (await contacts(api, search="jane"))[0]
    await api.advance(1)
    assert (await api.client.delete(f"/__admin/contacts/{jane['id']}")).status == 204
    await problem(await api.call("GET", f"/api/v2/contacts/{jane['id']}"), 404, "not_found")
    body = await (await api.get(created["id"], expand="contacts")).json()
    assert [c["first_name"] for c in body["contacts"]] == ["Alice"]
    (deleted,) = await events(api, "v1.contact.deleted")
    assert deleted["data"]["object"] == jane and deleted["data"]["previous_attributes"] == {}
    updated = await events(api, "v1.engagement.updated")
    assert [e["data"]["object"]["id"] for e in updated] == [created["id"]]
    await problem(await api.client.delete(f"/__admin/contacts/{jane['id']}"), 404, "not_found")
    # Her email is free again: a new call makes a new contact.
    again = await api.create(external_id="c2", participants=[{"name": "Jane Doe", "email": "jane@customer.com"}])
    linked = (await (await api.get((await again.json())["id"], expand="contacts")).json())["contacts"]
    assert linked[0]["id"] != jane["id"]


async def test_participant_contacts_use_seed_call_shape(api: Api) -> None:
    """Regression guard for the docs' example: two contacts, no companies, owner stays the key's user."""
    body = await (await api.create(seed_call())).json()
    assert body["owner_user_id"] == "usr_local"
    assert len(await contacts(api)) == 2
