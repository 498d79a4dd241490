"""Engagement list filters on related records (api.md §6.3): company_ids, contact_ids, crm_associations buckets."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from fake_askelephant.api.queries import parse_engagement_query
from tests.conftest import DEFAULT_KEY, Api, problem

EQ = "filter[crm_associations][eq]"

# Who takes part in each call: company domain letter + person, or "x" for someone without a company.
CALLS = [[], ["a1"], ["b1"], ["a1", "b1"], ["c1", "x1"], ["x1"], ["a2", "c1"], ["b2", "x2"]]


class World:
    """Companies a, b, c; contacts a1, a2, b1, b2, c1, x1, x2; engagements per CALLS."""

    def __init__(self) -> None:
        self.companies: dict[str, str] = {}
        self.contacts: dict[str, str] = {}
        self.engagements: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # id → (companies, contacts)


async def build_world(api: Api) -> World:
    world = World()
    for letter in "abc":
        resp = await api.call(
            "POST", "/api/v2/companies", json={"name": letter, "domains": [{"domain": f"{letter}.example"}]}
        )
        world.companies[letter] = (await resp.json())["id"]
    for i, people in enumerate(CALLS):
        participants = [{"name": p, "email": f"{p}@{p[0]}.example"} for p in people]
        created = await (await api.create(external_id=f"call-{i}", participants=participants)).json()
        body = await (await api.get(created["id"], expand="contacts,companies")).json()
        for contact in body["contacts"]:
            world.contacts[contact["first_name"]] = contact["id"]
        world.engagements[created["id"]] = (
            frozenset(c["id"] for c in body["companies"]),
            frozenset(c["id"] for c in body["contacts"]),
        )
    return world


async def listed(api: Api, params: dict[str, str] | list[tuple[str, str]]) -> set[str]:
    resp = await api.call("GET", "/api/v2/engagements?" + urlencode(params) + "&limit=100")
    assert resp.status == 200, await resp.text()
    return {e["id"] for e in (await resp.json())["data"]}


def indexed(entries: list[tuple[str, str]], start: int = 0) -> list[tuple[str, str]]:
    out = []
    for n, (crm_id, kind) in enumerate(entries, start):
        out += [(f"{EQ}[{n}][id]", crm_id), (f"{EQ}[{n}][object_type]", kind)]
    return out


def as_json(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(EQ, json.dumps([{"id": i, "object_type": t} for i, t in entries]))]


async def test_world_links_contacts_and_companies_as_expected(api: Api) -> None:
    world = await build_world(api)
    assert set(world.contacts) == {"a1", "a2", "b1", "b2", "c1", "x1", "x2"}
    by_contacts = {
        frozenset(k for k, v in world.contacts.items() if v in cts): cps for cps, cts in world.engagements.values()
    }
    assert by_contacts[frozenset({"a1", "b1"})] == {world.companies["a"], world.companies["b"]}
    assert by_contacts[frozenset({"x1"})] == frozenset()


async def test_or_within_and_across_buckets(api: Api) -> None:
    w = await build_world(api)
    a, b, c = (w.companies[k] for k in "abc")
    in_a = {e for e, (cps, _) in w.engagements.items() if a in cps}
    assert await listed(api, {"filter[company_ids][eq]": a}) == in_a
    either = await listed(api, {"filter[company_ids][in]": f"{a},{b}"})
    assert either == {e for e, (cps, _) in w.engagements.items() if cps & {a, b}}
    # eq and in on one field are ORed.
    assert await listed(api, {"filter[company_ids][eq]": c, "filter[company_ids][in]": b}) == {
        e for e, (cps, _) in w.engagements.items() if cps & {b, c}
    }
    # Across buckets: AND.
    x1 = w.contacts["x1"]
    both = await listed(api, {"filter[company_ids][eq]": c, "filter[contact_ids][eq]": x1})
    assert both == {e for e, (cps, cts) in w.engagements.items() if c in cps and x1 in cts}
    assert len(both) == 1


async def test_crm_entries_resolve_to_nothing_but_erase_nothing(api: Api) -> None:
    w = await build_world(api)
    a = w.companies["a"]
    in_a = await listed(api, {"filter[company_ids][eq]": a})
    assert in_a
    # A bucket filled only by CRM entries matches nothing (emulator has no CRM).
    for kind in ("company", "contact", "deal"):
        assert await listed(api, indexed([("12345", kind)])) == set()
        assert await listed(api, as_json([("12345", kind)])) == set()
    # Next to valid ids, unresolved CRM entries take nothing away.
    assert await listed(api, [("filter[company_ids][eq]", a), *indexed([("12345", "company")])]) == in_a
    # But a CRM-only bucket of another kind still has to match: AND across buckets.
    assert await listed(api, [("filter[company_ids][eq]", a), *indexed([("D-1", "deal")])]) == set()


async def test_unknown_ids_match_nothing_and_in_is_capped(api: Api) -> None:
    await build_world(api)
    assert await listed(api, {"filter[contact_ids][eq]": "cnt_unknown"}) == set()
    ids = ",".join(f"cmp_{i}" for i in range(26))
    body = await problem(
        await api.call("GET", f"/api/v2/engagements?filter[company_ids][in]={ids}"), 422, "validation_failed"
    )
    assert body["errors"][0]["field"] == "filter[company_ids][in]" and body["errors"][0]["code"] == "too_long"
    body = await problem(
        await api.call("GET", "/api/v2/engagements?filter[contact_ids][eq]=cmp_1"), 422, "validation_failed"
    )
    assert body["errors"][0]["code"] == "invalid_type"


async def test_both_encodings_and_mixed(api: Api) -> None:
    w = await build_world(api)
    b = w.companies["b"]
    entries = [("1", "company"), ("2", "contact")]
    assert await listed(api, indexed(entries)) == await listed(api, as_json(entries)) == set()
    mixed = [("filter[company_ids][eq]", b), *as_json(entries[:1]), *indexed(entries[1:], start=0)]
    # Contact bucket populated only by a CRM entry → nothing, whatever the company bucket holds.
    assert await listed(api, mixed) == set()
    numeric = [(EQ, '[{"id":12345,"object_type":"company"}]'), ("filter[company_ids][eq]", b)]
    assert await listed(api, numeric) == {e for e, (cps, _) in w.engagements.items() if b in cps}


@pytest.mark.parametrize(
    ("params", "status", "field", "code"),
    [
        ([(EQ, "[{not json")], 400, None, None),
        ([(f"{EQ}[x][id]", "1")], 400, None, None),
        ([(f"{EQ}[0]", "1")], 400, None, None),
        ([(f"{EQ}[0][id]", "1"), (f"{EQ}[0][id]", "2"), (f"{EQ}[0][object_type]", "company")], 400, None, None),
        ([(EQ, '{"id":"1","object_type":"company"}')], 422, EQ, "invalid_type"),
        ([(EQ, '[{"id":"1"}]')], 422, f"{EQ}[0][object_type]", "required"),
        ([(f"{EQ}[0][object_type]", "company")], 422, f"{EQ}[0][id]", "required"),
        ([(EQ, '[{"id":"","object_type":"company"}]')], 422, f"{EQ}[0][id]", "invalid_type"),
        ([(EQ, '[{"id":true,"object_type":"company"}]')], 422, f"{EQ}[0][id]", "invalid_type"),
        ([(EQ, '[{"id":"1","object_type":"Company"}]')], 422, f"{EQ}[0][object_type]", "invalid_enum"),
        ([(EQ, '[{"id":"1","object_type":"lead"}]')], 422, f"{EQ}[0][object_type]", "invalid_enum"),
        ([(EQ, '[{"id":"1","object_type":3}]')], 422, f"{EQ}[0][object_type]", "invalid_type"),
        ([(f"{EQ}[0][name]", "x")], 422, f"{EQ}[0][name]", "invalid_enum"),
        ([("filter[crm_associations][in]", "[]")], 422, "filter[crm_associations][in]", "invalid_enum"),
        (as_json([(str(i), "deal") for i in range(21)]), 422, EQ, "too_long"),
        (indexed([(str(i), "deal") for i in range(21)]), 422, EQ, "too_long"),
    ],
)
async def test_crm_filter_errors(
    api: Api, params: list[tuple[str, str]], status: int, field: str | None, code: str | None
) -> None:
    resp = await api.call("GET", "/api/v2/engagements?" + urlencode(params))
    body = await problem(resp, status, "invalid_request" if status == 400 else "validation_failed")
    if field is not None:
        assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (field, code)


async def test_twenty_entries_and_empty_list_are_fine(api: Api) -> None:
    await api.create()
    assert await listed(api, as_json([(str(i), "deal") for i in range(20)])) == set()
    assert len(await listed(api, [(EQ, "[]")])) == 1  # nothing asked: nothing filtered


async def test_bucket_semantics_against_a_model(api: Api) -> None:
    """hypothesis: any mix of ids and CRM entries in either encoding gives what the spec's buckets say."""
    world = await build_world(api)
    emulator = api.emulator
    principal = emulator.store.authenticate_key(DEFAULT_KEY)
    assert principal is not None
    company_pool = [*world.companies.values(), "cmp_UNKNOWN"]
    contact_pool = [*world.contacts.values(), "cnt_UNKNOWN"]
    crm_entry = st.tuples(st.sampled_from(["1", "2", "999"]), st.sampled_from(["company", "contact", "deal"]))

    def id_filter(pool: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
        return st.fixed_dictionaries(
            {},
            optional={
                "eq": st.lists(st.sampled_from(pool), min_size=1, max_size=1),
                "in": st.lists(st.sampled_from(pool), min_size=1, max_size=4),
            },
        )

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        companies=id_filter(company_pool),
        contacts=id_filter(contact_pool),
        crm=st.lists(crm_entry, max_size=5),
        encoding=st.sampled_from(["indexed", "json", "split"]),
    )
    def check(
        companies: dict[str, list[str]], contacts: dict[str, list[str]], crm: list[tuple[str, str]], encoding: str
    ) -> None:
        params: list[tuple[str, str]] = []
        for name, spec in (("company_ids", companies), ("contact_ids", contacts)):
            for op, values in spec.items():
                params.append((f"filter[{name}][{op}]", ",".join(values)))
        if crm:
            if encoding == "indexed":
                params += indexed(crm)
            elif encoding == "json":
                params += as_json(crm)
            else:
                params += as_json(crm[:1]) + indexed(crm[1:])
        query, _ = parse_engagement_query(URL("/?" + urlencode(params)).query)
        got = {e.id for e in emulator.engagements.list_engagements(principal, query).items}

        # The model, straight from api.md §6.3: a bucket is populated by its ids or by any CRM entry of its
        # kind; CRM entries resolve to nothing; OR within a bucket, AND across the populated ones.
        def bucket(spec: dict[str, list[str]], kind: str) -> set[str] | None:
            if not spec and all(t != kind for _, t in crm):
                return None
            return {i for values in spec.values() for i in values}

        wanted_companies, wanted_contacts = bucket(companies, "company"), bucket(contacts, "contact")
        projects = bucket({}, "deal")
        expected = {
            e
            for e, (cps, cts) in world.engagements.items()
            if (wanted_companies is None or wanted_companies & cps)
            and (wanted_contacts is None or wanted_contacts & cts)
            and projects is None
        }
        assert got == expected, params

    check()


async def test_json_entries_take_what_indexed_entries_take(api: Api) -> None:
    """The served document says entries hold id and object_type only, and ids are at most 255 characters:
    the JSON form enforces both, as the indexed form always did for keys (regression: extra keys were ignored)."""
    extra = json.dumps([{"id": "1", "object_type": "contact", "note": "x"}])
    body = await problem(await api.call("GET", "/api/v2/contacts?" + urlencode({EQ: extra})), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == [f"{EQ}[0][note]"]
    long_id = json.dumps([{"id": "9" * 256, "object_type": "contact"}])
    body = await problem(
        await api.call("GET", "/api/v2/contacts?" + urlencode({EQ: long_id})), 422, "validation_failed"
    )
    assert body["errors"][0]["code"] == "too_long"
    # JSON has one number type: 12345.0 and an id past 64 bits are integers, as the document's schema says.
    for number in ("12345.0", "123456789012345678901234567890"):
        text = f'[{{"id": {number}, "object_type": "contact"}}]'
        resp = await api.call("GET", "/api/v2/contacts?" + urlencode({EQ: text}))
        assert resp.status == 200, await resp.text()
