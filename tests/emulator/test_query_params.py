"""Query parameters read one way everywhere (issue #19): integers are ASCII digits, and a parameter given twice
is a 400 naming it on every list route (expand, a list, adds up instead)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import Api, problem

PAGED = [
    "/api/v2/engagements",
    "/api/v2/contacts",
    "/api/v2/companies",
    "/api/v2/users",
    "/api/v2/tags",
    "/__admin/deliveries",
    "/__admin/requests",
    "/__admin/events",
    "/__admin/state",
]
# int() reads all of these; none is written with the digits 0-9 alone.
NOT_ASCII_DIGITS = ["٣", "５", "1_0", "+7", "-٣", " 7", "7 ", "0x10", "७", "1e1", "", "-"]
# GET routes that answer a collection but are not paged.
UNPAGED = [
    "/__admin/pipeline-rules",
    "/__admin/faults",
    "/__admin/snapshots",
    "/__admin/webhook-endpoints",
    "/__admin/sink/ci/requests",
]


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("value", NOT_ASCII_DIGITS)
async def test_limit_takes_ascii_digits_only(api: Api, path: str, value: str) -> None:
    resp = await api.call("GET", f"{path}?limit={quote(value)}")
    body = await problem(resp, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("limit", "invalid_type")]


@pytest.mark.parametrize("path", PAGED)
async def test_a_negative_limit_is_out_of_range(api: Api, path: str) -> None:
    body = await problem(await api.call("GET", f"{path}?limit=-1"), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("limit", "invalid_range")]


@pytest.mark.parametrize("path", PAGED)
async def test_a_plain_limit_still_works(api: Api, path: str) -> None:
    resp = await api.call("GET", f"{path}?limit=7")
    assert resp.status == 200, await resp.text()


async def test_journal_status_filter_takes_ascii_digits_only(api: Api) -> None:
    resp = await api.call("GET", "/__admin/requests?status=%D9%A4%D9%A0%D9%A4")  # ٤٠٤
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["field"] == "status"


def test_every_collection_route_is_covered(api: Api) -> None:
    """A new list route joins the lists above (and so the rule), or this fails."""
    not_lists = {
        "/__admin/health",
        "/__admin/clock",
        "/__admin/ui",
        "/__admin/ui/",
        "/__admin/openapi.json",
        "/__admin/schemas",
        "/__admin/scheduler",
        "/__admin/recording",
    }
    gets = {
        r.resource.canonical
        for r in api.app.router.routes()
        if r.method == "GET" and r.resource is not None and "{" not in r.resource.canonical
    }
    unknown = gets - not_lists - set(PAGED) - set(UNPAGED) - {"/__admin/ui/{path}"}
    assert {p for p in unknown if not p.startswith("/__admin/ui")} == set()


@pytest.mark.parametrize("path", PAGED + UNPAGED)
@pytest.mark.parametrize("name", ["limit", "cursor", "workspace_id", "x"])
async def test_a_repeated_parameter_is_a_400_naming_it(api: Api, path: str, name: str) -> None:
    resp = await api.call("GET", f"{path}?{name}=1&{name}=50")
    body = await problem(resp, 400, "invalid_request")
    assert repr(name) in body["detail"]


async def test_repeated_expand_adds_up(api: Api) -> None:
    created = await (await api.create()).json()
    resp = await api.call("GET", f"/api/v2/engagements/{created['id']}?expand=owner&expand=tags")
    body = await resp.json()
    assert resp.status == 200 and "owner" in body and "tags" in body
    listed = await api.call("GET", "/api/v2/engagements?expand=owner&expand=tags")
    assert listed.status == 200 and "owner" in (await listed.json())["data"][0]


@pytest.mark.parametrize("value", ["٢٠٢٦-01-01T00:00:00Z", "2026-01-01T00:00:0５Z"])
async def test_timestamps_take_ascii_digits_only(api: Api, value: str) -> None:
    resp = await api.call("GET", f"/api/v2/engagements?filter[updated_at][gte]={quote(value)}")
    body = await problem(resp, 422, "validation_failed")
    assert body["errors"][0]["code"] == "invalid_type"


async def test_crm_entry_index_takes_ascii_digits_only(api: Api) -> None:
    name = quote("filter[crm_associations][eq][٣][id]")
    resp = await api.call("GET", f"/api/v2/engagements?{name}=1")
    await problem(resp, 400, "invalid_request")
