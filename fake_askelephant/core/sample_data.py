"""The default workspace's seed data: a few faker-made teammates, companies, contacts and tags per --seed.

Small on purpose (start-up stays fast) and fixed per seed. Company domains use the reserved `.example`
TLD and contact emails read `first.last@domain`, so they never collide with addresses a client sends.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from faker import Generator
from faker.providers.company.en_US import Provider as CompanyProvider
from faker.providers.job.en_US import Provider as JobProvider
from faker.providers.person.en_US import Provider as PersonProvider

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


@cache
def _faker() -> Any:  # providers add their methods at run time, so the type checker cannot see them
    """Only the providers used here: a full Faker("en_US") costs ~0.15 s of start-up, this costs ~0."""
    fake = Generator()
    for provider in (PersonProvider, CompanyProvider, JobProvider):
        fake.add_provider(provider)
    return fake


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "company"


def sample_workspace(seed: int, workspace_id: str) -> WorkspaceFixture:
    rng = rng_for(seed, "sample-data", workspace_id)
    fake = _faker()
    fake.seed_instance(rng.getrandbits(32))

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
        first, last = fake.first_name(), fake.last_name()
        users.append(
            UserFixture(
                email=email(first, last, "example.com"),
                first_name=first,
                last_name=last,
                role=role,
                phone=phone(),
                job_title=fake.job()[:100],
                time_zone=rng.choice(TIME_ZONES),
            )
        )
    companies: list[CompanyFixture] = []
    contacts: list[ContactFixture] = []
    seen_domains: set[str] = set()
    for _ in range(COMPANIES):
        name = fake.company()
        domain = f"{_slug(name)}.example"
        if domain in seen_domains:
            domain = f"{_slug(name)}-{len(seen_domains)}.example"
        seen_domains.add(domain)
        companies.append(
            CompanyFixture(
                CompanyDraft(
                    domains=(CompanyDomain(domain, True),),
                    name=name,
                    description=fake.catch_phrase(),
                    industry=rng.choice(INDUSTRIES),
                    website=f"https://www.{domain}",
                    number_of_employees=rng.choice((12, 45, 180, 850, 4200)),
                )
            )
        )
        for _ in range(CONTACTS_PER_COMPANY):
            first, last = fake.first_name(), fake.last_name()
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
