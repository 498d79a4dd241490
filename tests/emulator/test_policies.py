"""external_url and media_url policies (api.md §5.3, §5.4), by example and by generation."""

from __future__ import annotations

import string
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_askelephant.core import policies, urlhost
from fake_askelephant.core.policies import (
    UNSAFE_SCHEMES,
    external_url_error,
    is_private_host,
    media_url_policy_error,
    media_url_shape_error,
)
from tests.conftest import Api


@pytest.mark.parametrize(
    "url",
    ["https://a.example/x", "http://a.example", "wavv://call/12345", "tel:+14155550100", "salesforce://Task/00T1"],
)
def test_safe_external_urls_pass(url: str) -> None:
    assert external_url_error(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "JavaScript:alert(1)",
        "  data:text/html,x",
        "java\tscript:x",
        "\u0001vbscript:x",
        "blob:https://a/b",
        "file:///etc/passwd",
        "jav\nascript:alert(1)",
        "\x00javascript:x",
        "javascript\r:x",
    ],
)
def test_spec_unsafe_examples_are_rejected(url: str) -> None:
    err = external_url_error(url)
    assert err is not None and (err.field, err.code) == ("external_url", "unsafe_scheme")


@pytest.mark.parametrize("url", ["dialer.example.com/calls/1", "//host/x", "1http://x", "https:", ":x"])
def test_relative_or_schemeless_urls_are_invalid(url: str) -> None:
    err = external_url_error(url)
    assert err is not None and err.code == "invalid_url"


_SCHEME_TEXT = st.text(alphabet=["a", "Z", "1", "+", ".", "-", ":", "/", "\t", "\n", "\r", "\x00", "\x01", " ", "é"])


@settings(max_examples=1500)
@given(st.one_of(_SCHEME_TEXT, st.builds(lambda a, b: a + ":" + b, _SCHEME_TEXT, _SCHEME_TEXT)))
def test_a_plainly_written_scheme_is_the_readings_scheme(value: str) -> None:
    """external_url_error's shortcut (policies._PLAIN_SCHEME) reads the scheme the browser-like reading reads."""
    plain = policies._PLAIN_SCHEME.match(value)
    if plain is not None:
        assert policies._read_scheme(value) == plain[1], value


def test_the_plain_scheme_shortcut_is_taken_and_kept_out_of_disguises() -> None:
    assert policies._PLAIN_SCHEME.match("https://dialer.example.com/calls/1")
    for disguised in ("java\tscript:x", " javascript:x", "javascript:\tx", "javascript: x", "\x00data:x"):
        assert policies._PLAIN_SCHEME.match(disguised) is None, disguised
    assert external_url_error("javascript:\talert(1)").code == "unsafe_scheme"  # type: ignore[union-attr]
    assert external_url_error("javascript:\t").code == "invalid_url"  # type: ignore[union-attr]


def test_external_url_length_limits() -> None:
    assert external_url_error("").code == "too_short"  # type: ignore[union-attr]
    ok = "https://a.example/" + "x" * (2048 - 18)
    assert len(ok) == 2048 and external_url_error(ok) is None
    assert external_url_error(ok + "x").code == "too_long"  # type: ignore[union-attr]


_noise = st.sampled_from(["\t", "\n", "\r"])
_edge = st.sampled_from([chr(c) for c in range(0x21)])


@st.composite
def disguised_unsafe(draw: st.DrawFn) -> str:
    """A denylisted scheme in random case, with TAB/LF/CR inside and C0/space around it."""
    scheme = draw(st.sampled_from(sorted(UNSAFE_SCHEMES)))
    chars = [c.upper() if draw(st.booleans()) else c for c in scheme]
    out = ""
    for c in chars:
        out += c + (draw(_noise) if draw(st.integers(0, 4)) == 0 else "")
    prefix = "".join(draw(st.lists(_edge, max_size=3)))
    # Something must follow the colon, or the URL is invalid_url before the scheme is judged (api.md §5.3).
    suffix = draw(st.text(string.ascii_letters + string.digits + "/(),.%", min_size=1, max_size=30))
    return prefix + out + ":" + suffix


@given(disguised_unsafe())
@settings(max_examples=300)
def test_every_disguised_denylisted_scheme_is_rejected(url: str) -> None:
    err = external_url_error(url)
    assert err is not None
    assert err.code == "unsafe_scheme"


@given(st.text(max_size=3000))
@settings(max_examples=300)
def test_random_text_never_crashes_the_policies(text: str) -> None:
    err = external_url_error(text)
    assert err is None or err.code in ("too_short", "too_long", "invalid_url", "unsafe_scheme")
    shape = media_url_shape_error(text)
    assert shape is None or shape.code in ("too_long", "invalid_url")
    if shape is None:
        policy = media_url_policy_error(text)
        assert policy is None or policy.code in ("insecure_scheme", "private_address")


@given(st.from_regex(r"[a-z][a-z0-9+.-]{0,10}", fullmatch=True), st.text(min_size=1, max_size=50))
def test_custom_schemes_outside_the_denylist_are_accepted(scheme: str, rest: str) -> None:
    url = f"{scheme}:{rest}"
    if scheme in UNSAFE_SCHEMES or any(c in "\t\n\r" for c in rest) or not rest.strip("".join(map(chr, range(0x21)))):
        return
    assert external_url_error(url) is None


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
    ],
)
def test_private_hosts(host: str) -> None:
    assert is_private_host(host)


@pytest.mark.parametrize("host", ["recordings.example.com", "8.8.8.8", "172.32.0.1", "2001:4860::8888", "11.0.0.1"])
def test_public_hosts(host: str) -> None:
    assert not is_private_host(host)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://recordings.example.com/a.mp3", "insecure_scheme"),
        ("HTTPS://127.0.0.1/a.mp3", "private_address"),
        ("https://[::1]:8443/a.mp3", "private_address"),
        ("https://localhost./a.mp3", "private_address"),
        ("https://2130706433/a.mp3", "private_address"),
    ],
)
def test_media_policy_codes(url: str, code: str) -> None:
    assert media_url_shape_error(url) is None
    err = media_url_policy_error(url)
    assert err is not None and err.code == code


def test_media_policy_accepts_public_https_any_case() -> None:
    assert media_url_policy_error("HtTpS://recordings.example.com/a.mp3") is None


_PLAIN_TEXT = st.text(alphabet="aZ09.-", min_size=1, max_size=8)
# Authorities and tails with a character on which WHATWG and urllib may read an authority differently.
_AUTHORITY_TEXT = st.builds(
    lambda a, odd, b: a + odd + b, _PLAIN_TEXT, st.sampled_from(["", "", *":@\\/?#%[]_ \t\u3002\uff10"]), _PLAIN_TEXT
)


@settings(max_examples=500)
@given(
    scheme=st.sampled_from(["https", "HTTPS", "http", "HtTp"]),
    host=st.one_of(_AUTHORITY_TEXT, st.sampled_from(["127.1", "0x7F.1", "2130706433", "LocalHost.", "a.example"])),
    port=st.sampled_from(["", ":", ":8443", ":443", ":x"]),
    tail=st.one_of(st.just(""), _AUTHORITY_TEXT.map(lambda t: "/" + t)),
)
def test_a_plain_authority_reads_the_same_host_with_urllib(scheme: str, host: str, port: str, tail: str) -> None:
    """media_url_policy_error judges urllib's reading of the host too, unless the URL's authority is plain: then
    urllib's host, read as a URL's host is, must be the WHATWG one (so skipping it cannot change a judgement)."""
    url = f"{scheme}://{host}{port}{tail}"
    if not policies._PLAIN_AUTHORITY.match(url):
        return
    try:
        parts = urlhost.read_url(url)
    except urlhost.HostError:
        return  # refused before any reading is judged
    other = urlsplit(url).hostname
    assert other is not None
    assert urlhost.parse_host(other)[0] == parts.host


# Tails with what WHATWG strips, removes or reads as the authority's end, among characters it keeps as they are.
_TAIL_TEXT = st.text(alphabet=["a", "/", "?", "#", "@", ":", "%", "\\", " ", "\t", "\n", "\x00", "\x7f", "é", "\u3000"])


@settings(max_examples=2000)
@given(  # each part mostly plain, so that most URLs take the shortcut and the odd part is what varies
    lead=st.sampled_from(["", "", "", "", " ", "\t", "\x01"]),
    scheme=st.sampled_from(["https", "https", "https", "http", "HTTPS", "Http", "ftp"]),
    slashes=st.sampled_from(["//", "//", "//", "//", "/", "///", "\\\\", ""]),
    host=st.one_of(
        _PLAIN_TEXT, _AUTHORITY_TEXT, st.sampled_from(["127.1", "0x7F.1", "a.example", "[::1]", "u@a.example"])
    ),
    port=st.sampled_from(["", "", ":", ":8443", ":443", ":80", ":x", ":99999"]),
    tail=st.one_of(st.just(""), st.builds(lambda lead, rest: lead + rest, st.sampled_from("/?#"), _TAIL_TEXT)),
)
def test_the_plain_url_shortcut_splits_as_the_general_reading(
    lead: str, scheme: str, slashes: str, host: str, port: str, tail: str
) -> None:
    """read_url's shortcut for plain URLs (urlhost._PLAIN_URL) must split a URL exactly as split_url does, or not
    match it: then read_url's answer is the general reading's, for every URL (the browser test holds that one)."""
    url = f"{lead}{scheme}:{slashes}{host}{port}{tail}"
    plain = urlhost._PLAIN_URL.fullmatch(url)
    if plain is None:
        return
    scheme_, raw_host, port_text, rest = plain.groups()
    assert urlhost.split_url(url) == (scheme_, raw_host, port_text, rest or "")
    assert _reading(urlhost.read_url.__wrapped__, url) == _reading(general_read, url)


def general_read(url: str) -> urlhost.UrlParts:
    return urlhost._read_split(*urlhost.split_url(url))


def _reading(read: Callable[[str], urlhost.UrlParts], url: str) -> urlhost.UrlParts | str:
    try:
        return read(url)
    except urlhost.HostError as exc:
        return f"HostError: {exc}"


@settings(max_examples=2000)
@given(  # as above: mostly plain parts, one odd
    lead=st.sampled_from(["", "", "", "", " ", "\t", "\x01"]),
    scheme=st.sampled_from(["https", "https", "https", "http", "HTTPS", "Http", "ftp", "wavv"]),
    slashes=st.sampled_from(["//", "//", "//", "//", "/", "///", "\\\\", ""]),
    host=st.one_of(
        _PLAIN_TEXT, _AUTHORITY_TEXT, st.sampled_from(["127.1", "0x7F.1", "a.example", "[::1]", "u@a.example", "a..b"])
    ),
    port=st.sampled_from(["", "", ":", ":8443", ":443", ":80", ":x", ":99999"]),
    tail=st.one_of(st.just(""), st.builds(lambda lead, rest: lead + rest, st.sampled_from("/?#"), _TAIL_TEXT)),
)
def test_the_shape_rule_judges_a_plain_url_as_the_general_check(
    lead: str, scheme: str, slashes: str, host: str, port: str, tail: str
) -> None:
    """media_url_shape_error's shortcut for plain URLs (urlhost.is_plain: ASCII) gives the general check's answer,
    and a host read_url parsed is read again as itself (so the policy judges it without parsing it twice)."""
    url = f"{lead}{scheme}:{slashes}{host}{port}{tail}"
    assert media_url_shape_error(url) == policies._shape_error(url), url
    try:
        parts = urlhost.read_url(url)
    except urlhost.HostError:
        return
    if isinstance(parts.host, str):
        assert urlhost.parse_host(parts.host) == (parts.host, None)
        assert policies._is_private(parts.host) == is_private_host(parts.host)


_INVALID = policies._INVALID_MEDIA_URL


def test_the_shape_rules_shortcut_is_taken_for_a_dialers_url_and_still_reads_the_host() -> None:
    assert urlhost.is_plain("https://recordings.example.com/w-1.mp3")
    assert media_url_shape_error("https://recordings.example.com/w-1.mp3") is None
    for bad in ("https://a..b/x.mp3", "https://0x7g.1/", "https://a.example:99999/", "https://xn--a.example/"):
        assert urlhost.is_plain(bad)
        assert media_url_shape_error(bad) == policies._shape_error(bad) is not None, bad
    for spaced in ("https://a.example/x\u3000y.mp3", "https://a.example/\xa0", "https://a.example/a\x85"):
        assert media_url_shape_error(spaced) == _INVALID, spaced  # Unicode spaces: not plain (ASCII only)


@settings(max_examples=500)
@given(host=_PLAIN_TEXT, port=st.sampled_from(["", ":", ":8443"]), tail=_TAIL_TEXT)
def test_the_plain_url_shortcut_reads_any_tail_as_the_general_reading(host: str, port: str, tail: str) -> None:
    """As above, with a plain start and any tail: what WHATWG strips at the end or removes within counts too."""
    for url in (f"https://{host}{port}/{tail}", f"http://{host}{port}?{tail}"):
        plain = urlhost._PLAIN_URL.fullmatch(url)
        if plain is not None:
            assert urlhost.split_url(url) == (*plain.groups()[:3], plain.groups()[3] or "")
            assert _reading(urlhost.read_url.__wrapped__, url) == _reading(general_read, url)


def test_the_plain_url_shortcut_matches_a_dialers_media_url() -> None:
    """The shortcut is taken where it pays (every create's media URL), not only in theory."""
    assert urlhost._PLAIN_URL.fullmatch("https://recordings.example.com/calls/c-1.mp3?sig=ab%2Fc#t=1")
    assert urlhost._PLAIN_URL.fullmatch("https://recordings.example.com:8443")
    for general in ("HTTPS://a.example/", "https://a.example/x y", "https://a.example\\@b/", "https://u@a.example/"):
        assert urlhost._PLAIN_URL.fullmatch(general) is None, general


def test_plain_authority_fast_path_still_judges_hosts() -> None:
    for url in ("https://127.1/a.mp3", "https://0X7F.1/a.mp3", "https://LOCALHOST/a", "https://10.0.0.1:8443/"):
        err = media_url_policy_error(url)
        assert err is not None and err.code == "private_address", url
    assert media_url_policy_error("https://a.example\\@127.0.0.1/a.mp3") is not None  # the urllib reading


def test_allowed_media_host_skips_private_and_scheme_rules() -> None:
    assert media_url_policy_error("http://127.0.0.1:9000/a.mp3", {"127.0.0.1:9000"}) is None
    assert media_url_policy_error("http://127.0.0.1:9001/a.mp3", {"127.0.0.1:9000"}) is not None


@pytest.mark.parametrize(
    "url", ["recordings.example.com/a.mp3", "https://", "https:///a", "https://a b/x", "https://h:99999/"]
)
def test_media_url_shape_rejects_non_absolute_urls(url: str) -> None:
    err = media_url_shape_error(url)
    assert err is not None and err.code == "invalid_url"


SPACES_AND_CONTROLS = [chr(c) for c in range(0x110000) if chr(c).isspace() or c < 0x20]


@pytest.mark.parametrize("char", SPACES_AND_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_media_url_shape_rejects_every_whitespace_and_control_character(char: str) -> None:
    # str.isspace is the oracle: the rule is "no whitespace, no C0 control" anywhere in the URL.
    for url in (f"https://a.example/x{char}y.mp3", f"https://a{char}b.example/x.mp3", f"https://a.example/x.mp3{char}"):
        err = media_url_shape_error(url)
        assert err is not None and err.code == "invalid_url", (url, err)


@pytest.mark.parametrize("char", ["\u00ad", "\u180e", "\u200b", "\u2060", "\ufeff", "\x7f", "é", "~"])
def test_media_url_shape_accepts_characters_that_are_not_whitespace(char: str) -> None:
    assert not char.isspace() and ord(char) >= 0x20
    assert media_url_shape_error(f"https://a.example/x{char}y.mp3") is None


@given(
    st.text(max_size=40)
    | st.from_regex(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)", fullmatch=True)
)
@settings(max_examples=300)
def test_timestamps_parse_or_raise_value_error(text: str) -> None:
    """Regression: extreme offsets raised OverflowError (a 500) instead of a validation error."""
    from fake_askelephant.core.timefmt import MAX_MS, MIN_MS, format_ms, parse_iso

    try:
        ms = parse_iso(text)
    except ValueError:
        return
    assert MIN_MS <= ms <= MAX_MS
    assert parse_iso(format_ms(ms)) == ms


async def test_a_create_reads_its_media_url_once(api: Api) -> None:
    """The shape rule, the media policy and the offline media model each read the URL: one parse, two cache hits
    (it was three parses, ~6 % of a create's time under load)."""
    urlhost.read_url.cache_clear()
    resp = await api.create(media_url="https://recordings.example.com/calls/once-7.mp3")
    assert resp.status == 201, await resp.text()
    info = urlhost.read_url.cache_info()
    assert (info.misses, info.hits) == (1, 2)
