"""URL policies for `external_url` (api.md §5.3) and `media_url` (api.md §5.4). Pure functions."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Collection
from urllib.parse import urlsplit

from .errors import FieldError

EXTERNAL_URL_MAX = 2048
MEDIA_URL_MAX = 2048
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "blob", "file"})

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_EMBEDDED = re.compile(r"[\t\n\r]")
_EDGE = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_NUMERIC_V4 = re.compile(r"^[0-9A-Fa-fXx.]+$")

_PRIVATE_V4 = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16")
)
_PRIVATE_V6 = tuple(ipaddress.ip_network(n) for n in ("::/128", "::1/128", "fe80::/10", "fc00::/7"))


def external_url_error(value: str) -> FieldError | None:
    """Check a deep link as a browser would read it; the stored value stays byte-for-byte as sent.

    Browsers drop leading/trailing C0 controls and spaces and every TAB/LF/CR anywhere before resolving
    the scheme, which is how `java\\tscript:` becomes `javascript:`; the check works on that reading.
    """
    if len(value) < 1:
        return FieldError("external_url", "too_short", "external_url must not be empty.")
    if len(value) > EXTERNAL_URL_MAX:
        return FieldError("external_url", "too_long", f"external_url must be at most {EXTERNAL_URL_MAX} characters.")
    reading = _EMBEDDED.sub("", value.strip(_EDGE))
    scheme, colon, rest = reading.partition(":")
    if not colon or not rest or not _SCHEME.fullmatch(scheme):
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


def media_url_shape_error(value: str) -> FieldError | None:
    """Field rule (runs before idempotency): an absolute URL with a scheme and a host."""
    if len(value) > MEDIA_URL_MAX:
        return FieldError("media_url", "too_long", f"media_url must be at most {MEDIA_URL_MAX} characters.")
    invalid = FieldError("media_url", "invalid_url", "media_url must be an absolute URL with a scheme and a host.")
    scheme, sep, _ = value.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme) or any(c.isspace() or ord(c) < 0x20 for c in value):
        return invalid
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a non-numeric or out-of-range port
    except ValueError:
        return invalid
    return None if parts.hostname else invalid


def media_url_policy_error(value: str, allow_hosts: Collection[str] = ()) -> FieldError | None:
    """Media policy (runs after idempotency): https only, no private or loopback hosts."""
    parts = urlsplit(value)
    host = (parts.hostname or "").rstrip(".")
    if _host_allowed(host, parts.port, allow_hosts):
        return None
    if parts.scheme.lower() != "https":
        return FieldError("media_url", "insecure_scheme", "media_url must use https.")
    if is_private_host(host):
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
    """The offline media model: a `.invalid` host is unreachable; a non-media extension is the wrong type."""
    parts = urlsplit(value)
    host = (parts.hostname or "").rstrip(".")
    if host == UNREACHABLE_SUFFIX[1:] or host.endswith(UNREACHABLE_SUFFIX):
        return FieldError(
            "media_url",
            "media_unreachable",
            f"media_url could not be fetched: host {host!r} does not resolve "
            "(offline media model: hosts under .invalid are unreachable).",
        )
    segment = parts.path.rsplit("/", 1)[-1]
    extension = segment.rpartition(".")[2].lower() if "." in segment else ""
    if extension in NON_MEDIA_EXTENSIONS:
        return FieldError(
            "media_url",
            "unsupported_media_type",
            f"media_url does not serve audio/* or video/* content (offline media model: a .{extension} path "
            "is not media).",
        )
    return None


def _host_allowed(host: str, port: int | None, allow_hosts: Collection[str]) -> bool:
    return bool(allow_hosts) and (host in allow_hosts or (port is not None and f"{host}:{port}" in allow_hosts))


def is_private_host(host: str) -> bool:
    """True for localhost names and private/loopback/link-local/unspecified literal addresses.

    Numeric IPv4 spellings that resolvers accept (`2130706433`, `0x7f.1`, `127.1`) are normalised first.
    """
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = parse_ip(host)
    return address is not None and is_private_address(address)


def parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return True
        return any(address in net for net in _PRIVATE_V6)
    return any(address in net for net in _PRIVATE_V4)
