"""No input may cause a 5xx (api.md §4: 500 is for injected faults only); every error is problem+json."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import writer
from contract_tests.checks import Budget, CheckSkipped, api_check, hypothesis_settings
from contract_tests.http import HttpResponse
from contract_tests.strategies.payloads import valid_create_payloads
from contract_tests.target import Target

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_FIELDS = [
    "type",
    "title",
    "source_system",
    "external_id",
    "media_url",
    "transcript_timeline",
    "external_url",
    "run_workflows",
    "is_private",
    "transcript",
    "participants",
    "start_at",
]


def assert_not_server_error(target: Target, resp: HttpResponse) -> None:
    assert resp.status < 500, f"{resp.describe()}: server error for client input; body {resp.body[:300]!r}"
    if resp.status >= 400:
        expect.problem(target, resp, resp.status)


@api_check("fuzz", needs_admin=True)
def check_no_5xx_for_any_create_body(target: Target, budget: Budget) -> None:
    """Arbitrary JSON, raw bytes, near-valid payloads on POST -> 2xx or problem+json 4xx."""
    client = writer(target)

    @st.composite
    def near_valid(draw: st.DrawFn) -> dict[str, Any]:
        payload = draw(valid_create_payloads())
        payload["external_id"] = target.fresh_external_id()
        for name in draw(st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=3, unique=True)):
            payload[name] = draw(JSON_VALUES)
        return payload

    bodies = st.one_of(
        JSON_VALUES.map(lambda v: ("json", v)),
        near_valid().map(lambda v: ("json", v)),
        st.binary(max_size=200).map(lambda b: ("bytes", b)),
        st.sampled_from([b"{", b'{"type":', b"\xff\xfe{}", b"[]", b"null", b'{"a":1}{}']).map(lambda b: ("bytes", b)),
    )

    @given(
        body=bodies,
        content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-8"]),
    )
    # Truncated JSON is the commonest malformed body a dialer sends; always try it.
    @example(body=("bytes", b'{"type":'), content_type="application/json")
    @hypothesis_settings(budget, examples=budget.max_examples * 2)
    def prop(body: tuple[str, Any], content_type: str) -> None:
        kind, value = body
        headers = {"Content-Type": content_type}
        if kind == "json":
            resp = client.request("POST", "/v2/engagements", json_body=value, headers=headers)
        else:
            resp = client.request("POST", "/v2/engagements", body=value, headers=headers)
        assert_not_server_error(target, resp)

    prop()


@api_check("fuzz")
def check_no_5xx_for_any_query(target: Target, budget: Budget) -> None:
    """Arbitrary query parameters and path ids on the read routes -> 200/304 or problem+json 4xx."""
    if not target.is_emulator and budget.max_examples > 200:
        raise CheckSkipped("refusing a large fuzz budget against the real API")
    names = st.one_of(
        st.sampled_from(
            [
                "limit",
                "cursor",
                "order_by",
                "search",
                "expand",
                "filter[engagement_type][eq]",
                "filter[updated_at][gt]",
                "filter[crm_associations][eq]",
                "filter[company_ids][in]",
                "filter[]",
                "filter[start_at][between]",
            ]
        ),
        _TEXT,
    )
    queries = st.lists(st.tuples(names, _TEXT), max_size=5)
    paths = st.one_of(
        st.just("/v2/engagements"),
        _TEXT.map(lambda t: f"/v2/engagements/{t}"),
        _TEXT.map(lambda t: f"/v2/engagements/ngmt_{t}/transcript_timeline"),
    )

    @given(path=paths, query=queries)
    @hypothesis_settings(budget, examples=budget.max_examples * 2)
    def prop(path: str, query: list[tuple[str, str]]) -> None:
        resp = target.api.get(path.replace("?", "%3F").replace("#", "%23"), params=query)
        assert_not_server_error(target, resp)

    prop()
