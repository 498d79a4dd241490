"""Query-parameter strategies for GET /v2/engagements (api.md §6.1, §6.3, §8), valid and invalid."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from contract_tests.strategies.payloads import datetimes_utc_iso

ENGAGEMENT_TYPES = ("MEETING", "CALL", "EMAIL", "TASK", "NOTE", "CALENDAR_EVENT", "DOCUMENT")
STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")
EXPANDS = ("companies", "contacts", "owner", "action_items", "signals", "transcript", "media_url", "tags")
ORDERS = ("updated_at:asc", "updated_at:desc")
TIME_OPS = ("gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class InvalidQuery:
    """Query params that must fail: ``status`` 422 naming ``field`` with one of ``codes``, or 400."""

    params: dict[str, str]
    field: str
    codes: frozenset[str]
    status: int = 422


def _enum_filter(name: str, values: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    return st.one_of(
        st.sampled_from(values).map(lambda v: {f"filter[{name}][eq]": v}),
        st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True).map(
            lambda vs: {f"filter[{name}][in]": ",".join(vs)}
        ),
    )


@st.composite
def valid_list_queries(draw: st.DrawFn, *, search_words: tuple[str, ...] = ("call", "demo")) -> dict[str, str]:
    """Any combination of documented params with valid values."""
    params: dict[str, str] = {}
    if draw(st.booleans()):
        params["limit"] = str(draw(st.integers(1, 100)))
    if draw(st.booleans()):
        params["order_by"] = draw(st.sampled_from(ORDERS))
    if draw(st.booleans()):
        params.update(draw(_enum_filter("engagement_type", ENGAGEMENT_TYPES)))
    if draw(st.booleans()):
        params.update(draw(_enum_filter("processing_status", STATUSES)))
    if draw(st.booleans()):
        params[f"filter[updated_at][{draw(st.sampled_from(TIME_OPS))}]"] = draw(datetimes_utc_iso())
    if draw(st.booleans()):
        params[f"filter[start_at][{draw(st.sampled_from(TIME_OPS))}]"] = draw(datetimes_utc_iso())
    if draw(st.booleans()):
        params["search"] = draw(st.sampled_from(search_words))
    if draw(st.booleans()):
        params["expand"] = ",".join(draw(st.lists(st.sampled_from(EXPANDS), min_size=1, max_size=3, unique=True)))
    return params


def invalid_list_queries() -> st.SearchStrategy[InvalidQuery]:
    """One bad parameter value each (field = the raw query name, api.md §4)."""
    return st.one_of(
        st.sampled_from(["0", "101", "-1", "1000"]).map(
            lambda v: InvalidQuery({"limit": v}, "limit", frozenset({"invalid_range"}))
        ),
        st.sampled_from(["abc", "1.5", "", "ten"]).map(
            lambda v: InvalidQuery({"limit": v}, "limit", frozenset({"invalid_type"}))
        ),
        st.sampled_from(["created_at:desc", "updated_at", "updated_at:up", "title:asc"]).map(
            lambda v: InvalidQuery({"order_by": v}, "order_by", frozenset({"invalid_enum"}))
        ),
        st.sampled_from(["bogus", "action_items,bogus", "Signals"]).map(
            lambda v: InvalidQuery({"expand": v}, "expand", frozenset({"invalid_enum"}))
        ),
        st.sampled_from(["VIDEO", "call", "CALL,VIDEO"]).map(
            lambda v: InvalidQuery(
                {"filter[engagement_type][in]": v}, "filter[engagement_type][in]", frozenset({"invalid_enum"})
            )
        ),
        st.sampled_from(["DONE", "pending"]).map(
            lambda v: InvalidQuery(
                {"filter[processing_status][eq]": v},
                "filter[processing_status][eq]",
                frozenset({"invalid_enum"}),
            )
        ),
        st.tuples(
            st.sampled_from(TIME_OPS),
            st.sampled_from(["yesterday", "2026-03-09T12:00:00", "2026-02-30T00:00:00Z"]),
        ).map(
            lambda t: InvalidQuery(
                {f"filter[updated_at][{t[0]}]": t[1]},
                f"filter[updated_at][{t[0]}]",
                frozenset({"invalid_type"}),
            )
        ),
        st.just(
            InvalidQuery(
                {"filter[company_ids][in]": ",".join(f"cmp_{i:026d}" for i in range(26))},
                "filter[company_ids][in]",
                frozenset({"too_long"}),
            )
        ),
        st.sampled_from(["not-a-cursor", "eyJvIjoiYm9ndXMifQ", "%%%"]).map(
            lambda v: InvalidQuery({"cursor": v}, "cursor", frozenset(), status=400)
        ),
    )
