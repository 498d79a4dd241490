"""Companies (api.md §10): create with normalised unique domains, list filters, get, events, admin delete."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, problem


async def create(api: Api, body: dict[str, Any], key: str | None = None) -> Any:
    kwargs = {"key": key} if key else {}
    return await api.call("POST", "/api/v2/companies", json=body, **kwargs)


async def companies(api: Api, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
    kwargs = {"key": key} if key else {}
    resp = await api.call("GET", "/api/v2/companies?" + urlencode(params), **kwargs)
    assert resp.status == 200, await resp.text()
    data: list[dict[str, Any]] = (await resp.json())["data"]
    return data


async def test_create_normalises_domains_and_emits_created(api: Api) -> None:
    resp = await create(
        api,
        {
            "name": "Acme",
            "description": "Anvils",
            "domains": [{"domain": "https://www.Acme.com./pricing"}, {"domain": "acme.co.uk", "is_primary": True}],
            "industry": "ignored: not a create field",
        },
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["object"] == "company" and body["id"].startswith("cmp_")
    assert body["name"] == "Acme" and body["description"] == "Anvils"
    assert body["domains"] == [
        {"domain": "acme.com", "is_primary": False},
        {"domain": "acme.co.uk", "is_primary": True},
    ]
    for omitted in ("industry", "website", "number_of_employees", "logo_url", "crm_association"):
        assert omitted not in body
    assert body["created_at"] == body["updated_at"]
    log = (await (await api.client.get("/__admin/events?type=v1.company.created")).json())["data"]
    assert [e["data"]["object"] for e in log] == [body]
    got = await api.call("GET", f"/api/v2/companies/{body['id']}")
    assert got.status == 200 and await got.json() == body and got.headers["ETag"]


async def test_first_domain_is_primary_when_none_is_marked(api: Api) -> None:
    body = await (await create(api, {"domains": [{"domain": "a.example"}, {"domain": "b.example"}]})).json()
    assert [d["is_primary"] for d in body["domains"]] == [True, False]
    assert body["name"] is None


async def test_duplicate_domain_is_409_across_spellings(api: Api) -> None:
    first = await (await create(api, {"name": "Acme", "domains": [{"domain": "acme.com"}]})).json()
    for spelling in ("ACME.com", "http://www.acme.com/", "acme.com."):
        resp = await create(api, {"name": "Copycat", "domains": [{"domain": "new.example"}, {"domain": spelling}]})
        body = await problem(resp, 409, "conflict")
        assert first["id"] in body["detail"] and "acme.com" in body["detail"]
    # The rejected creates stored nothing, not even their free domain.
    assert [c["id"] for c in await companies(api)] == [first["id"]]
    assert (await create(api, {"domains": [{"domain": "new.example"}]})).status == 201
    other = await api.new_key(["companies:write"], workspace_id="wrks_other")
    assert (await create(api, {"domains": [{"domain": "acme.com"}]}, key=other)).status == 201  # per workspace


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, [("domains", "required")]),
        ({"domains": []}, [("domains", "too_short")]),
        ({"domains": ["acme.com"]}, [("domains[0]", "invalid_type")]),
        ({"domains": [{"domain": "localhost"}]}, [("domains[0].domain", "invalid_type")]),
        ({"domains": [{"domain": "not a domain.com"}]}, [("domains[0].domain", "invalid_type")]),
        ({"domains": [{"domain": "acme.com"}, {"domain": "WWW.ACME.COM"}]}, [("domains", "invalid_type")]),
        (
            {"domains": [{"domain": "a.io", "is_primary": True}, {"domain": "b.io", "is_primary": True}]},
            [("domains", "invalid_range")],
        ),
        ({"domains": [{"domain": f"d{i}.io"} for i in range(21)]}, [("domains", "too_long")]),
        (
            {"name": "", "description": "x" * 2001, "domains": [{"domain": "a.io"}]},
            [("name", "too_short"), ("description", "too_long")],
        ),
        ({"name": None, "domains": [{"domain": "a.io"}]}, [("name", "invalid_type")]),
    ],
)
async def test_create_field_rules(api: Api, body: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    resp = await problem(await create(api, body), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in resp["errors"]] == errors
    assert await companies(api) == []


async def test_list_search_domain_filter_and_updated_at(api: Api) -> None:
    acme = await (await create(api, {"name": "Acme Corp", "domains": [{"domain": "acme.com"}]})).json()
    await api.advance(2)
    globex = await (await create(api, {"name": "Globex", "domains": [{"domain": "globex.example"}]})).json()
    assert [c["id"] for c in await companies(api)] == [globex["id"], acme["id"]]
    assert [c["id"] for c in await companies(api, search="acme")] == [acme["id"]]
    assert await companies(api, search="acme.com") == []  # search is on the name only (api.md §8)
    for spelling in ("acme.com", "https://WWW.Acme.com/about"):
        assert [c["id"] for c in await companies(api, **{"filter[domain][eq]": spelling})] == [acme["id"]]
    assert await companies(api, **{"filter[domain][eq]": "other.com"}) == []
    resp = await api.call("GET", "/api/v2/companies?" + urlencode({"filter[domain][eq]": "nope"}))
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == "filter[domain][eq]" and body["errors"][0]["code"] == "invalid_type"
    resp = await api.call("GET", "/api/v2/companies?" + urlencode({"filter[domain][in]": "acme.com"}))
    assert (await problem(resp, 422, "validation_failed"))["errors"][0]["code"] == "invalid_enum"
    newer = await companies(api, **{"filter[updated_at][gt]": acme["updated_at"]})
    assert [c["id"] for c in newer] == [globex["id"]]


async def test_crm_filter_matches_stored_company_associations_only(api: Api) -> None:
    resp = await api.client.post(
        "/__admin/fixtures",
        json={
            "companies": [
                {
                    "name": "Acme",
                    "domains": [{"domain": "acme.com"}],
                    "crm_association": {"object_type": "company", "crm_object_id": "12345", "source": "hubspot"},
                },
                {"name": "Globex", "domains": [{"domain": "globex.com"}]},
            ]
        },
    )
    assert resp.status == 200, await resp.text()
    entries = [{"id": "12345", "object_type": "company"}, {"id": "9", "object_type": "company"}]
    found = await companies(api, **{"filter[crm_associations][eq]": json.dumps(entries)})
    assert [c["name"] for c in found] == ["Acme"]
    assert found[0]["crm_association"] == {"object_type": "company", "crm_object_id": "12345", "source": "hubspot"}
    resp = await api.call(
        "GET", "/api/v2/companies?" + urlencode({"filter[crm_associations][eq]": '[{"id":"1","object_type":"deal"}]'})
    )
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == "filter[crm_associations][eq][0][object_type]"


async def test_get_404_scopes_and_isolation(api: Api) -> None:
    acme = await (await create(api, {"domains": [{"domain": "acme.com"}]})).json()
    await problem(await api.call("GET", "/api/v2/companies/cmp_nope"), 404, "not_found")
    other = await api.new_key(["companies:read"], workspace_id="wrks_other")
    await problem(await api.call("GET", f"/api/v2/companies/{acme['id']}", key=other), 404, "not_found")
    assert await companies(api, key=other) == []
    reader = await api.new_key(["companies:read"])
    resp = await create(api, {"domains": [{"domain": "x.io"}]}, key=reader)
    assert (await problem(resp, 403, "forbidden"))["missing_scopes"] == ["companies:write"]
    writer = await api.new_key(["companies:write"])
    resp = await api.call("GET", "/api/v2/companies", key=writer)
    assert (await problem(resp, 403, "forbidden"))["missing_scopes"] == ["companies:read"]


async def test_engagement_companies_follow_participant_domains(api: Api) -> None:
    customer = await (await create(api, {"name": "Customer", "domains": [{"domain": "customer.com"}]})).json()
    created = await (await api.create()).json()
    body = await (await api.get(created["id"], expand="companies,contacts")).json()
    assert body["companies"] == [{"object": "engagement_company", "id": customer["id"], "name": "Customer"}]
    jane = next(c for c in body["contacts"] if c["first_name"] == "Jane")
    assert jane["company"]["id"] == customer["id"]
    listed = await (
        await api.call("GET", "/api/v2/engagements?" + urlencode({"filter[company_ids][eq]": customer["id"]}))
    ).json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    reader = await api.new_key(["engagements:read"])
    resp = await api.get(created["id"], key=reader, expand="companies")
    assert (await problem(resp, 403, "forbidden"))["missing_scopes"] == ["companies:read"]


async def test_admin_delete_releases_contacts_and_engagements(api: Api) -> None:
    customer = await (await create(api, {"name": "Customer", "domains": [{"domain": "customer.com"}]})).json()
    created = await (await api.create()).json()
    await api.advance(1)
    assert (await api.client.delete(f"/__admin/companies/{customer['id']}")).status == 204
    body = await (await api.get(created["id"], expand="companies,contacts")).json()
    assert body["companies"] == []
    assert all("company" not in c for c in body["contacts"])
    types = [e["type"] for e in (await (await api.client.get("/__admin/events")).json())["data"]]
    assert types[-3:] == ["v1.contact.updated", "v1.engagement.updated", "v1.company.deleted"]
    assert (await create(api, {"domains": [{"domain": "customer.com"}]})).status == 201  # domain free again
    await problem(await api.client.delete(f"/__admin/companies/{customer['id']}"), 404, "not_found")
