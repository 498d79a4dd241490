"""Directory.merged (a restore adopting a directory built aside over start-up seed data): the same records, in the
same order, and the same lookups as putting the staged records in one by one and rebuilding the lookups."""

from __future__ import annotations

import random

import pytest

from fake_askelephant.core.directory import Directory
from fake_askelephant.core.models import Company, CompanyDomain, Contact, EmailAddress, PhoneNumber


def contact(rng: random.Random, n: int) -> Contact:
    # Few distinct emails and phones: keys are shared, so which record holds a key depends on the order.
    emails = [EmailAddress(f"p{rng.randrange(12)}@x.example") for _ in range(rng.randrange(3))]
    phones = [PhoneNumber(f"+1555000{rng.randrange(8)}") for _ in range(rng.randrange(2))]
    return Contact(f"cont_{n}", "wrks_a", 0, 0, emails=emails, phone_numbers=phones)


def company(rng: random.Random, n: int) -> Company:
    return Company(f"comp_{n}", "wrks_a", 0, 0, domains=[CompanyDomain(f"d{rng.randrange(6)}.example")])


def directory(rng: random.Random, ids: list[int]) -> Directory:
    d = Directory()
    for n in ids:
        d.contacts[f"cont_{n}"] = contact(rng, n)
        d.companies[f"comp_{n}"] = company(rng, n)
    return d


@pytest.mark.parametrize("seed", range(40))
def test_merged_equals_inserting_one_by_one_and_rebuilding(seed: int) -> None:
    rng = random.Random(seed)
    own = directory(rng, rng.sample(range(30), rng.randrange(0, 8)))  # start-up seed data (maybe none)
    staged = directory(rng, rng.sample(range(30), rng.randrange(0, 20)))  # ids in both: staged's value wins
    staged.rebuild_indexes()
    expected = Directory(contacts=dict(own.contacts), companies=dict(own.companies))
    for contact_id, person in staged.contacts.items():
        expected.contacts[contact_id] = person
    for company_id, firm in staged.companies.items():
        expected.companies[company_id] = firm
    expected.rebuild_indexes()

    got = own.merged(staged)
    assert list(got.contacts.items()) == list(expected.contacts.items())
    assert list(got.companies.items()) == list(expected.companies.items())
    assert got.contact_by_email == expected.contact_by_email
    assert got.contact_by_phone == expected.contact_by_phone
    assert got.company_by_domain == expected.company_by_domain
