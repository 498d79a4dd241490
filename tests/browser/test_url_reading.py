"""The media policy reads a URL's host as a browser does: Chromium's own URL parser is the oracle (issue #19).

Each URL goes through `new URL(…)` in headless Chromium and through core/urlhost.read_url; the host and port
must agree, so the policy judges the host a WHATWG client would connect to. Where the emulator is stricter
(it refuses what Chromium would guess at), the URL must be refused, never read as another host.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import pytest_asyncio

from fake_askelephant.core import urlhost
from fake_askelephant.core.policies import media_url_policy_error, media_url_shape_error

pytestmark = pytest.mark.asyncio(loop_scope="module")

SAME_READING = [
    "https://recordings.example.com/a.mp3",
    "https://RECORDINGS.Example.COM./a.mp3",
    "https://１２７.０.０.１/a",
    "https://127。0。0。1/a",
    "https://127．0．0｡1:8443/a",
    "https://%31%32%37.0.0.1/",
    "https://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/",
    "https://127.0.0.1\\@recordings.example.com/",
    "https://recordings.example.com\\@127.0.0.1/",
    "https://user:pass@10.0.0.1:443/x",
    "https://a@b@192.168.0.1/",
    "https://0x7f.1/",
    "https://0X7F.0.0.1/",
    "https://2130706433/",
    "https://0177.0.0.1/",
    "https://00000000127.0.0.1/",
    "https://127.1/",
    "https://127.0.1/",
    "https://127.0.0.1./",
    "https://0xA9.0xFE.0xA9.0xFE/latest/meta-data",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[0:0:0:0:0:FFFF:7F00:0001]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::10.0.0.1]/",
    "https://[2002:7f00:1::]/",
    "https://[::1]:8443/",
    "https://ｌｏｃａｌｈｏｓｔ/",
    "https://LOCALHOST./",
    "https://api.localhost/",
    "https://bücher.example/x",
    "https://xn--bcher-kva.example/x",
    "https://a_b.example.com/x",
    "https://8.8.8.8/x?y#z",
    "https://recordings.example.com:443/a",
]
# Chromium guesses a host for these; the emulator refuses them as invalid_url (an ambiguity is not a host).
STRICTER = ["https://0x.0x.0x.0x/", "https://a..b.example/"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def page(browser: Any) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto("about:blank")
    yield page
    await context.close()


async def chromium_reads(page: Any, url: str) -> dict[str, str] | None:
    found: dict[str, str] | None = await page.evaluate(
        "u => { try { const x = new URL(u); return {host: x.hostname, port: x.port}; } catch (e) { return null; } }",
        url,
    )
    return found


@pytest.mark.parametrize("url", SAME_READING)
async def test_the_policy_reads_the_host_chromium_connects_to(page: Any, url: str) -> None:
    browser_reading = await chromium_reads(page, url)
    assert browser_reading is not None, f"Chromium refuses {url!r}"
    ours = urlhost.read_url(url)
    theirs: object = browser_reading["host"]
    if browser_reading["host"].startswith("["):  # compare addresses: Python 3.13 writes ::ffff:127.0.0.1
        theirs = ipaddress.IPv6Address(browser_reading["host"][1:-1])
    assert (ours.host if isinstance(ours.host, ipaddress.IPv6Address) else ours.host_text) == theirs, url
    assert str(ours.port or "") == browser_reading["port"], url


@pytest.mark.parametrize("url", STRICTER)
async def test_where_the_policy_is_stricter_it_refuses(page: Any, url: str) -> None:
    assert await chromium_reads(page, url) is not None
    error = media_url_shape_error(url) or media_url_policy_error(url)
    assert error is not None and error.code == "invalid_url", url
