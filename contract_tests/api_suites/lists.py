"""GET /v2/engagements properties (api.md §6.3, §8): walks, filters, ordering, bad parameters."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import created, get_engagement, minimal_payload, parse_time, walk
from contract_tests.checks import Budget, CheckSkipped, api_check, hypothesis_settings
from contract_tests.strategies.queries import EXPANDS, InvalidQuery, invalid_list_queries, valid_list_queries
from contract_tests.target import ApiClient, Target

TITLE_WORDS = ("Alpha", "beta", "GAMMA")
SEARCH_WORDS = ("alpha", "BETA", "gamma", "zzz-nothing")


def _instant(value: str) -> dt.datetime:
    return parse_time(value)


def item_matches(item: dict[str, Any], params: dict[str, str], *, with_search: bool) -> bool:
    """Whether ``item`` satisfies the filters in ``params`` (eq and in on one field are ORed, api.md §6.3)."""
    for field in ("engagement_type", "processing_status"):
        allowed: set[str] = set()
        if f"filter[{field}][eq]" in params:
            allowed.add(params[f"filter[{field}][eq]"])
        if f"filter[{field}][in]" in params:
            allowed.update(params[f"filter[{field}][in]"].split(","))
        if allowed and item[field] not in allowed:
            return False
    for field in ("updated_at", "start_at"):
        value = _instant(item[field])
        for op in ("gt", "gte", "lt", "lte"):
            raw = params.get(f"filter[{field}][{op}]")
            if raw is None:
                continue
            bound = _instant(raw)
            ok = {"gt": value > bound, "gte": value >= bound, "lt": value < bound, "lte": value <= bound}[op]
            if not ok:
                return False
    return not (with_search and "search" in params and params["search"].lower() not in item["title"].lower())


def assert_ordered(target: Target, items: list[dict[str, Any]], order: str, what: str) -> None:
    """``updated_at`` in the requested direction (docs); ties by ``id``, same direction (emulator choice)."""
    desc = order.endswith(":desc")
    keys = [(_instant(i["updated_at"]), i["id"]) for i in items]
    for (t1, id1), (t2, id2) in pairwise(keys):
        in_order = t1 >= t2 if desc else t1 <= t2
        assert in_order, f"{what}: {order} violated: {id1} at {t1.isoformat()} before {id2} at {t2.isoformat()}"
        if t1 == t2:
            expect.choice(target, (id1 > id2) if desc else (id1 < id2), f"{what}: tie {id1}, {id2} not ordered by id")


def _seed_engagements(target: Target, client: ApiClient, n: int, type_bits: list[bool]) -> list[str]:
    ids = []
    for i in range(n):
        title = f"{TITLE_WORDS[i % len(TITLE_WORDS)]} call {i}"
        kind = "MEETING" if type_bits[i % len(type_bits)] else "CALL"
        payload = minimal_payload(target, target.fresh_external_id(), title=title, type=kind)
        ids.append(created(target, client.create_engagement(payload))["id"])
    return ids


def _pin_time_filters(params: dict[str, str], truth: list[dict[str, Any]], pick: int) -> dict[str, str]:
    """Move generated time bounds onto real timestamps, so filters cut through the data instead of past it."""
    if not truth:
        return params
    out = dict(params)
    for key in params:
        if key.startswith(("filter[updated_at]", "filter[start_at]")):
            field = key.split("[")[1].rstrip("]")
            out[key] = truth[pick % len(truth)][field]
    return out


@api_check("lists", needs_admin=True)
def check_list_walk_returns_each_once(target: Target, budget: Budget) -> None:
    """Walking all pages (any limit/order/filter) yields exactly the matches, each once, in order."""

    @given(
        n=st.integers(0, 9),
        type_bits=st.lists(st.booleans(), min_size=1, max_size=4),
        limit=st.one_of(st.integers(1, 4), st.integers(1, 100)),
        query=valid_list_queries(search_words=SEARCH_WORDS),
        advance=st.sampled_from([0, 4, 90, 240, 3600]),
        pick=st.integers(0, 20),
    )
    # Always include a plain multi-page walk: 7 engagements, 3 per page, no filters.
    @example(n=7, type_bits=[False], limit=3, query={}, advance=0, pick=0)
    @hypothesis_settings(budget)
    def prop(n: int, type_bits: list[bool], limit: int, query: dict[str, str], advance: int, pick: int) -> None:
        workspace = target.new_workspace()
        ids = _seed_engagements(target, workspace.client, n, type_bits)
        if advance and target.clock_is_frozen():
            target.advance(advance)
        target.settle()  # a running clock moves on its own: let it finish the pipeline first
        truth = [get_engagement(target, workspace.client, i) for i in ids]
        params = _pin_time_filters({**query, "limit": str(limit)}, truth, pick)
        params.pop("expand", None)
        items = walk(target, workspace.client, params)
        seen = [i["id"] for i in items]
        dupes = sorted({i for i in seen if seen.count(i) > 1})
        assert not dupes, f"walk {params} returned {dupes} more than once"
        expected = {e["id"] for e in truth if item_matches(e, params, with_search=True)}
        assert set(seen) == expected, (
            f"walk {params} over {n} engagements: missing {sorted(expected - set(seen))}, "
            f"unexpected {sorted(set(seen) - expected)}"
        )
        assert_ordered(target, items, params.get("order_by", "updated_at:desc"), f"walk {params}")

    prop()


@api_check("lists")
def check_list_filters_hold(target: Target, budget: Budget) -> None:
    """Any valid query -> 200 list page whose items all satisfy its filters, ordered, expanded as asked."""
    if target.is_emulator:
        client = target.new_workspace().client
        _seed_engagements(target, client, 6, [True, False])
        target.advance(90)
    else:
        client = target.api

    @given(query=valid_list_queries(search_words=SEARCH_WORDS))
    @hypothesis_settings(budget)
    def prop(query: dict[str, str]) -> None:
        resp = client.get("/v2/engagements", params=query)
        expect.status(resp, 200)
        page = expect.json_body(target, resp, "engagement_list")
        for item in page["data"]:
            assert item_matches(item, query, with_search=False), (
                f"{resp.describe()}: {item['id']} fails filters {query}"
            )
            if "search" in query:
                expect.choice(
                    target,
                    query["search"].lower() in item["title"].lower(),
                    f"{resp.describe()}: title {item['title']!r} lacks search {query['search']!r}",
                )
            for name in query.get("expand", "").split(","):
                if name in EXPANDS:
                    assert name in item, f"{resp.describe()}: expand={name} but item {item['id']} lacks it"
        assert_ordered(target, page["data"], query.get("order_by", "updated_at:desc"), resp.describe())

    prop()


@api_check("lists")
def check_invalid_list_query_rejected(target: Target, budget: Budget) -> None:
    """Bad limit, order, expand, enum or time -> 422 naming the param; bad cursor -> 400."""

    @given(case=invalid_list_queries())
    @hypothesis_settings(budget)
    def prop(case: InvalidQuery) -> None:
        resp = target.api.get("/v2/engagements", params=case.params)
        if case.status == 400:
            body = expect.problem(target, resp, 400)
            expect.choice(target, body["type"].endswith("/invalid_request"), f"{resp.describe()}: type {body['type']}")
        else:
            expect.problem(target, resp, 422, field=case.field, codes=case.codes)

    prop()


@api_check("lists")
def check_cursor_carries_its_query(target: Target, budget: Budget) -> None:
    """Pages after the first, fetched with only limit + cursor as the docs do, continue the same query (search,
    filters, order); a cursor sent with other parameters -> 400 naming them (emulator choice)."""
    if target.is_emulator:
        client = target.new_workspace().client
        _seed_engagements(target, client, 7, [True, False, False])
        target.settle()
        queries = [
            {"search": "alpha"},
            {"order_by": "updated_at:asc"},
            {"filter[engagement_type][eq]": "CALL", "order_by": "updated_at:asc"},
        ]
    else:
        client = target.api
        queries = [{"order_by": "updated_at:asc"}, {"search": "contract"}]
    checked = 0
    for query in queries:
        whole = client.get("/v2/engagements", params={**query, "limit": "3"})
        expect.status(whole, 200)
        want = [e["id"] for e in whole.json()["data"]]
        if len(want) < 3:
            continue
        ids: list[str] = []
        cursor = None
        for _ in range(3):
            params = {**query, "limit": "1"} if cursor is None else {"limit": "1", "cursor": cursor}
            resp = client.get("/v2/engagements", params=params)
            expect.status(resp, 200)
            page = expect.json_body(target, resp, "engagement_list")
            ids += [e["id"] for e in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert ids == want, (
            f"walk of {query} with limit=1 and the cursor alone gave {ids}; the same query in one page gives {want} "
            "(the cursor must carry its query, api.md §8)"
        )
        checked += 1
        if target.is_emulator:
            first = client.get("/v2/engagements", params={**query, "limit": "1"}).json()
            other = {**query, "search": "zzz-other"}
            resp = client.get("/v2/engagements", params={**other, "limit": "1", "cursor": first["next_cursor"]})
            body = expect.problem(target, resp, 400)
            assert "search" in body["detail"], f"{resp.describe()}: detail does not name search: {body['detail']}"
    if checked == 0:
        raise CheckSkipped("no query matched three engagements to walk")


@api_check("lists")
def check_real_workspace_walk_has_no_duplicates(target: Target, budget: Budget) -> None:
    """Walking the key's own workspace newest-first (up to 10 pages of 100) never repeats an engagement."""
    items = walk(target, target.api, {"limit": "100"}, max_pages=10, must_finish=False)
    seen = [i["id"] for i in items]
    dupes = sorted({i for i in seen if seen.count(i) > 1})
    assert not dupes, f"walk of the default workspace repeated {dupes}"
    assert_ordered(target, items, "updated_at:desc", "default workspace walk")


@api_check("lists")
def check_crm_association_filter(target: Target, budget: Budget) -> None:
    """filter[crm_associations][eq] in JSON and bracket form -> 200 (docs); bad entries -> 422 naming it."""
    client = target.new_workspace().client if target.is_emulator else target.api
    if target.is_emulator:
        _seed_engagements(target, client, 2, [False])
    entries = [{"id": "12345", "object_type": "company"}, {"id": "67", "object_type": "deal"}]
    forms = [
        [("filter[crm_associations][eq]", json.dumps(entries))],
        [(f"filter[crm_associations][eq][{i}][{k}]", v) for i, e in enumerate(entries) for k, v in e.items()],
    ]
    for params in forms:
        resp = client.get("/v2/engagements", params=params)
        expect.status(resp, 200)
        page = expect.json_body(target, resp, "engagement_list")
        # The emulator resolves no CRM entries, so buckets filled only by them match nothing (api.md §6.3).
        expect.choice(
            target, page["data"] == [], f"{resp.describe()}: unresolvable CRM filter matched {len(page['data'])}"
        )
    bad = [
        json.dumps([{"id": "1", "object_type": "ticket"}]),
        json.dumps([{"id": str(i), "object_type": "company"} for i in range(21)]),
    ]
    for value in bad:
        resp = client.get("/v2/engagements", params={"filter[crm_associations][eq]": value})
        expect.problem(target, resp, 422, field="filter[crm_associations][eq]")
