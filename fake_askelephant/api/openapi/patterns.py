"""The request rules written in code (core/policies.py, core/timefmt.py, api/schemas.py validators), stated as
JSON Schema patterns (ECMA-262 syntax, which Python's `re` reads the same way for these).

Each pattern matches only values its rule accepts; tests/emulator/test_openapi_patterns.py holds every pattern
to its rule with generated strings both ways, and lists the few spellings the server accepts beyond the
declared canonical form (a leading space before an external_url scheme, a URL as a company domain).
"""

from __future__ import annotations

import re

from ...core.policies import NON_MEDIA_EXTENSIONS


def id_pattern(prefix: str) -> str:
    return rf"^{prefix}_[A-Za-z0-9]+$"


def _ci(word: str) -> str:
    """`abc` → `[Aa][Bb][Cc]`: case-insensitive without regex flags, which JSON Schema has none of."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


# api.md §1: ISO-8601 with Z or an offset, between 1970-01-01 and 9099-12-31 (emulator choice). The year bounds
# are written with one day to spare on each side, so that no offset can carry a matching value out of range.
_YEAR = r"(?:19[7-9][0-9]|[2-8][0-9]{3}|90[0-9]{2})"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"  # 29 February left out: the pattern has no leap-year arithmetic
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
REQUEST_DATETIME_PATTERN = rf"^(?!1970-01-01T[^Zz]*\+)(?!9099-12-31T[^Zz]*-){_YEAR}-{_MONTH_DAY}[Tt]{_TIME}{_OFFSET}$"

# api/schemas.py email_shape: one inner @ with something on both sides.
EMAIL_PATTERN = r"^[^@]+@[^@]+$"

# core/policies.py external_url_error: an absolute URI (scheme ":" something) whose scheme is not javascript,
# data, vbscript, blob or file, in any case. Declared in its canonical form: no leading blanks, no TAB/LF/CR
# inside the scheme (browsers drop those, so the server reads `java\tscript:` as javascript:).
_UNSAFE = "|".join(_ci(s) + ":" for s in ("javascript", "data", "vbscript", "blob", "file"))
EXTERNAL_URL_PATTERN = rf"^(?!{_UNSAFE})[A-Za-z][A-Za-z0-9+.\-]*:[\s\S]*[^\x00-\x20][\s\S]*$"

# core/policies.py media_url_shape_error, media_url_policy_error (default settings) and offline_media_error: https,
# a host that is a name (its last label starts with a letter, so WHATWG never reads it as IPv4), not localhost,
# not under .invalid (unreachable), no `xn--` label to decode, and a last path segment whose extension is not a
# known non-media type; no blanks, control characters or backslashes. The server also takes a port, userinfo,
# non-ASCII names and, with --allow-media-host, plain http; the declared form leaves them out.
_DNS_LABEL = r"(?![Xx][Nn]--)[A-Za-z0-9-]+"
_TLD = r"(?![Xx][Nn]--)[A-Za-z][A-Za-z0-9-]*"


def _not_host(name: str) -> str:
    return rf"(?!(?:{_DNS_LABEL}\.)*{_ci(name)}\.?(?:[/?#]|$))"


_NON_MEDIA = "|".join(_ci(e) for e in sorted(NON_MEDIA_EXTENSIONS))
_HOST = rf"{_not_host('localhost')}{_not_host('invalid')}(?:{_DNS_LABEL}\.)*{_TLD}\.?"
_MEDIA_PATH = rf"(?![^?#\s\\]*\.(?:{_NON_MEDIA})(?:[?#]|$))[/?#][^\s\x00-\x1f\\]*"
MEDIA_URL_PATTERN = rf"^{_ci('https')}://{_HOST}(?:{_MEDIA_PATH})?$"

# core/directory.py normalize_domain: a domain name of two or more labels, or a URL around one (scheme, userinfo,
# port and path are dropped, then one leading `www.`, which must not leave a single label). ASCII only here; the
# server also takes internationalised names (stored as punycode).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"(?!{_ci('www')}\.{_LABEL}\.?(?:[:/?#]|$)){_LABEL}(?:\.{_LABEL})+\.?"
DOMAIN_PATTERN = rf"^(?:[A-Za-z][A-Za-z0-9+.\-]*://)?(?:[^\s/?#@]*@)?{_NAME}(?::[0-9]*)?(?:[/?#]\S*)?$"
