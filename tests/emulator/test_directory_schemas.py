"""Shapes of the §10 resources and their webhook events, judged by the contract's JSON Schemas (written
independently from api.md/webhooks.md), and delivered through the webhook sink with valid signatures."""

from __future__ import annotations

import json
from typing import Any

from contract_tests.schemas import validator
from tests.conftest import Api
from tests.webhooks.test_delivery import add_endpoint, sink_requests


def assert_valid(schema: str, instance: Any) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(schema).iter_errors(instance)]
    assert errors == [], f"{schema}: {errors}"


async def test_resources_and_expansions_match_the_contract_schemas(api: Api) -> None:
    await api.client.post(
        "/__admin/fixtures",
        json={
            "companies": [
                {
                    "name": "Customer",
                    "domains": [{"domain": "customer.com"}],
                    "industry": "Software",
                    "website": "https://customer.com",
                    "number_of_employees": 50,
                    "crm_association": {"object_type": "company", "crm_object_id": "1", "source": "hubspot"},
                }
            ]
        },
    )
    created = await (await api.create()).json()
    tag = await (await api.call("POST", "/api/v2/tags", json={"name": "Demo"})).json()
    await api.call("PUT", f"/api/v2/engagements/{created['id']}/tags", json={"tag_ids": [tag["id"]]})
    await api.advance(600)
    comment = await (
        await api.call(
            "POST",
            f"/api/v2/engagements/{created['id']}/transcript_comments",
            json={"body": "x", "anchor": {"entry_index": 0}},
        )
    ).json()
    full = await (await api.get(created["id"], expand="companies,contacts,owner,tags")).json()
    assert full["companies"] and full["contacts"] and full["tags"] and full["owner"]
    jane = next(c for c in full["contacts"] if c["first_name"] == "Jane")
    await api.call(
        "PUT",
        f"/api/v2/contacts/{jane['id']}/crm_association",
        json={"object_type": "contact", "crm_object_id": "9", "source": "hubspot"},
    )
    assert_valid("engagement", full)
    assert_valid("tag", tag)
    assert_valid("transcript_comment", comment)
    for path, schema in (("contacts", "contact"), ("companies", "company"), ("users", "user"), ("tags", "tag")):
        page = await (await api.call("GET", f"/api/v2/{path}")).json()
        assert_valid("list_page", page)
        assert page["data"]
        for item in page["data"]:
            assert_valid(schema, item)


async def test_directory_events_are_delivered_signed_and_match_their_schemas(api: Api) -> None:
    await add_endpoint(
        api,
        "http://x/__admin/sink/crm",
        event_types=[f"v1.{r}.{v}" for r in ("contact", "company", "tag") for v in ("created", "updated", "deleted")],
    )
    company = await (await api.call("POST", "/api/v2/companies", json={"domains": [{"domain": "customer.com"}]})).json()
    await api.create()
    contacts = (await (await api.call("GET", "/api/v2/contacts")).json())["data"]
    tag = await (await api.call("POST", "/api/v2/tags", json={"name": "Demo"})).json()
    await api.advance(1)
    await api.call("PATCH", f"/api/v2/contacts/{contacts[0]['id']}", json={"description": "VIP"})
    await api.call("PATCH", f"/api/v2/tags/{tag['id']}", json={"name": "Live demo"})
    await api.call("DELETE", f"/api/v2/tags/{tag['id']}")
    await api.client.delete(f"/__admin/companies/{company['id']}")
    await api.advance(1)
    received = await sink_requests(api, "crm")
    assert all(r["verified"] for r in received)
    bodies = [json.loads(r["body"]) for r in received]
    types = [b["type"] for b in bodies]
    assert types[:4] == ["v1.company.created", "v1.contact.created", "v1.contact.created", "v1.tag.created"]
    assert types[4:] == [
        "v1.contact.updated",
        "v1.tag.updated",
        "v1.tag.deleted",
        "v1.contact.updated",
        "v1.company.deleted",
    ]
    for body in bodies:
        assert_valid("event_" + body["type"].removeprefix("v1.").replace(".", "_"), body)
    assert bodies[4]["data"]["previous_attributes"] == {"description": None, "updated_at": contacts[0]["updated_at"]}
