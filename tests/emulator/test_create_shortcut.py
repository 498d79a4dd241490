"""The create body's shortcut (schemas.plain_create_draft) is the wire model's answer, or no answer (issue 22 §2).

The oracle is the general path the handler falls back to: EngagementCreateIn with create_cross_field_errors
(api/validation.validate), then to_draft. Whatever body the shortcut takes, that path must take too, with an equal
draft; whatever it leaves, the model judges (and reports). Bodies are generated around every rule: types, nulls,
lengths at their limits, surrogates, URLs, participants and owners.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.workload import call_body
from fake_askelephant.api.problems import Problem
from fake_askelephant.api.schemas import EngagementCreateIn, create_cross_field_errors, plain_create_draft
from fake_askelephant.api.validation import validate
from fake_askelephant.core.models import EngagementDraft

_ABSENT = object()


def general(body: dict[str, Any]) -> EngagementDraft | None:
    try:
        return validate(EngagementCreateIn, body, create_cross_field_errors(body)).to_draft()
    except Problem as exc:  # the 422, every failing field listed
        assert exc.status == 422
        return None


def held(body: dict[str, Any]) -> EngagementDraft | None:
    """The shortcut's draft, after checking it against the general path's."""
    fast = plain_create_draft(body)
    if fast is not None:
        assert general(body) == fast, body
    return fast


def text_near(limit: int) -> st.SearchStrategy[str]:
    """Strings at, around and far from a length limit, some not ASCII, a few with a lone surrogate."""
    lengths = st.sampled_from(sorted({0, 1, 2, max(limit - 1, 0), limit, limit + 1}))
    return st.one_of(
        lengths.map(lambda n: "x" * n),
        lengths.map(lambda n: "é" * n),
        st.tuples(lengths, st.sampled_from(["\ud800", "☎", "\x00", " "])).map(
            lambda t: t[1] * min(t[0], 1) + "y" * max(t[0] - 1, 0)
        ),
        st.text(max_size=8),
    )


# One sampled_from, not a one_of: st.one_of flattens nested choices, so a one_of of eight would take eight draws in
# nine beside another strategy; this one takes half.
_junk: st.SearchStrategy[Any] = st.sampled_from([None, None, True, False, 0, -1, 2.5, [], {}, ""])
_urls = st.sampled_from(
    [
        "https://recordings.example.com/a.mp3",
        "http://recordings.example.com/a",
        "https://127.0.0.1/a.mp3",
        "https:///host/a",
        "ftp://x.example/a",
        "https://exa mple.com/a",
        "https://[::1]/a",
        "https://a..b/x",
        "https://0x7f.1/a",
        "https://example.com:99999/a",
        "https://bücher.example/a.mp3",
        "not a url",
        "https://recordings.example.com/" + "x" * 2030,
    ]
)
_external = st.sampled_from(["https://dialer.example.com/c/1", "wavv://call/1", "javascript:alert(1)", "", "x" * 2049])
_emails = st.sampled_from(["alice@example.com", "a@b", "no-at", "@x", "x@", "a@b@c", "x" * 330 + "@e.com", "é@ü.de"])


@st.composite
def participant(draw: st.DrawFn) -> Any:
    """Mostly a participant the model takes, with one rule or another broken now and then."""
    if draw(st.integers(0, 19)) == 0:
        return draw(_junk)
    fields = {
        "name": (st.sampled_from(["Alice Smith", "x" * 255, "é"]), st.one_of(text_near(255), _junk)),
        "email": (st.sampled_from(["alice@example.com", "a@b", "é@ü.de"]), st.one_of(_emails, _junk)),
        "phone": (st.sampled_from(["+14155550100", "1" * 50]), st.one_of(text_near(50), _junk)),
        "is_owner": (st.booleans(), _junk),
        "extra": (st.text(max_size=3), _junk),
    }
    out = {}
    for name, (good, bad) in fields.items():
        if draw(st.integers(0, 2)):  # two in three present
            out[name] = draw(bad if draw(st.integers(0, 5)) == 0 else good)
    return out


@st.composite
def create_body(draw: st.DrawFn) -> dict[str, Any]:
    """A dialer's body with some fields replaced, dropped or added."""
    body: dict[str, Any] = call_body(draw(st.sampled_from(["ext-1", "é-2"])))
    choices: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(st.sampled_from(["CALL", "MEETING", "call", "OTHER"]), _junk),
        "title": st.one_of(text_near(500), _junk),
        "source_system": st.one_of(text_near(100), _junk),
        "external_id": st.one_of(text_near(500), _junk),
        "media_url": st.one_of(_urls, _junk),
        "external_url": st.one_of(_external, _junk),
        "run_workflows": st.one_of(st.booleans(), _junk),
        "is_private": st.one_of(st.booleans(), _junk),
        "transcript": st.one_of(st.one_of(text_near(10), st.just("x" * 900_001), st.just("é" * 500_000)), _junk),
        "participants": st.one_of(
            st.one_of(st.lists(participant(), max_size=4), st.just([{"name": "n"}] * 101)), _junk
        ),
        "start_at": st.one_of(
            st.sampled_from(["2026-03-09T12:00:00Z", "2026-03-09T12:00:00+02:00", "2026-13-09T12:00:00Z", "yesterday"]),
            _junk,
        ),
        "transcript_timeline": st.one_of(
            st.just(
                {
                    "speakers": [{"name": "A"}],
                    "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": "hi"}],
                }
            ),
            _junk,
        ),
        "unknown": st.one_of(_junk, st.text(max_size=3)),
    }
    for name in draw(st.lists(st.sampled_from(sorted(choices)), max_size=4, unique=True)):
        value = draw(st.one_of(st.just(_ABSENT), choices[name]))
        if value is _ABSENT:
            body.pop(name, None)
        else:
            body[name] = value
    return body


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(create_body())
def test_the_shortcut_gives_the_models_draft_or_nothing(body: dict[str, Any]) -> None:
    held(body)


@settings(max_examples=400, deadline=None)
@given(st.lists(participant(), max_size=3))
def test_participants_take_the_shortcut_as_the_model_takes_them(participants: list[Any]) -> None:
    held({**call_body("w-1"), "participants": participants})


def test_the_dialers_body_takes_the_shortcut() -> None:
    body = call_body("w-1")
    assert held(body) is not None
    assert held({**body, "start_at": "2026-03-09T12:00:00+02:00", "is_private": True, "transcript": "é"}) is not None
    assert held({**body, "participants": [], "run_workflows": False, "unknown": None}) is None  # a null: the model's
    assert held({k: v for k, v in body.items() if k != "participants"}) is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 501),
        ("title", ""),
        ("source_system", "x" * 101),
        ("external_id", "x" * 501),
        ("title", "a\ud800"),
        ("media_url", None),
        ("media_url", "https://127.0.0.1:99999/a"),
        ("external_url", "javascript:alert(1)"),
        ("external_url", None),
        ("run_workflows", 1),
        ("is_private", None),
        ("type", "call"),
        ("transcript", "é" * 475_001),
        ("start_at", "2026-13-09T12:00:00Z"),
        ("participants", [{"is_owner": True, "name": "a"}, {"is_owner": True, "name": "b"}]),
        ("participants", [{"is_owner": False}]),
        ("participants", [{"email": "a@b@c"}]),
        ("participants", [{"name": "x" * 256}]),
        ("participants", [{"phone": None, "name": "x"}]),
        ("participants", [{"name": "x"}] * 101),
    ],
)
def test_each_rule_sends_the_body_to_the_model(field: str, value: Any) -> None:
    """One broken rule each (the mutants a looser shortcut would let through): no shortcut."""
    assert plain_create_draft({**call_body("w-1"), field: value}) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 500),
        ("title", "é" * 500),
        ("source_system", "x" * 100),
        ("external_id", "x"),
        ("transcript", "x" * 900_000),
        ("participants", [{"name": "x" * 255, "phone": "1" * 50, "email": "a@b"}] * 100),
    ],
)
def test_values_at_their_limits_take_the_shortcut(field: str, value: Any) -> None:
    assert held({**call_body("w-1"), field: value}) is not None
