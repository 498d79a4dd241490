"""The dataclass <-> JSON codec behind --state-file (typed decoders compiled once per record type)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from fake_askelephant.core.models import (
    CrmAssociation,
    Engagement,
    Participant,
    Speaker,
    TranscriptEntry,
    TranscriptTimeline,
)
from fake_askelephant.core.pipeline import PipelineOverrides
from fake_askelephant.persistence import codec


def roundtrip(tp: Any, value: Any) -> Any:
    return codec.loads(tp, codec.dumps(value))


def test_engagement_with_nested_records_round_trips() -> None:
    timeline = TranscriptTimeline(
        [Speaker(0, "Alice", "alice@example.com", is_owner=True, user_id="usr_1")],
        [TranscriptEntry(0, 0.0, 4.2, "Hi", sentiment=0.5), TranscriptEntry(0, 4.2, 9.0, "Bye")],
    )
    e = Engagement(
        "ngmt_1", "wrks_1", "Call", "CALL", "PROCESSING", False, False, 1, 2, 1, "usr_1", None, "dialer", "x-1",
        participants=(Participant("Alice", "alice@example.com", is_owner=True), Participant(phone="+1555")),
        submitted_timeline=timeline,
        crm_association=CrmAssociation("deal", "D-7", "hubspot"),
        participant_user_ids=["usr_1"],
    )  # fmt: skip
    back = roundtrip(Engagement, e)
    assert back == e
    assert isinstance(back.participants, tuple) and isinstance(back.participants[0], Participant)


def test_union_arms_are_picked_by_shape() -> None:
    canned = PipelineOverrides(action_items=[{"title": "Call back"}], signals="failed", delays={"transcript": 300.0})
    assert roundtrip(PipelineOverrides, canned) == canned
    assert roundtrip(PipelineOverrides, PipelineOverrides()) == PipelineOverrides()


@dataclass
class Old:
    name: str


@dataclass
class New:
    name: str
    tags: frozenset[str] = frozenset()
    history: deque[int] = field(default_factory=deque)
    blob: bytes = b""
    kind: Literal["a", "b"] = "a"
    _cache: str | None = None


def test_schema_evolution_defaults_new_fields_and_ignores_unknown_ones() -> None:
    assert codec.loads(New, codec.dumps(Old("x"))) == New("x")
    assert codec.loads(Old, codec.dumps(New("x", frozenset({"b", "a"})))) == Old("x")


def test_sets_deques_bytes_and_private_caches() -> None:
    value = New("x", frozenset({"b", "a"}), deque([1, 2]), b"\x00\xff", "b", _cache="skip me")
    data = codec.dumps(value)
    assert b"skip me" not in data and b'["a","b"]' in data
    back = roundtrip(New, value)
    assert back.tags == frozenset({"a", "b"}) and back.history == deque([1, 2]) and back.blob == b"\x00\xff"
    assert back._cache is None


def test_a_wrong_shape_names_its_path() -> None:
    entry = {"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": "hi"}
    assert codec.decode(TranscriptTimeline | None, None) is None
    with pytest.raises(codec.CodecError, match=r"^\$\.entries\[1\]: Expected `object`, got `int`$"):
        codec.decode(TranscriptTimeline, {"speakers": [], "entries": [entry, 3]})
    with pytest.raises(codec.CodecError, match=r"^\$\.entries\[0\]: Object missing required field `speaker_index`"):
        codec.decode(TranscriptTimeline, {"speakers": [], "entries": [{"text": "no times"}]})
    with pytest.raises(codec.CodecError, match=r"^\$\.version: Expected `int`, got `bool`$"):
        codec.loads(Engagement, codec.dumps(_engagement()).replace(b'"version":0', b'"version":true'))
    with pytest.raises(codec.CodecError, match=r"^\$: (JSON is malformed|Input data was truncated)"):
        codec.loads(Engagement, b'{"id": "ngmt_1", ')


def _engagement() -> Engagement:
    return Engagement(
        "ngmt_1", "wrks_1", "Call", "CALL", "PROCESSING", False, False, 1, 2, 1, "usr_1", None, "dialer", "x-1"
    )  # fmt: skip


def test_every_persisted_record_type_has_a_decoder() -> None:
    """A model change the typed decoder cannot follow (say, a union of two dataclasses) fails here, not at a
    user's start-up."""
    for tp in persisted_types():
        codec.check(tp)


def persisted_types() -> list[Any]:
    from fake_askelephant.core.events import Event
    from fake_askelephant.core.faults import FaultRule
    from fake_askelephant.core.pipeline import PipelineRun
    from fake_askelephant.core.rules import PipelineRule
    from fake_askelephant.persistence import state
    from fake_askelephant.webhooks.endpoints import WebhookEndpoint
    from fake_askelephant.webhooks.sink import SinkConfig, SinkRequest

    tables = [*state.WORKSPACE_TABLES.values(), *state.DIRECTORY_TABLES.values(), *state.STORE_TABLES.values()]
    return [tp for _, tp in tables] + [Event, FaultRule, PipelineRule, PipelineRun, SinkConfig, SinkRequest,
                                        WebhookEndpoint]  # fmt: skip


def test_runtime_only_fields_are_skipped() -> None:
    assert codec.to_plain(Old("x"), skip=("name",)) == {}
