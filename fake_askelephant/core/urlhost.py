"""Read an http(s) URL's host the way the network reads it: the WHATWG URL Standard's host parser.

A media_url's host is judged after the same normalisation a browser, an HTTP library or a resolver applies,
so no spelling of a private address passes as a name (issue #19): percent-decoding, UTS #46 mapping
(full-width forms, ideographic full stops, case) with `idna`, every numeric IPv4 form (`127.1`, `0x7f.1`,
`2130706433`, octal) with `socket.inet_aton`, IPv6 literals with `ipaddress`, and the authority split of a
special scheme (a backslash ends the authority, the last `@` ends the userinfo). Stricter than the standard
where a reading is ambiguous: an empty label, an IPv4 part `0x` without digits, a label IDNA 2008 refuses,
a zone id on a public IPv6 address are errors rather than names.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import string
from functools import lru_cache
from urllib.parse import unquote_to_bytes

import idna

from .records import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Host = str | Address  # an ASCII domain (lower case, a trailing dot kept) or an address

SPECIAL_PORTS = {"http": 80, "https": 443}
_STRIP = "".join(chr(c) for c in range(0x21))  # leading/trailing C0 controls and space (WHATWG)
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_HAS_TAB_NEWLINE = re.compile("[\t\n\r]")  # str.translate walks every character even when none is removed
_AUTHORITY_END = re.compile(r"[/\\?#]")
# Forbidden domain code points (WHATWG): these never appear in a host a client would connect to.
_FORBIDDEN = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f") | frozenset(chr(c) for c in range(0x20))
_DIGITS = frozenset(string.digits)
_HEX = frozenset(string.hexdigits)


class HostError(ValueError):
    """The URL has no host a conforming client would accept."""


@dataclass(frozen=True)
class UrlParts:
    scheme: str  # lower case
    host: Host
    port: int | None  # as written; None when absent or the scheme's default
    path_query: str  # path and query, backslashes as slashes; no fragment
    zone: str | None = None  # an IPv6 zone id, `%25eth0` in the URL

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else SPECIAL_PORTS[self.scheme]

    @property
    def host_text(self) -> str:
        """The host as a URL writes it: brackets around IPv6."""
        return f"[{self.host}]" if isinstance(self.host, ipaddress.IPv6Address) else str(self.host)

    def url(self) -> str:
        """The URL rebuilt from what was read, so an HTTP client connects to exactly this host."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{self.host_text}{port}{self.path_query}"


@lru_cache(maxsize=256)  # one create checks its media URL's shape, policy and offline model: parse it once
def read_url(value: str) -> UrlParts:
    """Split an http(s) URL as the WHATWG basic URL parser does for a special scheme, then parse its host.
    (Cached: the result is immutable and a pure function of `value`; a HostError is raised again each time.)"""
    plain = _PLAIN_URL.fullmatch(value)
    if plain is None:
        return _read_split(*split_url(value))
    scheme, raw_host, port_text, tail = plain.groups("")
    # No backslash in a plain tail, and it starts with /, ? or #: the path and query are what comes before any #.
    path_query = tail.partition("#")[0]
    return _parts(scheme, raw_host, port_text, path_query if path_query[:1] == "/" else "/" + path_query)


def _read_split(scheme: str, raw_host: str, port_text: str | None, tail: str) -> UrlParts:
    """read_url's reading of split_url's parts (any URL)."""
    path, _, _fragment = tail.partition("#")
    path, query_sep, query = path.partition("?")
    return _parts(scheme, raw_host, port_text, (path.replace("\\", "/") or "/") + query_sep + query)


def _parts(scheme: str, raw_host: str, port_text: str | None, path_query: str) -> UrlParts:
    port = _port(port_text)
    if port == SPECIAL_PORTS[scheme]:
        port = None
    host, zone = parse_host(raw_host)
    return UrlParts(scheme, host, port, path_query, zone)


# The URL nearly every client sends: lower-case http(s), `//`, a host of letters, digits, dots and hyphens, a port
# of digits, then nothing WHATWG strips, removes or reads as the authority's end (C0 controls, space, backslash).
# split_url reads such a URL exactly as these groups do (tests/emulator/test_policies.py holds the two together);
# matching it is a third of the cost of split_url's steps, on every create's media URL.
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.\-]+)(?::([0-9]*))?([/?#][^\x00-\x20\\]*)?")


def is_plain(value: str) -> bool:
    """The URL nearly every client sends (_PLAIN_URL), which read_url reads in one step."""
    return _PLAIN_URL.fullmatch(value) is not None


def split_url(value: str) -> tuple[str, str, str | None, str]:
    """(scheme, raw host, port text or None, path-query-fragment) of an http(s) URL, as WHATWG splits it."""
    text = value.strip(_STRIP)
    if _HAS_TAB_NEWLINE.search(text):
        text = text.translate(_TAB_NEWLINE)
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in SPECIAL_PORTS:
        raise HostError("not an http(s) URL")
    rest = rest.lstrip("/\\")
    authority_end = _AUTHORITY_END.search(rest)
    end = authority_end.start() if authority_end else len(rest)
    authority, tail = rest[:end], rest[end:]
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise HostError("unclosed IPv6 literal")
        raw_host, after = hostport[: close + 1], hostport[close + 1 :]
        if after and not after.startswith(":"):
            raise HostError("text after an IPv6 literal")
        port_text = after[1:] if after else None
    else:
        raw_host, sep, port_text_or = hostport.partition(":")
        port_text = port_text_or if sep else None
    return scheme, raw_host, port_text, tail


def _port(text: str | None) -> int | None:
    if not text:
        return None
    if not all(c in _DIGITS for c in text) or int(text) > 65535:
        raise HostError("the port is not a number from 0 to 65535")
    return int(text)


@lru_cache(maxsize=1024)  # a client sends its media from a few hosts; UTS #46 mapping is most of a URL's parse
def parse_host(raw: str) -> tuple[Host, str | None]:
    """The WHATWG host parser for a special scheme → (host, IPv6 zone id or None). (Cached: pure, and the result
    is immutable; a HostError is raised again each time.)"""
    if not raw:
        raise HostError("empty host")
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise HostError("unclosed IPv6 literal")
        return _ipv6(raw[1:-1])
    domain = unquote_to_bytes(raw).decode("utf-8", errors="replace")
    ascii_domain = to_ascii(domain)
    if _FORBIDDEN.intersection(ascii_domain):
        raise HostError("a character no host may contain")
    if ends_in_a_number(ascii_domain):
        return _ipv4(ascii_domain), None
    return ascii_domain, None


def to_ascii(domain: str) -> str:
    """UTS #46 ToASCII, non-transitional, without STD3 rules (WHATWG "domain to ASCII", not strict)."""
    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
        labels = mapped.split(".")
        if "" in labels[:-1] or (labels[-1] == "" and len(labels) == 1):
            raise HostError("an empty label")
        out = []
        for label in labels:
            if label.isascii():
                if label[:4] == "xn--":
                    idna.ulabel(label)  # invalid Punycode is a failure
                out.append(label)
            else:
                out.append(idna.alabel(label).decode("ascii"))
        return ".".join(out)
    except (idna.IDNAError, UnicodeError) as exc:
        raise HostError(f"not a valid internationalised domain name ({exc})") from None


def ends_in_a_number(domain: str) -> bool:
    """WHATWG: the last label (after one trailing dot) is decimal digits or 0x-hex, so the host is IPv4."""
    labels = domain.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    if last and all(c in _DIGITS for c in last):
        return True
    return last[:2].lower() == "0x" and all(c in _HEX for c in last[2:])


def _ipv4(domain: str) -> ipaddress.IPv4Address:
    """Every numeric form BSD's inet_aton reads (1–4 parts, each decimal, 0x-hex or 0-octal), as WHATWG does."""
    text = domain[:-1] if domain.endswith(".") else domain
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        raise HostError(f"{domain!r} ends in a number but is not an IPv4 address") from None


def _ipv6(text: str) -> tuple[ipaddress.IPv6Address, str | None]:
    address, pct, zone = text.partition("%")
    if pct:
        zone = unquote_to_bytes("%" + zone).decode("utf-8", errors="replace")
        zone = zone[1:] if zone.startswith("%") else zone  # `%25eth0` is the URL spelling of `%eth0`
        if not zone:
            raise HostError("an empty IPv6 zone id")
    try:
        return ipaddress.IPv6Address(address), zone or None
    except ValueError:
        raise HostError("not an IPv6 address") from None
