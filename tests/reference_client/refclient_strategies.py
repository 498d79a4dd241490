"""Hypothesis strategies for valid WAVV calls (shared by the mapping and emulator round-trip tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from reference_client import CallDirection, WavvAgent, WavvCall, WavvLead

call_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)
# Real names: letters, marks, digits, punctuation and spaces from any script; no control characters.
names = st.text(
    st.characters(categories=["L", "M", "N", "P", "Zs"], exclude_characters="\u2028\u2029"),
    min_size=1,
    max_size=60,
)
emails = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,20}", fullmatch=True),
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True),
    st.sampled_from(["com", "io", "co.uk", "example"]),
)
phones = st.from_regex(r"\+?[1-9][0-9]{6,14}", fullmatch=True)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
starts = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1), timezones=offsets)


@st.composite
def wavv_calls(draw: st.DrawFn) -> WavvCall:
    call_id = draw(call_ids)
    agent = WavvAgent(
        id=draw(st.none() | call_ids),
        name=draw(st.none() | names),
        email=draw(emails),  # agents sign in to WAVV with an email
        phone=draw(st.none() | phones),
    )
    lead = draw(
        st.none()
        | st.builds(
            WavvLead,
            first_name=st.none() | names,
            last_name=st.none() | names,
            email=st.none() | emails,
            phone=st.none() | phones,
        )
    )
    started_at = draw(starts)
    length = draw(st.integers(min_value=0, max_value=3 * 3600))
    return WavvCall(
        call_id=call_id,
        agent=agent,
        lead=lead,
        direction=draw(st.sampled_from(list(CallDirection))),
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=length),
        recording_url=f"https://recordings.example.com/wavv/{call_id}.mp3",
        disposition=draw(st.none() | names.map(lambda s: s[:100])),
    )


def utc_ms(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
