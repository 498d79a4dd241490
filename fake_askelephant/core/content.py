"""Seeded, faker-made call content: a transcript timeline and insights grounded in it (api.md §7).

Same seed and request → same transcript and insights, on every machine. Insights are derived from the
timeline text (also for submitted timelines), so every action item paraphrases a real line and every
signal quotes a substring of a real entry.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from .models import Participant, SignalType, Speaker, TranscriptEntry, TranscriptTimeline

# Signal detection: first matching entry per type, in this order (emulator choice).
_SIGNAL_PATTERNS: tuple[tuple[SignalType, str, str], ...] = (
    ("pricing", "Pricing question", r"\b(pric\w*|cost\w*|billing|budget|discount|quote|per seat)\b"),
    ("competitor", "Competitor mentioned", r"\b(also looking at|competitor\w*|alternative\w*|switch(ing)? from)\b"),
    ("objection", "Objection raised", r"\b(not sure|concern\w*|worried|too expensive|hesitant)\b"),
    (
        "buying_intent",
        "Buying intent",
        r"\b(exactly what we need|move forward|ready to (start|buy|sign)|interested in)\b",
    ),
    ("risk", "Deal risk", r"\b(legal|security review|procurement|approval|freeze|delay\w*)\b"),
    ("next_step", "Next step agreed", r"\b(follow[- ]up|next step\w*|schedule|demo|call back)\b"),
)
SIGNAL_RULES = tuple((kind, label, re.compile(pattern, re.IGNORECASE)) for kind, label, pattern in _SIGNAL_PATTERNS)
COMMITMENT = re.compile(r"\b(?:I'll|I will|We'll|We will|Let me)\s+([^.?!]{4,160})", re.IGNORECASE)
SENTENCE = re.compile(r"[^.?!]+[.?!]?")

if TYPE_CHECKING:
    from faker import Faker


@cache
def _faker() -> Faker:
    # Imported on first use: faker is the heaviest import and start-up is paid by every CI job (benchmarks/).
    from faker import Faker

    return Faker("en_US")


def rng_for(*parts: object) -> random.Random:
    """A Random seeded from the parts' text; str seeds are hashed with SHA-512, stable across processes."""
    return random.Random(":".join(str(p) for p in parts))


def media_duration(seed: int, url: str) -> int:
    """Offline media duration: f(seed, URL) in 60–1,200 s (api.md §5.4)."""
    return rng_for(seed, "media", url).randint(60, 1200)


def timeline_duration(timeline: TranscriptTimeline) -> int:
    return max(1, math.ceil(max((e.end_seconds for e in timeline.entries), default=1)))


@dataclass(frozen=True)
class SpeakerSeed:
    """Who speaks, resolved against workspace users by the caller."""

    name: str
    email: str | None
    phone: str | None
    is_owner: bool
    user_id: str | None


def speakers_for(participants: Sequence[SpeakerSeed], owner: SpeakerSeed, rng: random.Random) -> list[Speaker]:
    """Participants with the owner first; a call sent without participants gets the owner and a prospect."""
    ordered = sorted(participants, key=lambda p: not p.is_owner)
    if not ordered:
        fake = _faker()
        fake.seed_instance(rng.getrandbits(32))
        ordered = [owner, SpeakerSeed(fake.name(), fake.email(), None, False, None)]
    return [Speaker(i, p.name, p.email, p.phone, p.is_owner, p.user_id) for i, p in enumerate(ordered)]


def participant_name(p: Participant) -> str:
    return p.name or p.email or p.phone or "Unknown"


def _script(
    rng: random.Random, owner_first: str, other_first: str
) -> tuple[list[tuple[bool, str]], list[Callable[[], str]], list[Callable[[], str]]]:
    """(spoken by owner?, text) lines of a sales call that carries every signal type and one commitment."""
    fake = _faker()
    fake.seed_instance(rng.getrandbits(32))
    company, rival = fake.company(), fake.company()
    day = rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"])
    seats = rng.choice([10, 15, 25, 40, 60])
    lines = [
        (True, f"Hi {other_first}, thanks for taking the call today."),
        (False, f"Sure, happy to chat. I'm {other_first}, I run operations at {company}."),
        (True, "Could you walk me through how your team handles calls right now?"),
        (False, f"Honestly it's manual. We {fake.bs()} and notes get lost between reps."),
        (False, f"We're also looking at {rival}, so I want to compare."),
        (True, "That makes sense. Most teams we work with start by syncing every call automatically."),
        (False, f"What would annual billing cost us for about {seats} seats?"),
        (True, "It depends on the plan, but annual billing comes with a discount."),
        (False, "I'm not sure we have budget left this quarter, to be honest."),
        (False, "Legal will need a security review before we sign anything."),
        (False, f"But this looks like exactly what we need for {company}."),
        (True, f"I'll send over the pricing proposal and the security documents by {day}."),
        (True, f"Let's schedule a follow-up on {day} with your legal team."),
        (False, f"Perfect. Thanks {owner_first}, talk soon."),
    ]
    owner_filler = [
        lambda: "Can you say more about how that works day to day?",
        lambda: "That's helpful, thank you.",
        lambda: f"A lot of teams your size tell us they want to {fake.bs()}.",
        lambda: "How many people would be using it on your side?",
    ]
    other_filler = [
        lambda: f"We {fake.bs()} across {rng.randint(2, 9)} teams.",
        lambda: f"Our goal this year is to {fake.bs()}.",
        lambda: f"\u201c{fake.catch_phrase()}\u201d is how our CEO describes it.",
        lambda: f"Right now it's about {rng.randint(20, 400)} calls a week.",
    ]
    return lines, owner_filler, other_filler


def generate_timeline(speakers: list[Speaker], duration: int, rng: random.Random) -> TranscriptTimeline:
    """A plausible conversation spread over the call, every speaker getting lines."""
    owner_first = speakers[0].name.split()[0]
    other = speakers[1] if len(speakers) > 1 else speakers[0]
    lines, owner_filler, other_filler = _script(rng, owner_first, other.name.split()[0])
    target = max(len(lines), min(60, duration // 20))
    while len(lines) < target:
        by_owner = rng.random() < 0.4
        lines.insert(
            rng.randint(3, len(lines) - 3), (by_owner, rng.choice(owner_filler if by_owner else other_filler)())
        )
    others = [s.speaker_index for s in speakers[1:]] or [0]
    slot = duration / len(lines)
    entries: list[TranscriptEntry] = []
    for i, (by_owner, text) in enumerate(lines):
        speaker = 0 if by_owner else others[i % len(others)]
        start = round(i * slot + rng.uniform(0, slot * 0.2), 1)
        end = round(min(start + max(1.0, min(slot * 0.9, len(text) / 14)), duration), 1)
        entries.append(TranscriptEntry(speaker, start, max(start, end), text, round(rng.uniform(-0.3, 0.9), 2)))
    return TranscriptTimeline(speakers, entries)


def timeline_from_text(
    transcript: str, speakers: list[Speaker], duration: int, rng: random.Random
) -> TranscriptTimeline:
    """Turn a submitted plain transcript into a timeline: `Name: text` lines keep their speaker."""
    by_name = {s.name.casefold(): s.speaker_index for s in speakers}
    raw = [line.strip() for line in transcript.splitlines() if line.strip()][:20_000]
    if not raw:
        return generate_timeline(speakers, duration, rng)
    slot = duration / len(raw)
    entries = []
    for i, line in enumerate(raw):
        name, sep, text = line.partition(":")
        speaker = by_name.get(name.strip().casefold()) if sep else None
        if speaker is None:
            speaker, text = i % len(speakers), line
        text = (text.strip() or line)[:10_000]
        start = round(i * slot, 1)
        entries.append(
            TranscriptEntry(speaker, start, round(start + slot * 0.9, 1), text, round(rng.uniform(-0.3, 0.9), 2))
        )
    return TranscriptTimeline(speakers, entries)


@dataclass(frozen=True)
class SignalDraft:
    type: SignalType
    label: str
    quote: str
    speaker_index: int
    start_seconds: float
    confidence: float


@dataclass(frozen=True)
class ActionItemDraft:
    title: str
    description: str
    speaker_index: int
    due_weekday: int | None


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _sentence_with(text: str, match: re.Match[str]) -> str:
    """The sentence of `text` holding the match: a verbatim substring, so a signal's quote is checkable."""
    for sentence in SENTENCE.finditer(text):
        if sentence.start() <= match.start() < sentence.end():
            return sentence.group().strip() or text
    return text


def derive_signals(timeline: TranscriptTimeline, rng: random.Random) -> list[SignalDraft]:
    found: list[SignalDraft] = []
    for kind, label, pattern in SIGNAL_RULES:
        for entry in timeline.entries:
            m = pattern.search(entry.text)
            if m:
                found.append(
                    SignalDraft(
                        kind,
                        label,
                        _sentence_with(entry.text, m),
                        entry.speaker_index,
                        entry.start_seconds,
                        round(rng.uniform(0.6, 0.97), 2),
                    )
                )
                break
    if not found:
        last = timeline.entries[-1]
        found.append(
            SignalDraft(
                "next_step",
                "Next step agreed",
                last.text,
                last.speaker_index,
                last.start_seconds,
                round(rng.uniform(0.5, 0.7), 2),
            )
        )
    return found


def derive_action_items(timeline: TranscriptTimeline) -> list[ActionItemDraft]:
    names = {s.speaker_index: s.name for s in timeline.speakers}
    items: list[ActionItemDraft] = []
    for entry in timeline.entries:
        m = COMMITMENT.search(entry.text)
        if not m:
            continue
        phrase = m.group(1).strip().rstrip(",;")
        weekday = next((i for i, d in enumerate(_WEEKDAYS) if d in phrase.lower()), None)
        title = phrase[0].upper() + phrase[1:]
        who = names.get(entry.speaker_index, "Someone")
        items.append(
            ActionItemDraft(
                title[:200], f"{who} will {phrase} (at {_mmss(entry.start_seconds)}).", entry.speaker_index, weekday
            )
        )
        if len(items) == 3:
            break
    if not items:
        last = timeline.entries[-1]
        other = next(
            (s.name for s in timeline.speakers if not s.is_owner), names.get(last.speaker_index, "the contact")
        )
        items.append(
            ActionItemDraft(
                f"Follow up with {other}",
                f"Follow up on: \u201c{last.text[:300]}\u201d (at {_mmss(last.start_seconds)}).",
                0,
                None,
            )
        )
    return items


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"
