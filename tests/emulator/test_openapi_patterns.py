"""Each pattern the document declares for a rule written in code matches only values that rule accepts.

That is what a client generator or fuzzer needs: a value built to match the document is never rejected by the
server ("valid request rejected"). Values come from the pattern itself, from arbitrary text, and from the
spellings each rule exists to refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_askelephant.api.openapi.patterns import (
    DOMAIN_PATTERN,
    EMAIL_PATTERN,
    EXTERNAL_URL_PATTERN,
    MEDIA_URL_PATTERN,
    REQUEST_DATETIME_PATTERN,
)
from fake_askelephant.api.schemas import email_shape
from fake_askelephant.core import policies
from fake_askelephant.core.directory import normalize_domain
from fake_askelephant.core.timefmt import parse_iso


def _accepts(check: Callable[[str], object]) -> Callable[[str], bool]:
    def accepted(value: str) -> bool:
        try:
            check(value)
        except ValueError:
            return False
        return True

    return accepted


def _media_ok(value: str) -> bool:
    """The field rule, the media policy, then the offline media model: what POST /v2/engagements applies."""
    return all(
        check(value) is None
        for check in (policies.media_url_shape_error, policies.media_url_policy_error, policies.offline_media_error)
    )


RULES: dict[str, tuple[str, Callable[[str], bool], list[str]]] = {
    "datetime": (
        REQUEST_DATETIME_PATTERN,
        _accepts(parse_iso),
        [
            "2026-03-09T12:00:00",  # no offset: invalid_type
            "1970-01-01T00:30:00+01:00",  # before the epoch once the offset is applied
            "9099-12-31T23:30:00-01:00",  # past 9099
            "1969-12-31T23:59:59Z",
            "2026-02-30T00:00:00Z",
            "0000-00-00T00:00:00Z",
            "2026-03-09T24:00:00Z",
            "2026-03-09T12:00:00+24:00",
        ],
    ),
    "email": (EMAIL_PATTERN, _accepts(email_shape), ["a@b@c", "@b", "a@", "ab"]),
    "external_url": (
        EXTERNAL_URL_PATTERN,
        lambda v: policies.external_url_error(v) is None,
        ["javascript:alert(1)", "JavaScript:x", "data:text/html,x", "file:///etc/passwd", "no-scheme", "a:", "1a:b"],
    ),
    "media_url": (
        MEDIA_URL_PATTERN,
        _media_ok,
        [
            "http://recordings.example.com/a.mp3",
            "https://localhost/a.mp3",
            "https://api.LOCALHOST./a.mp3",
            "https://127.0.0.1/a.mp3",
            "https://0/a.mp3",
            "https://0x7f.1/a.mp3",
            "https://2130706433/a.mp3",
            "https://[::1]/a.mp3",
            "https://10.0.0.5/a.mp3",
            "https:///a.mp3",
            "https://a b.com/x",
            "https://g0.0/a.mp3",  # ends in a number: WHATWG reads an IPv4 address, and 0.0 is no valid one
            "https://recordings.invalid/a.mp3",  # the offline media model: .invalid never resolves
            "https://recordings.example.com/a.HTML",  # not media
            "https://recordings.example.com/a.pdf?download=1",
            "https://xn--a.example/a.mp3",  # invalid Punycode
        ],
    ),
    "domain": (
        DOMAIN_PATTERN,
        _accepts(normalize_domain),
        ["acme", "www.acme", "https://www.acme/", "-a.com", "a..com"],
    ),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_values_built_from_the_pattern_are_accepted(rule: str) -> None:
    pattern, accepted, _ = RULES[rule]

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.from_regex(pattern, fullmatch=True))
    def check(value: str) -> None:
        assert accepted(value), f"{value!r} matches the {rule} pattern but the server rejects it"

    check()


@pytest.mark.parametrize("rule", list(RULES))
def test_arbitrary_text_that_matches_is_accepted(rule: str) -> None:
    pattern, accepted, bad = RULES[rule]
    compiled = re.compile(pattern)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.one_of(st.text(), st.sampled_from(bad).flatmap(lambda b: st.just(b) | st.text().map(lambda t: b + t))))
    def check(value: str) -> None:
        if compiled.search(value):
            assert accepted(value), f"{value!r} matches the {rule} pattern but the server rejects it"

    check()


@pytest.mark.parametrize("rule", list(RULES))
def test_the_spellings_each_rule_refuses_do_not_match(rule: str) -> None:
    pattern, accepted, bad = RULES[rule]
    for value in bad:
        assert not accepted(value), f"{value!r} was meant as a rejected {rule}"
        assert not re.search(pattern, value), f"{value!r} matches the {rule} pattern"


def test_documented_examples_match() -> None:
    assert re.search(MEDIA_URL_PATTERN, "https://recordings.example.com/call-20260513-001.mp3")
    assert re.search(EXTERNAL_URL_PATTERN, "wavv://call/123")
    assert re.search(DOMAIN_PATTERN, "https://www.Acme.com/")
    assert re.search(REQUEST_DATETIME_PATTERN, "2026-03-09T12:00:00.000Z")
