"""Seed data: the generated default workspace, `--fixtures FILE`, `POST /__admin/fixtures`, reset, users."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from fake_askelephant.api.admin.seed_start import SeedDataError
from fake_askelephant.app import create_app
from fake_askelephant.cli import main
from fake_askelephant.config import ConfigError, load_settings
from tests.conftest import Api, frozen_settings, problem

FIXTURE_YAML = """\
users:
  - {email: rita@acme.example, first_name: Rita, last_name: Rep, role: MANAGER, phone: "+14155550123"}
  - {email: gone@acme.example, first_name: Gus, role: INACTIVE}
  - {email: invited@acme.example, role: NOT_INVITED}
companies:
  - id: cmp_ACME
    name: Acme
    domains: [{domain: "https://www.acme-customer.example"}]
    industry: Anvils
    number_of_employees: 120
    crm_association: {object_type: company, crm_object_id: "12345", source: hubspot}
contacts:
  - id: cnt_JANE
    first_name: Jane
    last_name: Doe
    emails: [{email: jane@customer.com}]
    phone_numbers: [{phone_number: "+14155550100"}]
    company: acme-customer.example
  - {first_name: Wile, emails: [{email: wile@acme-customer.example}]}
tags:
  - {id: tag_HOT, name: Hot lead}
  - {name: Demo}
workspaces:
  - workspace_id: wrks_other
    tags: [{name: Theirs}]
"""


async def listing(api: Api, path: str, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
    kwargs = {"key": key} if key else {}
    resp = await api.call("GET", f"/api/v2/{path}?" + urlencode({"limit": 100, **params}), **kwargs)
    assert resp.status == 200, await resp.text()
    data: list[dict[str, Any]] = (await resp.json())["data"]
    return data


async def event_types(api: Api) -> list[str]:
    return [e["type"] for e in (await (await api.client.get("/__admin/events")).json())["data"]]


def fixture_file(tmp_path: Path, text: str = FIXTURE_YAML) -> str:
    path = tmp_path / "seed.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# The generated default workspace -------------------------------------------------------------------


async def test_default_sample_workspace_is_small_linked_and_silent(make_api: Any) -> None:
    api = await make_api(frozen_settings(fixtures="sample"))
    users = await listing(api, "users")
    assert sorted(u["role"] for u in users) == ["INACTIVE", "MANAGER", "MEMBER", "NOT_INVITED", "OWNER"]
    companies = await listing(api, "companies")
    contacts = await listing(api, "contacts")
    tags = await listing(api, "tags")
    assert (len(companies), len(contacts), len(tags)) == (3, 6, 4)
    assert all(c["domains"][0]["domain"].endswith(".example") for c in companies)
    company_ids = {c["id"] for c in companies}
    assert all(c["company"]["id"] in company_ids for c in contacts)
    assert await event_types(api) == []  # the world before start-up is announced to nobody


async def test_sample_workspace_is_fixed_per_seed(make_api: Any) -> None:
    async def snapshot(seed: int) -> list[Any]:
        api = await make_api(frozen_settings(fixtures="sample", seed=seed))
        return [await listing(api, path) for path in ("users", "companies", "contacts", "tags")]

    first, again, other = await snapshot(1), await snapshot(1), await snapshot(2)
    assert first == again
    assert [c["name"] for c in first[1]] != [c["name"] for c in other[1]]


async def test_sample_data_leaves_engagement_ids_unchanged(make_api: Any) -> None:
    """Seed data draws ids from its own stream, so API-made ids match a run without it."""
    bare = await (await (await make_api()).create()).json()
    seeded = await (await (await make_api(frozen_settings(fixtures="sample"))).create()).json()
    assert bare["id"] == seeded["id"]


async def test_sample_users_drive_owner_matching(make_api: Any) -> None:
    api = await make_api(frozen_settings(fixtures="sample"))
    users = {u["role"]: u for u in await listing(api, "users")}

    async def owner_for(role: str, n: int) -> str:
        email = users[role]["emails"][0]["email"]
        resp = await api.create(
            external_id=f"c{n}", participants=[{"name": "X", "email": email.upper(), "is_owner": True}]
        )
        return str((await resp.json())["owner_user_id"])

    assert await owner_for("MANAGER", 1) == users["MANAGER"]["id"]
    assert await owner_for("MEMBER", 2) == users["MEMBER"]["id"]
    assert await owner_for("INACTIVE", 3) == "usr_local"  # cannot own: the key's user does
    assert await owner_for("NOT_INVITED", 4) == "usr_local"


# --fixtures FILE -----------------------------------------------------------------------------------


async def test_fixture_file_loads_users_companies_contacts_tags(make_api: Any, tmp_path: Path) -> None:
    api = await make_api(frozen_settings(fixtures=fixture_file(tmp_path)))
    users = {u["emails"][0]["email"]: u for u in await listing(api, "users")}
    assert users["rita@acme.example"]["role"] == "MANAGER" and users["gone@acme.example"]["role"] == "INACTIVE"
    (acme,) = await listing(api, "companies")
    assert acme["id"] == "cmp_ACME" and acme["domains"] == [{"domain": "acme-customer.example", "is_primary": True}]
    assert acme["industry"] == "Anvils" and acme["number_of_employees"] == 120
    assert acme["crm_association"] == {"object_type": "company", "crm_object_id": "12345", "source": "hubspot"}
    contacts = {c["first_name"]: c for c in await listing(api, "contacts")}
    assert contacts["Jane"]["id"] == "cnt_JANE" and contacts["Jane"]["company"]["id"] == "cmp_ACME"
    assert contacts["Wile"]["company"]["id"] == "cmp_ACME"  # by email domain
    assert [t["name"] for t in await listing(api, "tags", order_by="updated_at:asc")] in (
        ["Hot lead", "Demo"],
        ["Demo", "Hot lead"],
    )
    other = await api.new_key(["tags:read"], workspace_id="wrks_other")
    assert [t["name"] for t in await listing(api, "tags", key=other)] == ["Theirs"]
    # A dialer call from Jane's number links the fixture contact.
    created = await (await api.create(participants=[{"name": "Caller", "phone": "+14155550100"}])).json()
    body = await (await api.get(created["id"], expand="contacts,companies")).json()
    assert [c["id"] for c in body["contacts"]] == ["cnt_JANE"]
    assert [c["id"] for c in body["companies"]] == ["cmp_ACME"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("users: [{email: a@b.example, rolee: OWNER}]", "users[0].rolee"),
        ("users: [{email: not-an-email}]", "users[0].email"),
        ("contacts: [{first_name: X, company: nowhere.example}]", "contacts[0].company"),
        ("companies: [{domains: [{domain: a.example}]}, {domains: [{domain: A.example}]}]", "companies"),
        ("users: [\n  - broken", "not valid YAML"),
        ("- just\n- a list", "must be a mapping"),
        ("tags: [{name: a}]\nworkspaces: [{workspace_id: wrks_local}]", "workspaces[0].workspace_id"),
        ("users: [{id: usr_X, email: OWNER@example.com}]", "already belongs to user usr_local"),
    ],
)
def test_bad_fixture_files_fail_clearly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SeedDataError) as exc:
        create_app(frozen_settings(fixtures=fixture_file(tmp_path, text)))
    assert message in str(exc.value) and "--fixtures" in str(exc.value)


def test_fixture_option_parsing_and_cli_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_settings(None, {}).fixtures == "sample"
    assert load_settings(None, {"FAKE_ASKELEPHANT_FIXTURES": "none"}).fixtures == "none"
    with pytest.raises(ConfigError, match="neither sample, none nor a readable file"):
        load_settings(None, {"FAKE_ASKELEPHANT_FIXTURES": str(tmp_path / "missing.yaml")})
    bad = fixture_file(tmp_path, "tags: [{nam: x}]")
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--port", "0", "--fixtures", bad])
    assert exc.value.code == 2
    assert "tags[0].nam" in capsys.readouterr().err


def test_empty_fixture_file_loads_nothing(tmp_path: Path) -> None:
    app = create_app(frozen_settings(fixtures=fixture_file(tmp_path, "")))
    assert app is not None


# POST /__admin/fixtures ----------------------------------------------------------------------------


async def test_admin_fixtures_emit_events_and_are_idempotent(api: Api) -> None:
    body: dict[str, list[dict[str, Any]]] = {
        "companies": [{"name": "Acme", "domains": [{"domain": "acme.example"}]}],
        "contacts": [{"first_name": "Wile", "emails": [{"email": "wile@acme.example"}]}],
        "tags": [{"name": "Demo"}],
        "users": [{"email": "rep@acme.example", "role": "MEMBER"}],
    }
    resp = await api.client.post("/__admin/fixtures", json=body)
    assert resp.status == 200, await resp.text()
    (loaded,) = (await resp.json())["data"]
    assert loaded["workspace_id"] == "wrks_local"
    assert [len(loaded[k]) for k in ("users", "companies", "contacts", "tags")] == [1, 1, 1, 1]
    assert await event_types(api) == ["v1.company.created", "v1.contact.created", "v1.tag.created"]
    again = await (await api.client.post("/__admin/fixtures", json=body)).json()
    assert again["data"] == [loaded]  # same records, nothing new
    assert len(await event_types(api)) == 3
    await api.advance(1)
    body["companies"][0]["name"] = "Acme Corp"
    await api.client.post("/__admin/fixtures", json=body)
    log = (await (await api.client.get("/__admin/events?type=v1.company.updated")).json())["data"]
    assert [e["data"]["previous_attributes"]["name"] for e in log] == ["Acme"]


async def test_admin_fixtures_accept_yaml(api: Api) -> None:
    resp = await api.client.post(
        "/__admin/fixtures", data=FIXTURE_YAML.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert resp.status == 200, await resp.text()
    assert [w["workspace_id"] for w in (await resp.json())["data"]] == ["wrks_local", "wrks_other"]
    bad = await api.client.post("/__admin/fixtures", data=b"users: [", headers={"Content-Type": "text/yaml"})
    await problem(bad, 400, "invalid_request")


async def test_admin_fixtures_reject_all_or_nothing(api: Api) -> None:
    await api.client.post(
        "/__admin/fixtures", json={"contacts": [{"id": "cnt_A", "emails": [{"email": "a@x.example"}]}]}
    )
    clash = {
        "tags": [{"name": "Would be created"}],
        "contacts": [
            {"first_name": "New", "emails": [{"email": "new@x.example"}]},
            {"id": "cnt_B", "emails": [{"email": "A@x.example"}]},  # cnt_A's email
        ],
    }
    body = await problem(await api.client.post("/__admin/fixtures", json=clash), 409, "conflict")
    assert "cnt_A" in body["detail"]
    invalid = {"tags": [{"name": "x"}], "contacts": [{"emails": [{"email": "bad"}]}], "extra": 1}
    body = await problem(await api.client.post("/__admin/fixtures", json=invalid), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("contacts[0].emails[0].email", "invalid_type"),
        ("extra", "invalid_type"),
    ]
    assert [c["id"] for c in await listing(api, "contacts")] == ["cnt_A"]
    assert await listing(api, "tags") == []
    elsewhere = {"workspace_id": "wrks_new", "users": [{"email": "a@b.example", "rolee": "x"}]}
    await problem(await api.client.post("/__admin/fixtures", json=elsewhere), 422, "validation_failed")
    state = await (await api.client.get("/__admin/state")).json()
    assert "wrks_new" not in {w["id"] for w in state["workspaces"]}  # a rejected load creates nothing


async def test_fixture_users_can_change_role(api: Api) -> None:
    await api.client.post("/__admin/fixtures", json={"users": [{"email": "rep@x.example", "role": "MANAGER"}]})
    first = await (await api.create(participants=[{"email": "rep@x.example", "is_owner": True}])).json()
    await api.client.post("/__admin/fixtures", json={"users": [{"email": "rep@x.example", "role": "INACTIVE"}]})
    second = await (
        await api.create(external_id="c2", participants=[{"email": "rep@x.example", "is_owner": True}])
    ).json()
    assert first["owner_user_id"] != "usr_local" and second["owner_user_id"] == "usr_local"


# Users list, reset and state -----------------------------------------------------------------------


async def test_users_list_filters(api: Api) -> None:
    await api.advance(10)
    await api.client.post("/__admin/fixtures", json={"users": [{"email": "rep@x.example", "first_name": "Rita"}]})
    users = await listing(api, "users")
    assert [u["emails"][0]["email"] for u in users] == ["rep@x.example", "owner@example.com"]
    rita = users[0]
    assert [u["id"] for u in await listing(api, "users", **{"filter[updated_at][lt]": rita["updated_at"]})] == [
        "usr_local"
    ]
    assert [u["id"] for u in await listing(api, "users", **{"filter[updated_at][gte]": rita["updated_at"]})] == [
        rita["id"]
    ]
    assert [u["id"] for u in await listing(api, "users", search="rita")] == [rita["id"]]
    resp = await api.call("GET", "/api/v2/users?filter[updated_at][gt]=yesterday")
    assert (await problem(resp, 422, "validation_failed"))["errors"][0]["field"] == "filter[updated_at][gt]"
    resp = await api.call("GET", "/api/v2/users?filter[role][eq]=OWNER")
    assert (await problem(resp, 422, "validation_failed"))["errors"][0]["code"] == "invalid_enum"


async def test_reset_clears_directory_and_reset_all_restores_seed_data(make_api: Any) -> None:
    api = await make_api(frozen_settings(fixtures="sample"))
    sample_contacts = await listing(api, "contacts")
    await api.create()
    tag = await (await api.call("POST", "/api/v2/tags", json={"name": "Mine"})).json()
    state = await (await api.client.get("/__admin/state")).json()
    ws = next(w for w in state["workspaces"] if w["id"] == "wrks_local")
    assert len(ws["contacts"]) == 8 and len(ws["companies"]) == 3 and tag["id"] in {t["id"] for t in ws["tags"]}
    assert set(ws["engagements"][0]["contact_ids"]) <= {c["id"] for c in ws["contacts"]}
    await api.client.post("/__admin/reset")
    for path in ("contacts", "companies", "tags"):
        assert await listing(api, path) == []
    assert len(await listing(api, "users")) == 5  # users are not resources: they stay
    await api.client.post("/__admin/reset?all=true")
    assert await listing(api, "contacts") == sample_contacts  # same seed, same frozen clock: same records
    assert len(await listing(api, "tags")) == 4


async def test_readme_fixture_example_loads(api: Api) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    after = readme.split("# fake-askelephant serve --fixtures seed.yaml", 1)[1]
    block = textwrap.dedent(after.split("\n", 1)[1].split("```", 1)[0])  # indented inside a list item
    resp = await api.client.post("/__admin/fixtures", data=block.encode(), headers={"Content-Type": "application/yaml"})
    assert resp.status == 200, await resp.text()
    jane = (await listing(api, "contacts"))[0]
    assert jane["company"]["id"] == "cmp_ACME"
