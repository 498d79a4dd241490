"""URL policies for `external_url` (api.md §5.3) and `media_url` (api.md §5.4). Pure functions."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from urllib.parse import urlsplit

from . import urlhost
from .errors import FieldError

EXTERNAL_URL_MAX = 2048
MEDIA_URL_MAX = 2048
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "blob", "file"})

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_EMBEDDED = re.compile(r"[\t\n\r]")
# A scheme from the first character on, a colon, then a character the reading keeps: nothing before that character is
# stripped or removed, so this is the reading's scheme (tests/emulator/test_policies.py holds the two together).
_PLAIN_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):[^\x00-\x20]")
# What no media_url may contain: whitespace (`\s` is str.isspace's set) and C0 controls.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")
_EDGE = "".join(chr(c) for c in range(0x21))  # C0 controls and space
# A URL whose authority is only letters, digits, dots and hyphens (and a port): WHATWG and urllib end the authority
# at the same character and both take the host as written, lower-cased, so urllib's reading adds nothing to judge
# (tests/emulator/test_policies.py holds this to urlsplit).
_PLAIN_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9.\-]+(?::[0-9]*)?(?:[/?#]|\Z)")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible addresses, :: and ::1 included
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_INVALID_MEDIA_URL = FieldError(
    "media_url", "invalid_url", "media_url must be an absolute URL with a scheme and a host."
)  # one, shared (frozen): the shape check ran FieldError() on every valid URL too


def external_url_error(value: str) -> FieldError | None:
    """Check a deep link as a browser would read it; the stored value stays byte-for-byte as sent.

    Browsers drop leading/trailing C0 controls and spaces and every TAB/LF/CR anywhere before resolving
    the scheme, which is how `java\\tscript:` becomes `javascript:`; the check works on that reading.
    """
    if len(value) < 1:
        return FieldError("external_url", "too_short", "external_url must not be empty.")
    if len(value) > EXTERNAL_URL_MAX:
        return FieldError("external_url", "too_long", f"external_url must be at most {EXTERNAL_URL_MAX} characters.")
    plain = _PLAIN_SCHEME.match(value)
    scheme = plain[1] if plain is not None else _read_scheme(value)
    if scheme is None:
        return FieldError(
            "external_url",
            "invalid_url",
            "external_url must be an absolute URI with a scheme, e.g. https://… or wavv://call/123.",
        )
    if scheme.lower() in UNSAFE_SCHEMES:
        return FieldError(
            "external_url",
            "unsafe_scheme",
            f"external_url scheme '{scheme.lower()}:' is not allowed "
            "(javascript, data, vbscript, blob and file are rejected).",
        )
    return None


def _read_scheme(value: str) -> str | None:
    """The scheme of the reading described above; None when it has none (no colon, nothing after it)."""
    reading = _EMBEDDED.sub("", value.strip(_EDGE))
    scheme, colon, rest = reading.partition(":")
    return scheme if colon and rest and _SCHEME.fullmatch(scheme) else None


def media_url_shape_error(value: str) -> FieldError | None:
    """Field rule (runs before idempotency): an absolute URL with a scheme and a host a client would accept."""
    if len(value) > MEDIA_URL_MAX:
        return FieldError("media_url", "too_long", f"media_url must be at most {MEDIA_URL_MAX} characters.")
    if value.isascii() and urlhost.is_plain(value):
        # A lower-case http(s) scheme, `://`, a host's letters, digits, dots and hyphens, then no space, control or
        # backslash: every rule of the general check below holds but its reading (test_policies.py holds the two).
        try:
            urlhost.read_url(value)
        except urlhost.HostError:
            return _INVALID_MEDIA_URL
        return None
    return _shape_error(value)


def _shape_error(value: str) -> FieldError | None:
    invalid = _INVALID_MEDIA_URL
    scheme, sep, rest = value.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme) or _SPACE_OR_CONTROL.search(value):
        return invalid
    if rest[:1] in ("/", "\\"):  # `https:///host`: a client would guess the host; we do not
        return invalid
    if scheme.lower() in urlhost.SPECIAL_PORTS:
        try:
            urlhost.read_url(value)
        except urlhost.HostError:
            return invalid
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a non-numeric or out-of-range port
    except ValueError:
        return invalid
    return None if parts.hostname else invalid


def media_url_policy_error(value: str, allow_hosts: Collection[str] = ()) -> FieldError | None:
    """Media policy (runs after idempotency): https only, no private or loopback hosts.

    The host is the one the network would use (core/urlhost.py: WHATWG/IDNA normalisation, every numeric
    IPv4 form); a URL that a non-WHATWG parser (RFC 3986, urllib) reads with another host is judged on both.
    """
    scheme = value.partition(":")[0].strip().lower()
    if scheme not in urlhost.SPECIAL_PORTS:
        return FieldError("media_url", "insecure_scheme", "media_url must use https.")
    try:
        parts = urlhost.read_url(value)
    except urlhost.HostError:
        return _INVALID_MEDIA_URL
    if host_allowed(parts, allow_hosts):
        return None
    if parts.scheme != "https":
        return FieldError("media_url", "insecure_scheme", "media_url must use https.")
    # A zone id scopes the address to a local interface: never a public host.
    other = _urllib_host(value, parts)
    if parts.zone is not None or _is_private(parts.host) or (other is not None and is_private_host(other)):
        return FieldError(
            "media_url",
            "private_address",
            "media_url must point to a public host; private, loopback and link-local addresses are rejected.",
        )
    return None


# The offline media host (api.md §5.4): without --media-fetch nothing is fetched, so a deterministic model stands in
# for the network. The last path segment's extension decides the content type: these are never audio/video.
# Recording URLs often carry no extension (signed links, `/recordings/123`); those, and any other extension,
# count as media, as the media a dialer sends normally is.
NON_MEDIA_EXTENSIONS = frozenset(
    (
        *("html", "htm", "xhtml", "shtml", "php", "asp", "aspx", "jsp", "cgi"),  # web pages
        *("pdf", "json", "xml", "txt", "csv", "tsv", "md", "rtf", "yaml", "yml"),  # documents and data
        *("doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods"),  # office files
        *("zip", "gz", "tgz", "tar", "rar", "7z", "bz2", "xz", "exe", "bin", "dmg", "iso", "apk", "msi"),
        *("png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "heic"),  # images
        *("css", "js", "mjs", "map"),
    )
)
# RFC 6761 §6.4: names under .invalid never resolve, so a media host there is unreachable by definition.
UNREACHABLE_SUFFIX = ".invalid"


def offline_media_error(value: str) -> FieldError | None:
    """The offline media model: a `.invalid` host is unreachable; a non-media extension is the wrong type.

    Runs after media_url_policy_error passed, so the URL reads (core/urlhost.py): host and path as a client sees them.
    """
    parts = urlhost.read_url(value)
    host = str(parts.host).removesuffix(".")
    if host == UNREACHABLE_SUFFIX[1:] or host.endswith(UNREACHABLE_SUFFIX):
        return FieldError(
            "media_url",
            "media_unreachable",
            f"media_url could not be fetched: host {host!r} does not resolve "
            "(offline media model: hosts under .invalid are unreachable).",
        )
    segment = parts.path_query.partition("?")[0].rsplit("/", 1)[-1]
    extension = segment.rpartition(".")[2].lower() if "." in segment else ""
    if extension in NON_MEDIA_EXTENSIONS:
        return FieldError(
            "media_url",
            "unsupported_media_type",
            f"media_url does not serve audio/* or video/* content (offline media model: a .{extension} path "
            "is not media).",
        )
    return None


def _urllib_host(value: str, parts: urlhost.UrlParts) -> str | None:
    """The host RFC 3986 parsers (urllib) see where it is not the WHATWG one: `https://a.example\\@127.0.0.1/`."""
    if _PLAIN_AUTHORITY.match(value):
        return None
    try:
        other = urlsplit(value).hostname
    except ValueError:
        return None
    return other if other and other != parts.host else None  # the same text is the same judgement


def host_allowed(parts: urlhost.UrlParts, allow_hosts: Collection[str]) -> bool:
    """`--allow-media-host HOST[:PORT]`, compared with the normalised host and its effective port."""
    if not allow_hosts:
        return False
    host = str(parts.host).removesuffix(".")
    return host in allow_hosts or f"{host}:{parts.effective_port}" in allow_hosts


def is_private_host(host: urlhost.Host) -> bool:
    """True for localhost names and for addresses that are not public unicast (see is_private_address).

    A string is read as a URL's host is (urlhost.parse_host: `１２７.０.０.１`, `0x7f.1`, `[::1]` or `::1`);
    one no client would accept is not judged here (the shape rule refuses it).
    """
    if isinstance(host, str):
        text = f"[{host}]" if ":" in host and not host.startswith("[") else host
        try:
            host = urlhost.parse_host(text)[0]
        except urlhost.HostError:
            return False
    return _is_private(host)


def _is_private(host: urlhost.Host) -> bool:
    """is_private_host of a host urlhost.parse_host gave (which reads it again as itself)."""
    if isinstance(host, str):
        name = host.removesuffix(".")
        return name == "localhost" or name.endswith(".localhost")
    return is_private_address(host)


def is_private_address(address: urlhost.Address) -> bool:
    """Anything but public unicast: private, loopback, link-local, unspecified, reserved, multicast, shared.

    IPv6 forms that carry an IPv4 address are judged by it (NAT64 64:ff9b::/96, 6to4 2002::/16); IPv4-mapped
    and IPv4-compatible literals are refused whatever they carry (no public service is reached that way).
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None or address in _V4_COMPATIBLE:
            return True
        embedded = _embedded_v4(address)
        if embedded is not None:
            return is_private_address(embedded)
    return bool(
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
        or address.is_multicast
    )


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour
