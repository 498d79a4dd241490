"""The words generated content is made of: fixed lists here, and per seed a vocabulary drawn from them once.

Content version 2 (content.py) draws each call's names, companies and phrases from `vocabulary(seed)`: a few
hundred faker-style entries built on first use and cached, so a transcript costs a handful of list picks instead of
faker's template parsing per phrase (issue 23: 1.1 ms of a 1.4 ms clock advance per engagement). The lists are the
emulator's own, so one seed gives the same content whatever faker version is installed, and they avoid every word
the signal and commitment rules react to, so generated insights come from the call's script lines, as designed.
"""

from __future__ import annotations

from functools import lru_cache

from .records import dataclass
from .seeded import Draws

FIRST_NAMES = (
    "Aaliyah", "Amir", "Ana", "Ben", "Carmen", "Chloe", "Daniel", "Deepa", "Elena", "Ethan", "Fatima", "Grace",
    "Hiro", "Isaac", "Jamal", "Julia", "Kenji", "Laura", "Leon", "Maya", "Mei", "Nadia", "Noah", "Olivia",
    "Omar", "Priya", "Rafael", "Rosa", "Samuel", "Sofia", "Tomas", "Wei", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Alvarez", "Brooks", "Chen", "Cohen", "Diaz", "Edwards", "Fischer", "Garcia", "Hughes", "Ibrahim",
    "Jensen", "Kim", "Kowalski", "Lopez", "Martin", "Mensah", "Murphy", "Nakamura", "Novak", "Okafor", "Patel",
    "Quinn", "Rossi", "Schmidt", "Singh", "Tanaka", "Turner", "Walsh", "Weber", "Young", "Zhang",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "LLC", "Group", "Ltd", "PLC", "and Sons")
CATCH_PHRASE_WORDS = (
    ("Adaptive", "Automated", "Centralized", "Customer-focused", "Integrated", "Scalable", "Streamlined"),
    ("real-time", "cloud-based", "data-driven", "end-to-end", "mobile", "next-generation", "omnichannel"),
    ("platform", "workflow", "solution", "analytics", "pipeline", "framework", "service-desk"),
)
# "We <verb> <adjective> <noun>": how a prospect describes their process (faker's `bs()`, in a sales team's words).
PROCESS_WORDS = (
    (
        "log", "track", "route", "reconcile", "review", "tag", "share", "export", "summarize", "assign", "qualify",
        "transcribe", "score", "sync", "archive", "forward",
    ),
    (
        "inbound", "outbound", "weekly", "cross-team", "regional", "recorded", "open", "high-volume", "manual",
        "shared", "quarterly", "escalated", "missed", "warm",
    ),
    (
        "call notes", "lead lists", "handoffs", "call recordings", "account plans", "CRM updates", "coaching notes",
        "voicemails", "territories", "call dispositions", "renewal lists", "pipeline reviews", "talk tracks",
    ),
)  # fmt: skip
COMPANIES, PROCESSES, SLOGANS, PROSPECTS = 96, 128, 48, 64


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One seed's world: the companies its calls mention, how prospects describe their work, who they are."""

    companies: tuple[str, ...]
    processes: tuple[str, ...]
    slogans: tuple[str, ...]
    prospects: tuple[tuple[str, str], ...]  # (full name, email)
    # The small-talk lines a call is padded with, four kinds each for the owner and the prospect, every variant
    # made once: a transcript shares these strings instead of formatting its own (time and memory).
    owner_lines: tuple[tuple[str, ...], ...] = ()
    prospect_lines: tuple[tuple[str, ...], ...] = ()


def company_name(pick_last: tuple[str, str, str], form: int, suffix: str) -> str:
    """Shaped like faker's en_US companies: "Novak LLC", "Chen-Rossi", "Kim, Diaz and Weber"."""
    a, b, c = pick_last
    return (f"{a} {suffix}", f"{a}-{b}", f"{a}, {b} and {c}")[form % 3]


@lru_cache(maxsize=8)
def vocabulary(seed: int) -> Vocabulary:
    """Built once per seed (~1 ms) and kept: every engagement of that seed draws from it."""
    draws = Draws(seed, "vocabulary", 2)
    pick = draws.pick

    def distinct(count: int, make: object) -> tuple[str, ...]:
        made: dict[str, None] = {}
        while len(made) < count:
            made[make()] = None  # type: ignore[operator]
        return tuple(made)

    def company() -> str:
        lasts = (pick(LAST_NAMES), pick(LAST_NAMES), pick(LAST_NAMES))
        return company_name(lasts, draws.index(3), pick(COMPANY_SUFFIXES))

    companies = distinct(COMPANIES, company)
    processes = distinct(PROCESSES, lambda: " ".join(pick(words) for words in PROCESS_WORDS))
    slogans = distinct(SLOGANS, lambda: " ".join(pick(words) for words in CATCH_PHRASE_WORDS))
    prospects: list[tuple[str, str]] = []
    for _ in range(PROSPECTS):
        first, last, where = pick(FIRST_NAMES), pick(LAST_NAMES), pick(companies)
        domain = "".join(ch for ch in where.split()[0].split(",")[0].lower() if ch.isalpha())
        # The reserved .example TLD: a generated address never collides with one a client sends.
        prospects.append((f"{first} {last}", f"{first.lower()}.{last.lower()}@{domain}.example"))
    owner_lines = (
        ("Can you say more about how that works day to day?",),
        ("That's helpful, thank you.",),
        tuple(f"A lot of teams your size tell us they want to {p}." for p in processes),
        ("How many people would be using it on your side?",),
    )
    prospect_lines = (
        tuple(f"We {p} across {n} teams." for p in processes for n in range(2, 10)),
        tuple(f"Our goal this year is to {p}." for p in processes),
        tuple(f"\u201c{slogan}\u201d is how our CEO describes it." for slogan in slogans),
        tuple(f"Right now it's about {n} calls a week." for n in range(20, 401)),
    )
    return Vocabulary(companies, processes, slogans, tuple(prospects), owner_lines, prospect_lines)
