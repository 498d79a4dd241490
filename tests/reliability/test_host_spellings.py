"""SSRF by spelling (issue #19): every way a client can write a private or loopback host is refused.

Hypothesis writes private addresses the ways WHATWG URL parsers, IDNA and inet_aton read them (numeric IPv4
forms in any radix and part count, full-width digits and letters, ideographic full stops, percent-encoding,
trailing dots, IPv4-mapped/compatible/NAT64/6to4 IPv6, zone ids, localhost names, userinfo and backslash
tricks). Offline, each is a 422 `private_address`; with --media-fetch, a listener on every loopback address
of the port the URLs name counts connections and must see none — also when an allowed media server
redirects to the spelling.

The fetch-mode tests only ever spell loopback addresses (127.0.0.0/8, 0.0.0.0, ::1 and IPv4-mapped
loopback): a broken guard would connect to this machine, never to a private network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fake_askelephant.core.errors import ValidationFailed
from fake_askelephant.media_fetch import MediaFetcher
from tests.conftest import Api, frozen_settings, seed_call

FULL_WIDTH_OFFSET = 0xFF10 - 0x30  # '0' → '０'; letters: 'a' → 'ａ' (0xFF41)
DOTS = [".", "。", "．", "｡"]
EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def full_width(c: str) -> str:
    if c.isdigit():
        return chr(ord(c) + FULL_WIDTH_OFFSET)
    if c.isalpha():
        return chr(ord(c.lower()) - ord("a") + 0xFF41) if c.islower() else chr(ord(c) - ord("A") + 0xFF21)
    return c


def in_network(network: str) -> st.SearchStrategy[ipaddress.IPv4Address]:
    net = ipaddress.IPv4Network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(ipaddress.IPv4Address)


LOOPBACK_V4 = in_network("127.0.0.0/8") | st.just(ipaddress.IPv4Address("0.0.0.0"))
PRIVATE_V4 = st.one_of(
    LOOPBACK_V4,
    *(in_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "0.0.0.0/8")),
)


@st.composite
def number(draw: st.DrawFn, value: int) -> str:
    """One IPv4 part as inet_aton and WHATWG read it: decimal, 0x-hex (either case) or 0-octal."""
    radix = draw(st.sampled_from(["dec", "hex", "oct"]))
    zeros = "0" * draw(st.integers(0, 3))
    if radix == "hex":
        digits = format(value, "x" if draw(st.booleans()) else "X")
        return draw(st.sampled_from(["0x", "0X"])) + zeros + digits
    if radix == "oct":
        return "0" + zeros + format(value, "o")
    return str(value)


@st.composite
def disguise(draw: st.DrawFn, host: str) -> str:
    """Full-width forms, other full stops and percent-encoding, per character, as a host parser undoes them."""
    out = []
    for c in host:
        if c == ".":
            c = draw(st.sampled_from(DOTS))
        elif draw(st.integers(0, 3)) == 0:
            c = full_width(c)
        if draw(st.integers(0, 4)) == 0:
            hex_case = "{:02x}" if draw(st.booleans()) else "{:02X}"
            c = "".join("%" + hex_case.format(b) for b in c.encode())
        out.append(c)
    return "".join(out)


@st.composite
def ipv4_spelling(draw: st.DrawFn, addresses: st.SearchStrategy[ipaddress.IPv4Address]) -> str:
    value = int(draw(addresses))
    parts = draw(st.integers(1, 4))
    numbers = [(value >> (8 * (3 - i))) & 0xFF for i in range(parts - 1)]
    numbers.append(value & ((1 << (8 * (5 - parts))) - 1))
    host = ".".join(draw(number(n)) for n in numbers)
    if draw(st.booleans()):
        host += "."
    return draw(disguise(host))


def _hex_groups(address: ipaddress.IPv6Address, upper: bool, zeros: bool) -> str:
    groups = address.exploded.split(":") if zeros else address.compressed.split(":")
    text = ":".join(groups)
    return text.upper() if upper else text


@st.composite
def ipv6_spelling(draw: st.DrawFn, loopback_only: bool) -> str:
    v4 = draw(LOOPBACK_V4 if loopback_only else PRIVATE_V4)
    kinds = ["loopback", "mapped_dotted", "mapped_hex"]
    if not loopback_only:
        kinds += ["compatible", "nat64", "sixtofour", "link_local_zone", "unique_local"]
    kind = draw(st.sampled_from(kinds))
    upper, zeros = draw(st.booleans()), draw(st.booleans())
    if kind == "loopback":
        text = _hex_groups(ipaddress.IPv6Address("::1"), upper, zeros)
    elif kind == "mapped_dotted":
        text = draw(st.sampled_from(["::ffff:", "::FFFF:", "0:0:0:0:0:ffff:"])) + str(v4)
    elif kind == "mapped_hex":
        text = _hex_groups(ipaddress.IPv6Address(f"::ffff:{v4}"), upper, zeros)
    elif kind == "compatible":
        text = f"::{v4}" if draw(st.booleans()) else _hex_groups(ipaddress.IPv6Address(f"::{v4}"), upper, zeros)
    elif kind == "nat64":
        text = f"64:ff9b::{v4}"
    elif kind == "sixtofour":
        text = _hex_groups(ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80)), upper, zeros)
    elif kind == "link_local_zone":
        text = _hex_groups(ipaddress.IPv6Address(f"fe80::{draw(st.integers(1, 0xFFFF)):x}"), upper, zeros)
        text += "%25" + draw(st.sampled_from(["eth0", "lo", "1"]))
    else:
        text = _hex_groups(ipaddress.IPv6Address(f"fd{draw(st.integers(0, 0xFF)):02x}::1"), upper, zeros)
    return f"[{text}]"


@st.composite
def localhost_name(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["localhost", "api.localhost", "a.b.localhost"]))
    name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    return draw(disguise(name + ("." if draw(st.booleans()) else "")))


@st.composite
def private_url(draw: st.DrawFn, port: int | None = None, loopback_only: bool = False) -> str:
    """An https URL whose host, as the network reads it, is private (loopback only when asked)."""
    host = draw(
        st.one_of(
            ipv4_spelling(LOOPBACK_V4 if loopback_only else PRIVATE_V4),
            ipv6_spelling(loopback_only),
            localhost_name(),
        )
    )
    scheme = draw(st.sampled_from(["https", "HTTPS", "hTtPs"]))
    userinfo = draw(st.sampled_from(["", "user@", "user:pass@", "a%40b@"]))
    port_text = draw(st.sampled_from(["", ":443", ":8443"])) if port is None else f":{port}"
    authority = userinfo + host + port_text
    # A backslash ends the authority for WHATWG parsers; RFC 3986 parsers read on to the last `@`.
    if not loopback_only and draw(st.integers(0, 5)) == 0:
        authority += "\\@recordings.example.com"
    path = draw(st.sampled_from(["/a.mp3", "/calls/1.wav?x=1", "/", "?q", "#f"]))
    return f"{scheme}://{authority}{path}"


# The attack run's spellings, kept as fixed examples.
ATTACKS = [
    "https://１２７.０.０.１/call.mp3",
    "https://127。0。0。1/call.mp3",
    "https://%31%32%37.0.0.1/call.mp3",
    "https://recordings.example.com\\@127.0.0.1/call.mp3",
    "https://127.0.0.1\\@recordings.example.com/call.mp3",
    "https://[::ffff:7f00:1]/call.mp3",
    "https://[::7f00:1]/call.mp3",
    "https://[64:ff9b::a00:1]/call.mp3",
    "https://0x7f.1/call.mp3",
    "https://2130706433/call.mp3",
    "https://0177.0.0.1/call.mp3",
    "https://127.1./call.mp3",
    "https://[fe80::1%25eth0]/call.mp3",
    "https://ｌｏｃａｌｈｏｓｔ/call.mp3",
]


@pytest.mark.parametrize("url", ATTACKS)
async def test_the_attack_runs_spellings_are_private_addresses(api: Api, url: str) -> None:
    await _assert_private(api, url)


@given(url=private_url())
@EXAMPLES
async def test_every_spelling_of_a_private_host_is_refused_offline(api: Api, url: str) -> None:
    await _assert_private(api, url)


async def _assert_private(api: Api, url: str) -> None:
    resp = await api.create(seed_call(media_url=url, external_id=f"spelling-{hash(url)}"))
    assert resp.status == 422, (url, resp.status, await resp.text())
    errors = (await resp.json())["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("media_url", "private_address")], url


@dataclass
class Listener:
    """Accepts on every loopback address of one port and counts who got through."""

    port: int
    accepted: int = 0


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::", 0))
        port = probe.getsockname()[1]
    found = Listener(port)

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.accepted += 1
        writer.close()

    # `::` with V6ONLY off (Linux's default) takes IPv4 too: 127.0.0.0/8, 0.0.0.0 and IPv4-mapped loopback.
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::", port))
    server = await asyncio.start_server(count, sock=sock)
    yield found
    server.close()
    await server.wait_closed()


@pytest.fixture
async def fetcher() -> AsyncIterator[MediaFetcher]:
    f = MediaFetcher((), fallback_duration=lambda url: 1, timeout_s=5)
    await f.start()
    yield f
    await f.close()


async def test_the_listener_counts_a_direct_connection(listener: Listener) -> None:
    """The oracle works: a plain connection to 127.0.0.2 on its port is counted."""
    for host in ("127.0.0.2", "::1"):
        reader, writer = await asyncio.open_connection(host, listener.port)
        assert await reader.read() == b""  # the listener counted, then closed
        writer.close()
    assert listener.accepted == 2


@given(url=private_url(port=None, loopback_only=True))
@example(url="https://１２７.０.０.１:{port}/call.mp3")
@example(url="https://127。0。0。1:{port}/call.mp3")
@EXAMPLES
async def test_the_media_fetcher_never_connects_to_a_loopback_spelling(
    listener: Listener, fetcher: MediaFetcher, url: str
) -> None:
    url = _with_port(url, listener.port)
    with pytest.raises(ValidationFailed) as refused:
        await fetcher.probe(url)
    assert [e.code for e in refused.value.errors] == ["private_address"], url
    assert listener.accepted == 0, f"{url} reached the loopback listener"


def _with_port(url: str, port: int) -> str:
    """Give the generated URL the listener's port (replacing any it has)."""
    if "{port}" in url:
        return url.format(port=port)
    scheme, _, rest = url.partition("://")
    cut = min((i for i in (rest.find(c) for c in "/?#\\") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, hostport = authority.rpartition("@")
    host = hostport[: hostport.index("]") + 1] if hostport.startswith("[") else hostport.partition(":")[0]
    return f"{scheme}://{userinfo}{at}{host}:{port}{tail}"


@pytest.fixture
async def redirector() -> AsyncIterator[tuple[TestServer, list[str]]]:
    """An allowed media server whose /go answers 302 to whatever the test queued."""
    targets: list[str] = []

    async def go(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": targets.pop()})  # raw: no yarl re-spelling

    app = web.Application()
    app.router.add_get("/go", go)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, targets
    await server.close()


@given(url=private_url(port=None, loopback_only=True))
@EXAMPLES
async def test_a_redirect_to_a_loopback_spelling_is_refused_before_connecting(
    listener: Listener, redirector: tuple[TestServer, list[str]], url: str
) -> None:
    server, targets = redirector
    f = MediaFetcher((f"127.0.0.1:{server.port}",), fallback_duration=lambda url: 1, timeout_s=5)
    await f.start()
    try:
        targets.append(_with_port(url, listener.port))
        with pytest.raises(ValidationFailed) as refused:
            await f.probe(f"http://127.0.0.1:{server.port}/go")
        assert [e.code for e in refused.value.errors] == ["private_address"], url
    finally:
        await f.close()
    assert listener.accepted == 0, f"a redirect to {url} reached the loopback listener"


async def test_create_with_media_fetch_refuses_the_full_width_spelling(make_api: Any, listener: Listener) -> None:
    api: Api = await make_api(frozen_settings(media_fetch=True))
    resp = await api.create(media_url=f"https://１２７.０.０.１:{listener.port}/call.mp3")
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["errors"][0]["code"] == "private_address"
    assert listener.accepted == 0
