"""The strategies generate what their labels claim, judged by the spec's rules re-stated here."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.schemas import validator
from contract_tests.strategies import urls
from contract_tests.strategies.events import webhook_events
from contract_tests.strategies.payloads import InvalidCase, invalid_create_payloads, valid_create_payloads
from contract_tests.strategies.queries import InvalidQuery, invalid_list_queries, valid_list_queries

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def classify_external_url(url: str) -> str:
    """api.md §5.3 steps 2–4: 'unsafe_scheme', 'invalid_url' or 'ok'."""
    copy = url.strip("".join(chr(c) for c in range(0x20)) + " ")
    copy = copy.replace("\t", "").replace("\n", "").replace("\r", "")
    scheme, colon, rest = copy.partition(":")
    if not colon or not rest or not _SCHEME.fullmatch(scheme):
        return "invalid_url"
    return "unsafe_scheme" if scheme.lower() in urls.UNSAFE_SCHEMES else "ok"


def is_private_host(host: str) -> bool:
    """api.md §5.4 private_address rule, with inet_aton-style numeric forms."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        parts = host.split(".")
        try:
            nums = [int(p, 0) for p in parts]
        except ValueError:
            return False
        value = 0
        for n in nums[:-1]:
            value = value * 256 + n
        value = value * 256 ** (5 - len(nums)) + nums[-1]
        ip = ipaddress.ip_address(value)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return True
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified


@settings(max_examples=100, deadline=None)
@given(url=st.one_of(urls.unsafe_external_urls(), st.sampled_from(urls.DOCUMENTED_UNSAFE_EXTERNAL_URLS)))
def test_unsafe_external_urls_are_unsafe_by_the_spec_algorithm(url: str) -> None:
    assert classify_external_url(url) == "unsafe_scheme", repr(url)


@settings(max_examples=100, deadline=None)
@given(url=urls.invalid_external_urls())
def test_invalid_external_urls_have_no_usable_scheme(url: str) -> None:
    assert classify_external_url(url) == "invalid_url", repr(url)


@settings(max_examples=100, deadline=None)
@given(url=urls.safe_external_urls())
def test_safe_external_urls_pass_the_spec_algorithm(url: str) -> None:
    assert classify_external_url(url) == "ok", repr(url)


@settings(max_examples=100, deadline=None)
@given(url=urls.private_media_urls())
def test_private_media_urls_have_private_hosts(url: str) -> None:
    host = re.match(r"https://(\[[^\]]+\]|[^/:]+)", url).group(1)  # type: ignore[union-attr]
    assert is_private_host(host), url


@settings(max_examples=100, deadline=None)
@given(url=urls.public_media_urls())
def test_public_media_urls_are_https_on_public_hosts(url: str) -> None:
    scheme, _, rest = url.partition("://")
    assert scheme.lower() == "https"
    assert not is_private_host(rest.split("/")[0])


@settings(max_examples=60, deadline=None)
@given(payload=valid_create_payloads())
def test_valid_payloads_satisfy_the_request_schema(payload: dict[str, Any]) -> None:
    assert list(validator("engagement_create").iter_errors(payload)) == []
    owners = [p for p in payload.get("participants", []) if p.get("is_owner")]
    assert len(owners) <= 1
    if "external_url" in payload:
        assert classify_external_url(payload["external_url"]) == "ok"


@settings(max_examples=30, deadline=None)
@given(payload=valid_create_payloads(allow_media_url=False))
def test_real_api_payloads_never_carry_media_urls(payload: dict[str, Any]) -> None:
    assert "media_url" not in payload and "transcript_timeline" in payload


# Cases the request schema cannot see: URL policies and cross-field rules checked by the server.
_SCHEMA_BLIND = re.compile(
    r"external_url|media_url = |two owners|speaker_index|start after end|email|start_at = '(2026-13|')"
)


@settings(max_examples=100, deadline=None)
@given(case=invalid_create_payloads())
def test_invalid_payloads_break_a_rule(case: InvalidCase) -> None:
    schema_errors = list(validator("engagement_create").iter_errors(case.payload))
    assert schema_errors or _SCHEMA_BLIND.search(case.label), f"{case.label}: payload passes every rule"
    assert case.codes, case.label
    if case.field == "external_url" and "unsafe_scheme" in case.codes:
        assert classify_external_url(case.payload["external_url"]) == "unsafe_scheme"


@settings(max_examples=60, deadline=None)
@given(event=webhook_events())
def test_generated_events_match_their_event_schema(event: dict[str, Any]) -> None:
    name = "event_" + event["type"].removeprefix("v1.").replace(".", "_")
    assert [e.message for e in validator(name).iter_errors(event)] == []


@settings(max_examples=50, deadline=None)
@given(query=valid_list_queries())
def test_valid_queries_use_documented_params(query: dict[str, str]) -> None:
    allowed = re.compile(
        r"limit|order_by|search|expand|filter\[(engagement_type|processing_status)\]\[(eq|in)\]"
        r"|filter\[(updated_at|start_at)\]\[(gt|gte|lt|lte)\]"
    )
    assert all(allowed.fullmatch(k) for k in query), query
    if "limit" in query:
        assert 1 <= int(query["limit"]) <= 100


@settings(max_examples=50, deadline=None)
@given(case=invalid_list_queries())
def test_invalid_queries_name_a_sent_param(case: InvalidQuery) -> None:
    assert case.field in case.params
