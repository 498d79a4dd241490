"""The default workspace's seed data: a few teammates, companies, contacts and tags per --seed.

Small on purpose and fixed per seed. Names come from the short lists below rather than faker: importing
faker scans all its locale packages (~0.04 s, most of what seed data used to add to start-up), and content.py
loads it anyway on the first transcript. Company domains use the reserved `.example` TLD and contact emails
read `first.last@domain`, so they never collide with addresses a client sends.
"""

from __future__ import annotations

import random
import re

from .companies import CompanyDraft
from .contacts import ContactDraft
from .content import rng_for
from .fixtures import CompanyFixture, ContactFixture, TagFixture, UserFixture, WorkspaceFixture
from .models import CompanyDomain, EmailAddress, PhoneNumber

TEAM_ROLES = ("MANAGER", "MEMBER", "INACTIVE", "NOT_INVITED")  # the last two never own engagements
COMPANIES = 3
CONTACTS_PER_COMPANY = 2
TAG_NAMES = ("Discovery", "Demo", "Negotiation", "Closed won", "Churn risk", "Renewal")
TAGS = 4
INDUSTRIES = ("Software", "Healthcare", "Logistics", "Financial services", "Manufacturing", "Retail")
TIME_ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
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
JOB_TITLES = (
    "Account Executive", "Sales Development Representative", "Customer Success Manager", "Sales Manager",
    "Solutions Engineer", "Revenue Operations Analyst", "Head of Sales", "Account Manager",
    "Sales Enablement Lead", "VP of Customer Experience",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "LLC", "Group", "Ltd", "PLC", "and Sons")
CATCH_PHRASE_WORDS = (
    ("Adaptive", "Automated", "Centralized", "Customer-focused", "Integrated", "Scalable", "Streamlined"),
    ("real-time", "cloud-based", "data-driven", "end-to-end", "mobile", "next-generation", "omnichannel"),
    ("platform", "workflow", "solution", "analytics", "pipeline", "framework", "service-desk"),
)


def _company_name(rng: random.Random) -> str:
    """Shaped like faker's en_US companies: "Novak LLC", "Chen-Rossi", "Kim, Diaz and Weber"."""
    a, b, c = rng.sample(LAST_NAMES, 3)
    return rng.choice((f"{a} {rng.choice(COMPANY_SUFFIXES)}", f"{a}-{b}", f"{a}, {b} and {c}"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "company"


def sample_workspace(seed: int, workspace_id: str) -> WorkspaceFixture:
    rng = rng_for(seed, "sample-data", workspace_id)

    taken: set[str] = set()

    def email(first: str, last: str, domain: str) -> str:
        base = f"{_slug(first)}.{_slug(last)}"
        local = next(f"{base}{n or ''}" for n in range(len(taken) + 1) if f"{base}{n or ''}@{domain}" not in taken)
        taken.add(f"{local}@{domain}")
        return f"{local}@{domain}"

    def phone() -> str:
        return f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"

    users = []
    for role in TEAM_ROLES:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        users.append(
            UserFixture(
                email=email(first, last, "example.com"),
                first_name=first,
                last_name=last,
                role=role,
                phone=phone(),
                job_title=rng.choice(JOB_TITLES),
                time_zone=rng.choice(TIME_ZONES),
            )
        )
    companies: list[CompanyFixture] = []
    contacts: list[ContactFixture] = []
    seen_domains: set[str] = set()
    for _ in range(COMPANIES):
        name = _company_name(rng)
        domain = f"{_slug(name)}.example"
        if domain in seen_domains:
            domain = f"{_slug(name)}-{len(seen_domains)}.example"
        seen_domains.add(domain)
        companies.append(
            CompanyFixture(
                CompanyDraft(
                    domains=(CompanyDomain(domain, True),),
                    name=name,
                    description=" ".join(rng.choice(words) for words in CATCH_PHRASE_WORDS),
                    industry=rng.choice(INDUSTRIES),
                    website=f"https://www.{domain}",
                    number_of_employees=rng.choice((12, 45, 180, 850, 4200)),
                )
            )
        )
        for _ in range(CONTACTS_PER_COMPANY):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contacts.append(
                ContactFixture(
                    ContactDraft(
                        first_name=first,
                        last_name=last,
                        emails=(EmailAddress(email(first, last, domain), True),),
                        phone_numbers=(PhoneNumber(phone(), True),),
                        time_zone=rng.choice(TIME_ZONES),
                    ),
                    company=domain,
                )
            )
    tags = tuple(TagFixture(name) for name in rng.sample(TAG_NAMES, TAGS))
    return WorkspaceFixture(workspace_id, tuple(users), tuple(companies), tuple(contacts), tags)
