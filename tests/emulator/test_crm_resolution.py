"""Issue 20 §5: `filter[crm_associations]` on engagements resolves through the workspace's CRM state — the
associations stored on its contacts and companies, and an engagement's own (seed data / admin) — with the
documented buckets: OR within a bucket, AND across, unresolved entries never erase direct ids."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Api, problem


def crm(*entries: tuple[str, str]) -> str:
    return json.dumps([{"id": i, "object_type": t} for i, t in entries])


async def listed(api: Api, **params: str) -> set[str]:
    resp = await api.call("GET", "/api/v2/engagements", params={"limit": "100", **params})
    assert resp.status == 200, await resp.text()
    return {e["id"] for e in (await resp.json())["data"]}


async def world(api: Api) -> dict[str, Any]:
    """Acme (CRM company 12345) with Jane (CRM contact 67890); Bob at Globex; three calls."""
    seed = {
        "companies": [
            {"name": "Acme", "domains": [{"domain": "acme.example"}], "crm_association": {
                "object_type": "company", "crm_object_id": "12345", "source": "hubspot"}},
            {"name": "Globex", "domains": [{"domain": "globex.example"}]},
        ],
        "contacts": [
            {"first_name": "Jane", "emails": [{"email": "jane@acme.example"}], "crm_association": {
                "object_type": "contact", "crm_object_id": "67890", "source": "hubspot"}},
            {"first_name": "Bob", "emails": [{"email": "bob@globex.example"}]},
        ],
    }  # fmt: skip
    assert (await api.client.post("/__admin/fixtures", json=seed)).status == 200
    calls = {}
    for name, who in (("jane1", "jane"), ("jane2", "jane"), ("bob", "bob")):
        body = {
            "type": "CALL", "title": name, "source_system": "t", "external_id": name,
            "media_url": "https://r.example.com/a.mp3",
            "participants": [{"name": who, "email": f"{who}@{'acme' if who == 'jane' else 'globex'}.example"}],
        }  # fmt: skip
        calls[name] = (await (await api.call("POST", "/api/v2/engagements", json=body)).json())["id"]
    return calls


async def test_a_contacts_crm_id_finds_its_engagements(api: Api) -> None:
    """L12: contact 67890 on a contact linked to two engagements gave []."""
    calls = await world(api)
    assert await listed(api, **{"filter[crm_associations][eq]": crm(("67890", "contact"))}) == {
        calls["jane1"],
        calls["jane2"],
    }


async def test_a_companys_crm_id_finds_its_engagements_in_both_encodings(api: Api) -> None:
    """L11: company 12345 held by a company gave []."""
    calls = await world(api)
    want = {calls["jane1"], calls["jane2"]}
    assert await listed(api, **{"filter[crm_associations][eq]": crm(("12345", "company"))}) == want
    indexed = {
        "filter[crm_associations][eq][0][id]": "12345",
        "filter[crm_associations][eq][0][object_type]": "company",
    }
    assert await listed(api, **indexed) == want


async def test_buckets_or_within_and_across_and_unresolved_entries_take_nothing_away(api: Api) -> None:
    calls = await world(api)
    bob_contact = (await (await api.call("GET", "/api/v2/contacts?search=bob")).json())["data"][0]["id"]
    # OR within the participant bucket: a CRM contact and a direct contact id.
    assert await listed(
        api, **{"filter[crm_associations][eq]": crm(("67890", "contact")), "filter[contact_ids][eq]": bob_contact}
    ) == set(calls.values())
    # AND across buckets: Jane's calls are Acme's, Bob's are not.
    both = {"filter[crm_associations][eq]": crm(("67890", "contact"), ("12345", "company"))}
    assert await listed(api, **both) == {calls["jane1"], calls["jane2"]}
    mismatch = {"filter[crm_associations][eq]": crm(("67890", "contact")), "filter[contact_ids][eq]": bob_contact}
    mismatch["filter[crm_associations][eq]"] = crm(("67890", "contact"), ("404", "company"))
    assert await listed(api, **mismatch) == set()  # the company bucket resolves to nothing
    # An unresolved entry next to a valid direct id keeps the direct id.
    kept = {"filter[crm_associations][eq]": crm(("nope", "contact")), "filter[contact_ids][eq]": bob_contact}
    assert await listed(api, **kept) == {calls["bob"]}


async def test_a_deal_resolves_to_the_engagements_matched_to_it(api: Api) -> None:
    """L13: no deal association could exist; an engagement's own association (admin) now places it."""
    calls = await world(api)
    deal = {"filter[crm_associations][eq]": crm(("D-1", "deal"))}
    assert await listed(api, **deal) == set()
    path = f"/__admin/engagements/{calls['bob']}/crm_association"
    resp = await api.client.put(path, json={"object_type": "deal", "crm_object_id": "D-1", "source": "salesforce"})
    assert resp.status == 200, await resp.text()
    assert await listed(api, **deal) == {calls["bob"]}
    # AND with another bucket: Bob's call is no Acme call.
    assert await listed(api, **{"filter[crm_associations][eq]": crm(("D-1", "deal"), ("12345", "company"))}) == set()
    assert (await api.client.delete(path)).status == 200
    assert await listed(api, **deal) == set()
    await problem(await api.client.put("/__admin/engagements/ngmt_nope/crm_association", json={
        "object_type": "deal", "crm_object_id": "1", "source": "x"}), 404, "not_found")  # fmt: skip
