"""The contact and company routes the scopes matrix and reference pages name (issue 20, fidelity.md X01–X09):
create/delete a contact, clear a contact's or company's CRM association, update/delete a company, and the
engagements of a contact or a company."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, problem, seed_call

JANE = "jane@customer.com"  # a participant of the docs' dialer example (seed_call)


async def events(api: Api, type_: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await (await api.client.get(f"/__admin/events?type={type_}")).json())["data"]
    return data


async def customer(api: Api) -> dict[str, Any]:
    resp = await api.call(
        "POST", "/api/v2/companies", json={"name": "Customer", "domains": [{"domain": "customer.com"}]}
    )
    assert resp.status == 201, await resp.text()
    company: dict[str, Any] = await resp.json()
    return company


async def jane(api: Api) -> dict[str, Any]:
    page = await (await api.call("GET", "/api/v2/contacts?search=jane")).json()
    (contact,) = page["data"]
    assert contact["emails"][0]["email"] == JANE
    return dict(contact)


async def ids(resp: Any) -> list[str]:
    assert resp.status == 200, await resp.text()
    return [e["id"] for e in (await resp.json())["data"]]


async def test_create_contact(api: Api) -> None:
    company = await customer(api)
    sent = {
        "first_name": "Lena",
        "last_name": "Ortiz",
        "emails": [{"email": "Lena@Customer.com"}],
        "phone_numbers": [{"phone_number": "+14155550199"}],
        "company_id": company["id"],
        "crm_association": {"object_type": "contact", "crm_object_id": "00Q5e", "source": "salesforce"},
    }
    resp = await api.call("POST", "/api/v2/contacts", json=sent)
    assert resp.status == 201, await resp.text()
    lena = await resp.json()
    assert lena["object"] == "contact" and lena["id"].startswith("cnt_")
    assert (lena["first_name"], lena["last_name"], lena["company"]["id"]) == ("Lena", "Ortiz", company["id"])
    assert lena["emails"] == [{"email": "Lena@Customer.com", "is_primary": True}]  # none marked → the first
    assert lena["crm_association"] == sent["crm_association"]
    assert await (await api.call("GET", f"/api/v2/contacts/{lena['id']}")).json() == lena
    (created,) = await events(api, "v1.contact.created")
    assert created["data"]["object"] == lena
    # The contact is who an engagement's participant with that email resolves to.
    engagement = await (
        await api.create(external_id="c2", participants=[{"name": "L. Ortiz", "email": "lena@customer.com"}])
    ).json()
    assert await ids(await api.call("GET", f"/api/v2/contacts/{lena['id']}/engagements")) == [engagement["id"]]
    # An email another contact holds, any case → 409.
    body = await problem(
        await api.call("POST", "/api/v2/contacts", json={"emails": [{"email": "LENA@customer.com"}]}), 409, "conflict"
    )
    assert lena["id"] in body["detail"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, [("body", "required")]),
        ({"first_name": None}, [("first_name", "invalid_type")]),
        ({"first_name": ""}, [("first_name", "too_short")]),
        ({"emails": [{"email": "not an email"}]}, [("emails[0].email", "invalid_type")]),
        ({"first_name": "A", "company_id": "cmp_nope"}, [("company_id", "invalid_enum")]),
        (
            {"first_name": "A", "crm_association": {"object_type": "contact", "crm_object_id": "1"}},
            [("crm_association.source", "required")],
        ),
    ],
)
async def test_create_contact_field_rules(api: Api, body: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    resp = await problem(await api.call("POST", "/api/v2/contacts", json=body), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in resp["errors"]] == errors
    assert (await (await api.call("GET", "/api/v2/contacts")).json())["data"] == []  # nothing stored


async def test_delete_contact(api: Api) -> None:
    engagement = await (await api.create()).json()
    contact = await jane(api)
    await api.advance(1)
    resp = await api.call("DELETE", f"/api/v2/contacts/{contact['id']}")
    assert resp.status == 200
    assert await resp.json() == {"id": contact["id"], "object": "contact", "deleted": True}
    await problem(await api.call("GET", f"/api/v2/contacts/{contact['id']}"), 404, "not_found")
    await problem(await api.call("DELETE", f"/api/v2/contacts/{contact['id']}"), 404, "not_found")
    expanded = await (await api.get(engagement["id"], expand="contacts")).json()
    assert JANE not in [e["email"] for c in expanded["contacts"] for e in c["emails"]]  # let go of it
    (deleted,) = await events(api, "v1.contact.deleted")
    assert deleted["data"]["object"]["id"] == contact["id"]


async def test_clear_contact_crm_association(api: Api) -> None:
    await api.create()
    contact = await jane(api)
    path = f"/api/v2/contacts/{contact['id']}/crm_association"
    association = {"object_type": "contact", "crm_object_id": "67890", "source": "hubspot"}
    assert (await api.call("PUT", path, json=association)).status == 200
    resp = await api.call("DELETE", path)  # no body (clear-contact-crm-association page)
    assert resp.status == 200
    cleared = await resp.json()
    assert cleared["id"] == contact["id"] and "crm_association" not in cleared
    crm = {"filter[crm_associations][eq][0][id]": "67890", "filter[crm_associations][eq][0][object_type]": "contact"}
    listed = await api.call("GET", "/api/v2/engagements", params=crm)
    assert await ids(listed) == []  # the association no longer resolves
    updates = await events(api, "v1.contact.updated")
    assert updates[-1]["data"]["previous_attributes"]["crm_association"] == association
    await problem(await api.call("DELETE", "/api/v2/contacts/cnt_nope/crm_association"), 404, "not_found")


async def test_contact_engagements(api: Api) -> None:
    first = await (await api.create()).json()
    await api.create(external_id="other", participants=[{"name": "Bob", "email": "bob@elsewhere.example"}])
    await api.advance(1)
    second = await (await api.create(external_id="again", type="MEETING")).json()
    await api.advance(1)
    private = await (await api.create(external_id="private", is_private=True)).json()
    contact = await jane(api)
    path = f"/api/v2/contacts/{contact['id']}/engagements"
    # Newest first by default (updated_at:desc); the private call needs engagements:private:read.
    assert await ids(await api.call("GET", path)) == [private["id"], second["id"], first["id"]]
    stranger = await api.new_key(["engagements:read"], user={"email": "stranger@example.com"})
    assert await ids(await api.call("GET", path, key=stranger)) == [second["id"], first["id"]]
    assert await ids(await api.call("GET", path, params={"filter[engagement_type][eq]": "MEETING"})) == [second["id"]]
    page = await (await api.call("GET", path, params={"limit": 1, "order_by": "updated_at:asc"})).json()
    assert [e["id"] for e in page["data"]] == [first["id"]] and page["has_more"] is True
    rest = await api.call("GET", path, params={"limit": 5, "cursor": page["next_cursor"]})
    assert await ids(rest) == [second["id"], private["id"]]
    # The cursor belongs to this contact's list: another list's route refuses it.
    await problem(
        await api.call("GET", "/api/v2/engagements", params={"cursor": page["next_cursor"]}), 400, "invalid_request"
    )
    expanded = await (await api.call("GET", path, params={"expand": "contacts"})).json()
    assert all(contact["id"] in [c["id"] for c in e["contacts"]] for e in expanded["data"])
    no_contacts_read = await api.new_key(["engagements:read"])
    forbidden = await problem(
        await api.call("GET", path, key=no_contacts_read, params={"expand": "contacts"}), 403, "forbidden"
    )
    assert forbidden["missing_scopes"] == ["contacts:read"]
    await problem(await api.call("GET", "/api/v2/contacts/cnt_nope/engagements"), 404, "not_found")
    other = await api.new_key(["engagements:read"], workspace_id="wrks_other")
    await problem(await api.call("GET", path, key=other), 404, "not_found")


async def test_update_company(api: Api) -> None:
    company = await customer(api)
    taken = await (
        await api.call("POST", "/api/v2/companies", json={"name": "Other", "domains": [{"domain": "other.example"}]})
    ).json()
    path = f"/api/v2/companies/{company['id']}"
    await api.advance(1)
    resp = await api.call(
        "PATCH", path, json={"description": "Key account", "domains": [{"domain": "https://www.Customer.io/"}]}
    )
    assert resp.status == 200, await resp.text()
    patched = await resp.json()
    assert patched["description"] == "Key account" and patched["name"] == "Customer"
    assert [d["domain"] for d in patched["domains"]] == ["customer.io"]  # normalised, replaces the list
    assert patched["updated_at"] > company["updated_at"]
    assert await (await api.call("GET", path)).json() == patched
    (updated,) = await events(api, "v1.company.updated")
    assert updated["data"]["previous_attributes"] == {
        "description": None, "domains": company["domains"], "updated_at": company["updated_at"]
    }  # fmt: skip
    listed = await (await api.call("GET", "/api/v2/companies", params={"filter[domain][eq]": "customer.io"})).json()
    assert [c["id"] for c in listed["data"]] == [company["id"]]
    conflict = await problem(
        await api.call("PATCH", path, json={"domains": [{"domain": "other.example"}]}), 409, "conflict"
    )
    assert taken["id"] in conflict["detail"]
    body = await problem(await api.call("PATCH", path, json={"domains": []}), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("domains", "too_short")]
    await problem(await api.call("PATCH", "/api/v2/companies/cmp_nope", json={"name": "x"}), 404, "not_found")
    reader = await api.new_key(["companies:read"])
    forbidden = await problem(await api.call("PATCH", path, key=reader, json={"name": "x"}), 403, "forbidden")
    assert forbidden["missing_scopes"] == ["companies:write"]


async def test_delete_company(api: Api) -> None:
    company = await customer(api)
    engagement = await (await api.create()).json()
    contact = await jane(api)
    assert contact["company"]["id"] == company["id"]
    resp = await api.call("DELETE", f"/api/v2/companies/{company['id']}")
    assert resp.status == 200
    assert await resp.json() == {"id": company["id"], "object": "company", "deleted": True}
    await problem(await api.call("GET", f"/api/v2/companies/{company['id']}"), 404, "not_found")
    assert "company" not in await (await api.call("GET", f"/api/v2/contacts/{contact['id']}")).json()
    assert (await (await api.get(engagement["id"], expand="companies")).json())["companies"] == []
    (deleted,) = await events(api, "v1.company.deleted")
    assert deleted["data"]["object"]["id"] == company["id"]
    await problem(await api.call("DELETE", f"/api/v2/companies/{company['id']}"), 404, "not_found")


async def test_company_crm_association(api: Api) -> None:
    company = await customer(api)
    engagement = await (await api.create()).json()
    path = f"/api/v2/companies/{company['id']}/crm_association"
    association = {"object_type": "company", "crm_object_id": "12345", "source": "hubspot"}
    resp = await api.call("PUT", path, json=association)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["crm_association"] == association
    crm = {"filter[crm_associations][eq][0][id]": "12345", "filter[crm_associations][eq][0][object_type]": "company"}
    assert await ids(await api.call("GET", "/api/v2/engagements", params=crm)) == [engagement["id"]]
    body = await problem(
        await api.call("PUT", path, json={"object_type": "company", "crm_object_id": ""}), 422, "validation_failed"
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("crm_object_id", "too_short"), ("source", "required")]
    cleared = await api.call("DELETE", path)
    assert cleared.status == 200 and "crm_association" not in await cleared.json()
    assert await ids(await api.call("GET", "/api/v2/engagements", params=crm)) == []
    await problem(
        await api.call("PUT", "/api/v2/companies/cmp_nope/crm_association", json=association), 404, "not_found"
    )
    await problem(await api.call("DELETE", "/api/v2/companies/cmp_nope/crm_association"), 404, "not_found")


async def test_company_engagements(api: Api) -> None:
    company = await customer(api)
    first = await (await api.create()).json()
    await api.create(seed_call(external_id="other", participants=[{"name": "Bob", "email": "bob@elsewhere.example"}]))
    path = f"/api/v2/companies/{company['id']}/engagements"
    assert await ids(await api.call("GET", path)) == [first["id"]]
    expanded = await (await api.call("GET", path, params={"expand": "companies"})).json()
    assert [c["id"] for c in expanded["data"][0]["companies"]] == [company["id"]]
    await problem(await api.call("GET", "/api/v2/companies/cmp_nope/engagements"), 404, "not_found")
    only_companies = await api.new_key(["companies:read"])
    forbidden = await problem(await api.call("GET", path, key=only_companies), 403, "forbidden")
    assert forbidden["missing_scopes"] == ["engagements:read"]
