"""Create-payload strategies (api.md §5): valid bodies, and invalid ones labelled with the field and codes.

Valid payloads carry a placeholder ``external_id``; the suites swap in a fresh one per example, because an
id drawn by Hypothesis repeats while shrinking and would turn a create into a replay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies import urls

PLACEHOLDER_EXTERNAL_ID = "contract-test:placeholder"
REQUIRED_FIELDS = ("type", "title", "source_system", "external_id")
MAX_LENGTHS = {"title": 500, "source_system": 100, "external_id": 500}

# Any code point except surrogates, which JSON over UTF-8 cannot carry.
_CHARS = st.characters(exclude_categories=["Cs"])
_WRONG_TYPES = st.sampled_from([0, 1.5, True, [], {}, ["x"], {"a": 1}, None])


@dataclass(frozen=True)
class InvalidCase:
    """A create body that must be rejected.

    ``field``: the ``errors[].field`` expected (a path for nested fields, api.md §4);
    ``codes``: acceptable ``errors[].code`` values (emulator choices except ``invalid_range``);
    ``stage``: "fields" (before the idempotency lookup) or "media" (media policy, after it);
    ``also``: other field names the spec leaves open (e.g. which of two alternatives is "required").
    """

    payload: dict[str, Any]
    field: str
    codes: frozenset[str]
    label: str
    stage: str = "fields"
    also: tuple[str, ...] = ()

    @property
    def keeps_external_id(self) -> bool:
        """True when ``external_id`` is valid, so the suites can swap in a fresh one and probe storage."""
        return self.field != "external_id" and isinstance(self.payload.get("external_id"), str)


def texts(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Strings of ``min_size``..``max_size`` code points, short ones favoured, the bounds included."""
    short = st.text(_CHARS, min_size=min_size, max_size=min(max_size, min_size + 40))
    bounds = st.sampled_from(sorted({min_size, max_size})).flatmap(lambda n: st.text(_CHARS, min_size=n, max_size=n))
    return st.one_of(short, short, short, bounds) if min_size > 0 else st.one_of(short, bounds)


def datetimes_utc_iso() -> st.SearchStrategy[str]:
    """ISO-8601 datetimes with ``Z`` or an offset, as the API accepts."""
    moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31))
    offsets = st.sampled_from(["Z", "+00:00", "+02:00", "-05:30"])
    return st.builds(
        lambda m, o: m.replace(microsecond=(m.microsecond // 1000) * 1000).isoformat() + o, moments, offsets
    )


def emails() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A[a-z][a-z0-9._+]{0,20}@[a-z][a-z0-9]{0,10}\.(com|net|org)\Z")


def phones() -> st.SearchStrategy[str]:
    return st.builds(lambda n: f"+{n}", st.integers(10**9, 10**14))


@st.composite
def participants(draw: st.DrawFn, *, max_size: int = 4) -> list[dict[str, Any]]:
    """0..max_size participants, each with at least one of name/email/phone, at most one owner."""
    people = []
    for _ in range(draw(st.integers(0, max_size))):
        person: dict[str, Any] = {}
        keys = draw(st.sets(st.sampled_from(["name", "email", "phone"]), min_size=1))
        if "name" in keys:
            person["name"] = draw(texts(1, 255))
        if "email" in keys:
            person["email"] = draw(emails())
        if "phone" in keys:
            person["phone"] = draw(phones())
        people.append(person)
    if people and bool(draw(st.booleans())):  # bool(): mypy would type the draw from `people`
        people[draw(st.integers(0, len(people) - 1))]["is_owner"] = True
    return people


@st.composite
def transcript_timelines(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request timeline (api.md §5.5): 1–3 speakers, 1–5 entries with in-range indices."""
    n_speakers = draw(st.integers(1, 3))
    speakers = [{"name": draw(texts(1, 40))} for _ in range(n_speakers)]
    entries = []
    for _ in range(draw(st.integers(1, 5))):
        start = draw(st.floats(0, 3000, allow_nan=False, allow_infinity=False))
        length = draw(st.floats(0, 60, allow_nan=False, allow_infinity=False))
        entry: dict[str, Any] = {
            "speaker_index": draw(st.integers(0, n_speakers - 1)),
            "start_seconds": round(start, 2),
            # Rounding is monotonic, so end >= start survives it.
            "end_seconds": round(start + length, 2),
            "text": draw(texts(1, 120)),
        }
        if draw(st.booleans()):
            entry["sentiment"] = draw(st.floats(-1, 1, allow_nan=False))
        entries.append(entry)
    return {"speakers": speakers, "entries": entries}


@st.composite
def valid_create_payloads(draw: st.DrawFn, *, allow_media_url: bool = True) -> dict[str, Any]:
    """A body every compliant server stores: 201 when new.

    Args:
        allow_media_url: False against the real API, which fetches ``media_url`` during the request;
            those payloads carry a ``transcript_timeline`` only.
    """
    payload: dict[str, Any] = {
        "type": draw(st.sampled_from(["CALL", "MEETING"])),
        "title": draw(texts(1, 500)),
        "source_system": draw(texts(1, 100)),
        "external_id": PLACEHOLDER_EXTERNAL_ID,
    }
    source = draw(st.sampled_from(["media", "timeline", "both"] if allow_media_url else ["timeline"]))
    if source in ("media", "both"):
        payload["media_url"] = draw(urls.public_media_urls())
    if source in ("timeline", "both"):
        payload["transcript_timeline"] = draw(transcript_timelines())
    optional = {
        "external_url": urls.safe_external_urls(),
        "run_workflows": st.booleans(),
        "is_private": st.booleans(),
        "transcript": texts(1, 300),
        "participants": participants(),
        "start_at": datetimes_utc_iso(),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        payload[name] = draw(optional[name])
    return payload


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


def _case(
    base: dict[str, Any], field: str, value: Any, codes: set[str], label: str, stage: str = "fields"
) -> InvalidCase:
    return InvalidCase({**base, field.split(".")[0].split("[")[0]: value}, field, frozenset(codes), label, stage)


@st.composite
def invalid_create_payloads(draw: st.DrawFn, *, allow_media_url: bool = True) -> InvalidCase:
    """A valid body with exactly one field rule broken (api.md §5, §5.3–§5.5)."""
    base = draw(valid_create_payloads(allow_media_url=allow_media_url))
    kind = draw(st.sampled_from(_INVALID_KINDS))
    case: InvalidCase = draw(kind(base))
    return case


def _missing_required(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.sampled_from(REQUIRED_FIELDS).map(
        lambda f: InvalidCase(_without(base, f), f, frozenset({"required"}), f"missing {f}")
    )


def _missing_source(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    payload = _without(_without(base, "media_url"), "transcript_timeline")
    label = "neither media_url nor transcript_timeline"
    return st.just(InvalidCase(payload, "media_url", frozenset({"required"}), label, also=("transcript_timeline",)))


def _too_long(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    def build(f: str) -> InvalidCase:
        value = ("contract-test:" if f == "external_id" else "") + "x" * MAX_LENGTHS[f]
        return _case(base, f, value[: MAX_LENGTHS[f] + 1].ljust(MAX_LENGTHS[f] + 1, "y"), {"too_long"}, f"{f} too long")

    return st.sampled_from(sorted(MAX_LENGTHS)).map(build)


def _too_short(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.sampled_from(sorted(MAX_LENGTHS)).map(lambda f: _case(base, f, "", {"too_short"}, f"{f} empty"))


def _wrong_type(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    string_fields = [
        "title",
        "source_system",
        "external_id",
        "media_url",
        "external_url",
        "transcript",
        "start_at",
    ]
    bool_fields = ["run_workflows", "is_private"]
    return st.one_of(
        st.tuples(st.sampled_from(string_fields), _WRONG_TYPES.filter(lambda v: not isinstance(v, str))),
        st.tuples(st.sampled_from(bool_fields), st.sampled_from([0, 1, "true", "yes", None, []])),
        st.tuples(st.just("participants"), st.sampled_from([{}, "alice", 3, None])),
        st.tuples(st.just("transcript_timeline"), st.sampled_from([[], "text", 1, None])),
        st.tuples(st.just("type"), st.sampled_from([1, None, [], {}, True])),
    ).map(lambda fv: _case(base, fv[0], fv[1], {"invalid_type"}, f"{fv[0]} = {fv[1]!r}"))


def _bad_enum(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.sampled_from(["EMAIL", "call", "VIDEO", "", "MEETING "]).map(
        lambda v: _case(base, "type", v, {"invalid_enum"}, f"type = {v!r}")
    )


def _unsafe_external_url(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.one_of(st.sampled_from(urls.DOCUMENTED_UNSAFE_EXTERNAL_URLS), urls.unsafe_external_urls()).map(
        lambda u: _case(base, "external_url", u, {"unsafe_scheme"}, f"external_url = {u!r}")
    )


def _invalid_external_url(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return urls.invalid_external_urls().map(
        lambda u: _case(base, "external_url", u, {"invalid_url"}, f"external_url = {u!r}")
    )


def _bad_participants(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    owner = {"name": "Owner One", "email": "one@example.com", "is_owner": True}
    second = {"name": "Owner Two", "phone": "+14155550100", "is_owner": True}
    return st.sampled_from(
        [
            InvalidCase(
                {**base, "participants": [owner, second]},
                "participants",
                frozenset({"multiple_owners"}),
                "two owners",
            ),
            InvalidCase(
                {**base, "participants": [{"is_owner": False}]},
                "participants[0]",
                frozenset({"required"}),
                "participant without name/email/phone",
            ),
            InvalidCase(
                {**base, "participants": [{"name": "A", "email": "no-at-sign"}]},
                "participants[0].email",
                frozenset({"invalid_type"}),
                "email without @",
            ),
            InvalidCase(
                {**base, "participants": [{"name": "A", "email": "a@b@example.com"}]},
                "participants[0].email",
                frozenset({"invalid_type"}),
                "email with two @",
            ),
            InvalidCase(
                {**base, "participants": [{"name": ""}]},
                "participants[0].name",
                frozenset({"too_short"}),
                "empty participant name",
            ),
            InvalidCase(
                {**base, "participants": [{"name": "p"}] * 101},
                "participants",
                frozenset({"too_long"}),
                "101 participants",
            ),
        ]
    )


def _bad_timeline(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    speakers = [{"name": "Alice"}]
    entry = {"speaker_index": 0, "start_seconds": 1.0, "end_seconds": 2.0, "text": "hi"}
    tl = "transcript_timeline"
    return st.sampled_from(
        [
            InvalidCase(
                {**base, tl: {"speakers": speakers, "entries": [{**entry, "speaker_index": 1}]}},
                f"{tl}.entries[0].speaker_index",
                frozenset({"invalid_range"}),
                "speaker_index out of range",
            ),
            InvalidCase(
                {**base, tl: {"speakers": speakers, "entries": [{**entry, "start_seconds": 3.0}]}},
                f"{tl}.entries[0]",
                frozenset({"invalid_range"}),
                "start after end",
            ),
            InvalidCase(
                {**base, tl: {"speakers": speakers, "entries": []}},
                f"{tl}.entries",
                frozenset({"too_short"}),
                "no entries",
            ),
            InvalidCase(
                {**base, tl: {"speakers": [], "entries": [entry]}},
                f"{tl}.speakers",
                frozenset({"too_short"}),
                "no speakers",
            ),
            InvalidCase(
                {**base, tl: {"speakers": speakers, "entries": [{**entry, "text": ""}]}},
                f"{tl}.entries[0].text",
                frozenset({"too_short"}),
                "empty entry text",
            ),
        ]
    )


def _bad_start_at(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.sampled_from(["2026-03-09T12:00:00", "yesterday", "2026-13-40T00:00:00Z", ""]).map(
        lambda v: _case(base, "start_at", v, {"invalid_type"}, f"start_at = {v!r}")
    )


def _bad_media_url_syntax(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.sampled_from(["recordings.example.com/a.mp3", "/a.mp3", "https://", "not a url"]).map(
        lambda v: _case(base, "media_url", v, {"invalid_url"}, f"media_url = {v!r}")
    )


def _media_policy(base: dict[str, Any]) -> st.SearchStrategy[InvalidCase]:
    return st.one_of(
        urls.private_media_urls().map(
            lambda u: _case(base, "media_url", u, {"private_address"}, f"media_url = {u!r}", "media")
        ),
        urls.insecure_media_urls().map(
            lambda u: _case(base, "media_url", u, {"insecure_scheme"}, f"media_url = {u!r}", "media")
        ),
    )


_INVALID_KINDS = (
    _missing_required,
    _missing_source,
    _too_long,
    _too_short,
    _wrong_type,
    _bad_enum,
    _unsafe_external_url,
    _invalid_external_url,
    _bad_participants,
    _bad_timeline,
    _bad_start_at,
    _bad_media_url_syntax,
    _media_policy,
)


def invalid_kind_names() -> list[str]:
    """Names of the invalid-payload families, for reports."""
    return [k.__name__.lstrip("_") for k in _INVALID_KINDS]
