"""Seeded call content: a transcript timeline and insights grounded in it (api.md §7), derived, never stored.

Same seed and engagement → same transcript and insights, on every machine. Insights are derived from the
timeline text (also for submitted timelines), so every action item paraphrases a real line and every
signal quotes a substring of a real entry. core/derived.py calls these when content is read or delivered.

CONTENT_VERSION names the generator: version 2 (issue 22/23) draws names, companies and phrases from a per-seed
vocabulary (core/vocabulary.py) with a SHAKE-128 stream (seeded.Draws) instead of calling faker per phrase, which
took ~1.1 ms per engagement; the same seed gives different words than version 1 did (docs/emulator-choices.md).
Version 3 (issue 20 §6): a submitted plain `transcript` is supplementary text; the media is transcribed as for any
call, where version 2 turned the submitted lines into the timeline.
"""

from __future__ import annotations

import _random
import math
import random
import re
from collections.abc import Sequence
from functools import lru_cache
from hashlib import sha512

from .models import Participant, SignalType, Speaker, TranscriptEntry, TranscriptTimeline
from .records import dataclass
from .seeded import Draws
from .vocabulary import Vocabulary

CONTENT_VERSION = 3

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
# Matches where any signal rule matches: one search per entry finds the few entries worth testing rule by rule.
_ANY_SIGNAL = re.compile("|".join(f"(?:{pattern.pattern})" for _, _, pattern in SIGNAL_RULES), re.IGNORECASE)


def seed_text(*parts: object) -> str:
    """The text a stream of `parts` is seeded with (str seeds are hashed with SHA-512: stable across processes)."""
    return ":".join(map(str, parts))


def rng_for(*parts: object) -> random.Random:
    """A Random seeded from the parts' text."""
    return random.Random(seed_text(*parts))


def reseed(rng: random.Random, text: str) -> None:
    """`rng.seed(text)` for a plain random.Random that never draws gauss(): the same state (version 2 seeding, a
    str hashed with SHA-512), without Random.seed's Python-level dispatch (two streams are seeded per create)."""
    raw = text.encode()
    _random.Random.seed(rng, int.from_bytes(raw + sha512(raw).digest(), "big"))


_MEDIA_SPAN = 1200 - 60 + 1
_MEDIA_BITS = _MEDIA_SPAN.bit_length()


def media_duration(seed: int, url: str, rng: random.Random | None = None) -> int:
    """Offline media duration: f(seed, URL) in 60–1,200 s (api.md §5.4). `rng`: a generator to reseed instead
    of a new one (its 2.5 KB state per call)."""
    if rng is None:
        rng = random.Random()
    reseed(rng, f"{seed}:media:{url}")  # seed_text(seed, "media", url)
    # randint(60, 1200) as random.Random draws it (randrange → _randbelow_with_getrandbits), without its calls.
    r = rng.getrandbits(_MEDIA_BITS)
    while r >= _MEDIA_SPAN:
        r = rng.getrandbits(_MEDIA_BITS)
    return 60 + r


def timeline_duration(timeline: TranscriptTimeline) -> int:
    return max(1, math.ceil(max((e.end_seconds for e in timeline.entries), default=1)))


@dataclass(frozen=True, slots=True)
class SpeakerSeed:
    """Who speaks, resolved against workspace users by the caller."""

    name: str
    email: str | None
    phone: str | None
    is_owner: bool
    user_id: str | None


def speakers_for(
    participants: Sequence[SpeakerSeed], owner: SpeakerSeed, draws: Draws, vocab: Vocabulary
) -> list[Speaker]:
    """Participants with the owner first; a call sent without participants gets the owner and a prospect."""
    ordered = sorted(participants, key=lambda p: not p.is_owner)
    if not ordered:
        name, email = draws.pick(vocab.prospects)
        ordered = [owner, SpeakerSeed(name, email, None, False, None)]
    return [Speaker(i, p.name, p.email, p.phone, p.is_owner, p.user_id) for i, p in enumerate(ordered)]


def participant_name(p: Participant) -> str:
    return p.name or p.email or p.phone or "Unknown"


SCRIPT_LINES = 14  # len(_script(...)): every call says these, the rest is small talk
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_SEATS = (10, 15, 25, 40, 60)
_U32 = 2.0**-32
_OWNER_SHARE = int(0.4 * 2**32)  # a filler line is the owner's 40 % of the time


def _script(
    first: str, other: str, company: str, rival: str, process: str, day: str, seats: int
) -> list[tuple[bool, str]]:
    """(spoken by owner?, text) lines of a sales call that carries every signal type and one commitment."""
    return [
        (True, f"Hi {other}, thanks for taking the call today."),
        (False, f"Sure, happy to chat. I'm {other}, I run operations at {company}."),
        (True, "Could you walk me through how your team handles calls right now?"),
        (False, f"Honestly it's manual. We {process} and notes get lost between reps."),
        (False, f"We're also looking at {rival}, so I want to compare."),
        (True, "That makes sense. Most teams we work with start by syncing every call automatically."),
        (False, f"What would annual billing cost us for about {seats} seats?"),
        (True, "It depends on the plan, but annual billing comes with a discount."),
        (False, "I'm not sure we have budget left this quarter, to be honest."),
        (False, "Legal will need a security review before we sign anything."),
        (False, f"But this looks like exactly what we need for {company}."),
        (True, f"I'll send over the pricing proposal and the security documents by {day}."),
        (True, f"Let's schedule a follow-up on {day} with your legal team."),
        (False, f"Perfect. Thanks {first}, talk soon."),
    ]


def generate_timeline(speakers: list[Speaker], duration: int, draws: Draws, vocab: Vocabulary) -> TranscriptTimeline:
    """A plausible conversation spread over the call, every speaker getting lines."""
    other = speakers[1] if len(speakers) > 1 else speakers[0]
    target = max(SCRIPT_LINES, min(60, duration // 20))
    extra = target - SCRIPT_LINES
    draw = iter(draws.words(5 + 3 * extra + 2 * target)).__next__  # every draw this call makes, in one batch
    companies = vocab.companies
    at = draw() % len(companies)
    rival = companies[(at + 1 + draw() % (len(companies) - 1)) % len(companies)]  # never the prospect's own
    lines = _script(
        speakers[0].name.split()[0],
        other.name.split()[0],
        companies[at],
        rival,
        vocab.processes[draw() % len(vocab.processes)],
        _DAYS[draw() % len(_DAYS)],
        _SEATS[draw() % len(_SEATS)],
    )
    owner_lines, prospect_lines, insert = vocab.owner_lines, vocab.prospect_lines, lines.insert
    # Small talk anywhere but the first three and the last two lines: `room` is len(lines) - 5 as lines grow.
    for room in range(SCRIPT_LINES - 5, target - 5):
        by_owner = draw() < _OWNER_SHARE
        at = 3 + draw() % room
        pick = draw()  # the kind of line (one of four), then which variant of it
        variants = (owner_lines if by_owner else prospect_lines)[pick % 4]
        insert(at, (by_owner, variants[(pick >> 2) % len(variants)]))
    # Times in whole tenths of a second and sentiment in hundredths, straight from the integer draws: `round()`
    # per value cost more than the rest of the loop.
    others = [s.speaker_index for s in speakers[1:]] or [0]
    n_others = len(others)
    slot10 = duration * 10 / target
    jitter = slot10 * 0.2 * _U32
    longest10 = int(slot10 * 0.9)
    end_cap = duration * 10
    sentiments = _SENTIMENTS
    entries: list[TranscriptEntry] = []
    add = entries.append
    for i, (by_owner, text) in enumerate(lines):
        start = int(i * slot10 + draw() * jitter)
        span = len(text) * 10 // 14  # tenths of a second at 14 characters per second
        if span > longest10:
            span = longest10
        end = start + (span if span > 10 else 10)  # at least a second
        if end > end_cap:
            end = end_cap if end_cap > start else start
        speaker = 0 if by_owner else others[i % n_others]
        add(TranscriptEntry(speaker, start / 10, end / 10, text, sentiments[draw() % 121]))
    return TranscriptTimeline(speakers, entries)


# (w % 121 - 30) / 100 for each w % 121: a sentiment in hundredths from one draw, computed once.
_SENTIMENTS = tuple((v - 30) / 100 for v in range(121))


# A signal before it has an id: (type, label, quote, speaker_index, start_seconds, confidence), the order of
# Signal's fields. A plain tuple: six of them per call, and a dataclass each cost more than the rest of insights.
SignalDraft = tuple[SignalType, str, str, int, float, float]


@dataclass(slots=True)
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


_NO_FACTS: tuple[tuple[tuple[int, str], ...], str | None] = ((), None)  # what most lines hold: one shared object


@lru_cache(maxsize=16_384)
def _line_facts(text: str) -> tuple[tuple[tuple[int, str], ...], str | None]:
    """What insights can see in one line: (rule, quoted sentence) for every signal rule that matches, at its first
    match, and what the speaker commits to, if anything (`_NO_FACTS` itself when nothing).

    Memoised: generated transcripts repeat most of their lines across calls, and a regex search costs a few µs
    per line, most of a transcript's budget (issue 23: ≤ 0.1 ms per engagement).
    """
    hits = []
    if _ANY_SIGNAL.search(text) is not None:
        for rule, (_, _, pattern) in enumerate(SIGNAL_RULES):
            m = pattern.search(text)
            if m:
                hits.append((rule, _sentence_with(text, m)))
    committed = COMMITMENT.search(text)
    if not hits and committed is None:
        return _NO_FACTS
    return tuple(hits), committed.group(1) if committed else None


@lru_cache(maxsize=4096)
def _commitment(committed: str) -> tuple[str, str, int | None]:
    """(phrase, title, weekday named in it) of what a line commits to; memoised like the line's facts."""
    phrase = committed.strip().rstrip(",;")
    weekday = next((i for i, d in enumerate(_WEEKDAYS) if d in phrase.lower()), None)
    return phrase, (phrase[0].upper() + phrase[1:])[:200], weekday


@dataclass(frozen=True, slots=True)
class InsightDrafts:
    action_items: list[ActionItemDraft]
    signals: list[SignalDraft]


def derive_insights(timeline: TranscriptTimeline, draws: Draws) -> InsightDrafts:
    """Both insights in one pass over the timeline.

    Signals: per rule, in rule order, the entry it matches first (the sentence holding the match is the quote);
    none found → the last entry as a next step. Action items: the first three commitments ("I'll …", "Let me …");
    none → a follow-up with the other party.
    """
    entries = timeline.entries
    first: dict[int, tuple[TranscriptEntry, str]] = {}
    commitments: list[tuple[TranscriptEntry, str]] = []
    # The memo's answers for every line at C speed, then Python only for the few lines that hold anything.
    for entry, facts in zip(entries, map(_line_facts, [entry.text for entry in entries]), strict=True):
        if facts is _NO_FACTS:
            continue
        hits, committed = facts
        for rule, quote in hits:
            if rule not in first:
                first[rule] = entry, quote
        if committed is not None and len(commitments) < 3:
            commitments.append((entry, committed))
    confidence = draws.words(len(SIGNAL_RULES))  # drawn in rule order, one per signal found
    signals: list[SignalDraft] = []
    for rule, (kind, label, _) in enumerate(SIGNAL_RULES):
        if rule in first:
            entry, quote = first[rule]
            signals.append(
                (
                    kind,
                    label,
                    quote,
                    entry.speaker_index,
                    entry.start_seconds,
                    (60 + confidence[len(signals)] % 38) / 100,
                )
            )
    last = entries[-1]
    if not signals:
        signals.append(
            (
                "next_step",
                "Next step agreed",
                last.text,
                last.speaker_index,
                last.start_seconds,
                (50 + confidence[0] % 21) / 100,
            )
        )
    names = {s.speaker_index: s.name for s in timeline.speakers}
    items: list[ActionItemDraft] = []
    for entry, committed in commitments:
        phrase, title, weekday = _commitment(committed)
        who = names.get(entry.speaker_index, "Someone")
        items.append(
            ActionItemDraft(
                title, f"{who} will {phrase} (at {_mmss(entry.start_seconds)}).", entry.speaker_index, weekday
            )
        )
    if not items:
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
    return InsightDrafts(items, signals)


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"
