"""The inspector in a real browser: follow a call, drive the clock from the page, hostile data stays inert."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from fake_askelephant.core.timefmt import format_ms
from tests.browser.conftest import Inspector
from tests.conftest import AUTH, T0, seed_call

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]  # drives Chromium

XSS_TITLE = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


async def test_a_new_call_appears_live_and_its_pipeline_moves_when_the_page_advances_the_clock(
    inspector: Inspector,
) -> None:
    page = inspector.page
    await inspector.open()
    await expect(page.locator("#clock-now")).to_have_attribute("datetime", format_ms(T0))
    await expect(page.locator("#clock-scale")).to_have_text("0 (frozen)")

    engagement_id = await inspector.create()  # after the page loaded: polling must pick it up
    row = page.locator(f"tr.engagement[data-engagement-id='{engagement_id}']")
    await expect(row.locator(".badge")).to_have_text("PENDING")
    await expect(row.locator("li.stage[data-state='pending']")).to_have_count(4)

    await row.locator("a.title").click()
    await expect(page).to_have_url(re.compile(f"#engagement/{engagement_id}$"))
    steps = page.locator("ol.history > li.step")
    await expect(steps.first).to_contain_text("POST /api/v2/engagements")
    processing = page.locator("li.step[data-stage='processing']")
    await expect(processing).to_have_attribute("data-state", "pending")

    await page.click("button[data-advance='300']")
    await expect(page.locator("#clock-now")).to_have_attribute("datetime", format_ms(T0 + 300_000))
    await expect(processing).to_have_attribute("data-state", "done")
    await expect(page.locator("li.step[data-stage='signals']")).to_have_attribute("data-state", "done")
    await expect(page.locator(".summary .badge").first).to_have_text("COMPLETED")
    transcript_event = page.locator("li.step[data-type='v1.engagement.transcript_timeline.completed']")
    await expect(transcript_event).to_have_count(1)
    journal_status, _ = await inspector.admin("GET", "/requests")
    if journal_status == 404:
        await expect(page.locator("#engagement-body")).to_contain_text("Request journal: not available in this build")
    else:
        await expect(page.locator("#engagement-body table.related tbody tr")).not_to_have_count(0)

    # A retried POST (same external_id) shows up as a replay with its own request id.
    async with inspector.http.post(inspector.url("/api/v2/engagements"), json=seed_call(), headers=AUTH) as r:
        assert r.status == 200
        replay_id = r.headers["X-Request-Id"]
    replay = page.locator("li.step[data-kind='request'][data-status='200']")
    await expect(replay).to_contain_text("replayed: same external_id")
    await expect(replay).to_contain_text(replay_id)

    # The page shows what the API says happened, in the same order.
    _, events = await inspector.admin("GET", f"/events?engagement_id={engagement_id}")
    shown = await page.locator("li.step[data-kind='event']").evaluate_all("els => els.map(e => e.dataset.eventId)")
    assert shown == [e["id"] for e in events["data"]]
    async with inspector.http.get(inspector.url(f"/api/v2/engagements/{engagement_id}"), headers=AUTH) as r:
        assert (await r.json())["processing_status"] == "COMPLETED"


async def test_hostile_titles_and_urls_render_as_text(inspector: Inspector) -> None:
    page = inspector.page
    scripted = await inspector.create(title=XSS_TITLE, external_id="xss-1", external_url="wavv://call/1")
    linked = await inspector.create(title="plain", external_id="xss-2")
    # The API refuses javascript: URLs (422); plant one in the store to test the page's own guard.
    planted = inspector.emulator.store.find_engagement_by_id(linked)
    assert planted is not None
    planted.external_url = "javascript:window.__xss=1"
    safe = await inspector.create(title="safe", external_id="xss-3")

    await inspector.open()
    scripted_row = page.locator(f"tr.engagement[data-engagement-id='{scripted}']")
    await expect(scripted_row.locator("a.title")).to_have_text(XSS_TITLE)
    await expect(scripted_row.locator("td.url .inert")).to_have_text("wavv://call/1")
    linked_row = page.locator(f"tr.engagement[data-engagement-id='{linked}']")
    await expect(linked_row.locator("td.url .inert")).to_have_text("javascript:window.__xss=1")
    safe_link = page.locator(f"tr.engagement[data-engagement-id='{safe}'] td.url a")
    await expect(safe_link).to_have_attribute("href", "https://my-dialer.example.com/calls/call-20260513-001")
    await expect(safe_link).to_have_attribute("rel", "noopener noreferrer")

    await scripted_row.locator("a.title").click()
    await expect(page.locator(".engagement-title")).to_have_text(XSS_TITLE)
    assert await page.locator("main img, main script").count() == 0
    await inspector.open(f"engagement/{linked}")
    await expect(page.locator(".summary .facts .inert")).to_have_text("javascript:window.__xss=1")
    await inspector.open("events")
    # 3 × created, after the first call's two participants became contacts (api.md §5).
    await expect(page.locator("table.events tbody tr")).to_have_count(5)
    for view in ("events", "engagements"):
        await inspector.open(view)
        await expect(page.locator(f"#view-{view} table").first).to_be_visible()
        assert await page.locator("main img, main script, a[href^='javascript']").count() == 0
    assert await page.evaluate("window.__xss") is None
    # The CSP is in force: the browser refuses to turn a string into markup at all.
    refused = await page.evaluate(
        "() => { try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return 'allowed'; }"
        " catch (e) { return e.name; } }"
    )
    assert refused == "TypeError"
    inspector.page_errors.clear()  # that refusal is logged as a Trusted Types violation on purpose


async def test_clock_panel_advances_by_a_typed_number_of_seconds(inspector: Inspector) -> None:
    page = inspector.page
    await inspector.open()
    await page.fill("#advance-seconds", "90")
    await page.click("#advance-form button[type='submit']")
    await expect(page.locator("#clock-now")).to_have_attribute("datetime", format_ms(T0 + 90_000))
    await expect(page.locator("#message")).to_contain_text("advanced +1 min 30 s")
    _, clock = await inspector.admin("GET", "/clock")
    assert clock["now"] == format_ms(T0 + 90_000)


async def test_events_view_filters_by_type(inspector: Inspector) -> None:
    page = inspector.page
    engagement_id = await inspector.create()
    await inspector.admin("POST", "/clock/advance", json={"seconds": 600})
    await inspector.open("events?type=v1.engagement.transcript_timeline.completed")
    rows = page.locator("table.events tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(engagement_id)
    await page.fill("#events-filter input[name='type']", "")
    await expect(rows).to_have_count(8)  # 2 × contact created, created, 4 × updated, transcript completed


@pytest.mark.parametrize(
    ("view", "route", "label"),
    [
        ("requests", "/requests", "Request journal"),
        ("faults", "/faults", "Fault injection"),
        ("deliveries", "/deliveries", "Webhook deliveries"),
    ],
)
async def test_optional_views_render_or_say_they_are_not_in_this_build(
    inspector: Inspector, view: str, route: str, label: str
) -> None:
    status, _ = await inspector.admin("GET", route)
    await inspector.open(view)
    body = inspector.page.locator(f"#{view}-body")
    if status == 404:
        await expect(body).to_have_text(f"{label}: not available in this build (the control-plane route answered 404).")
    else:
        await expect(body.locator("table, p.note")).not_to_have_count(0)
        await expect(body).not_to_contain_text("not available in this build")


async def test_webhook_attempts_show_status_retries_signature_checks_and_resend(inspector: Inspector) -> None:
    page = inspector.page
    transcript_type = "v1.engagement.transcript_timeline.completed"
    for sink, hazards in (("dialer", {}), ("tampered", {"wrong_secret": 1.0})):
        status, _ = await inspector.admin(
            "POST",
            "/webhook-endpoints",
            json={"url": inspector.url(f"/__admin/sink/{sink}"), "event_types": [transcript_type], "hazards": hazards},
        )
        assert status == 201
    status, _ = await inspector.admin("PUT", "/sink/dialer", json={"statuses": [500, 200]})
    assert status == 200
    engagement_id = await inspector.create()

    await inspector.open(f"engagement/{engagement_id}")
    await expect(page.locator("li.step[data-kind='stage']")).to_have_count(4)
    await page.click("button[data-advance='300']")
    event = page.locator(f"li.step[data-type='{transcript_type}']")
    attempts = event.locator("tr.attempt")
    await expect(attempts).to_have_count(3)
    dialer = event.locator("tr.attempt", has=page.locator("[title$='/__admin/sink/dialer']"))
    tampered = event.locator("tr.attempt", has=page.locator("[title$='/__admin/sink/tampered']"))
    await expect(dialer.nth(0)).to_have_attribute("data-status", "failed")
    await expect(dialer.nth(0).locator(".result")).to_have_text(re.compile(r"^failed HTTP 500 · \d+ ms$"))
    await expect(dialer.locator("td.signature .badge.ok")).to_have_text(["signature verified"] * 2)
    await expect(dialer.nth(1)).to_have_attribute("data-status", "succeeded")
    await expect(dialer.nth(1)).to_contain_text("#2")
    await expect(tampered).to_contain_text("hazard: wrong_secret")
    await expect(tampered.locator("td.signature .badge.bad")).to_have_text("no matching signature")

    # The log agrees: the retry came 5 s after the failed attempt, with the same svix-id.
    _, log = await inspector.admin("GET", f"/deliveries?engagement_id={engagement_id}")
    tries = [a for a in log["data"] if a["url"].endswith("/dialer")]
    assert [a["response_status_code"] for a in tries] == [500, 200]
    assert tries[0]["svix_id"] == tries[1]["svix_id"]
    assert tries[0]["next_attempt_at"] == tries[1]["virtual_time"]

    await event.locator("button.resend").click()
    await expect(attempts).to_have_count(5)  # one more per endpoint
    await expect(page.locator("#message")).to_have_text(f"resent {tries[0]['svix_id']}")
    await expect(dialer.nth(2)).to_contain_text("resend")

    await inspector.open("deliveries?status=failed")
    rows = page.locator("table.deliveries tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("HTTP 500")
    await page.select_option("#deliveries-filter select[name='status']", "")
    await expect(rows).to_have_count(5)
    tampered_endpoint = page.locator("tr.endpoint", has=page.locator("[title$='/__admin/sink/tampered']"))
    await expect(tampered_endpoint).to_contain_text("wrong_secret=1")
    await tampered_endpoint.locator("button.pick").click()
    await expect(rows).to_have_count(2)  # its first attempt and the resend
    await expect(rows.locator("td.url")).to_contain_text(["tampered", "tampered"])

    await page.click("a[data-tab='sink']")
    await expect(page.locator("#sink-names a.chip")).to_have_count(2)
    await page.click("#sink-names a.chip:has-text('tampered')")
    cards = page.locator("details.sink-request")
    await expect(cards).to_have_count(2)
    await expect(cards.first.locator("summary .badge.bad")).to_have_text("no matching signature")
    await expect(cards.first.locator("dl.headers")).to_contain_text("svix-signature")
    await expect(cards.first.locator("pre.body")).to_contain_text(engagement_id)


async def test_the_requests_view_notes_requests_that_drew_warnings(inspector: Inspector) -> None:
    """Issue 20 §9: a Bearer-prefixed API key is accepted, and the Requests tab says so."""
    bearer = {"Authorization": "Bearer " + AUTH["Authorization"]}
    async with inspector.http.get(inspector.url("/api/v2/tags?limti=1"), headers=bearer) as r:
        assert r.status == 200 and len(r.headers.getall("Warning")) == 2
    await inspector.open("requests")
    warning = inspector.page.locator("#requests-body p.note.warning")
    await expect(warning).to_contain_text("1 request(s) here drew a Warning header")
    await expect(warning).to_contain_text("Bearer")
    await expect(inspector.page.locator("#requests-body table.journal")).to_contain_text("limti")
