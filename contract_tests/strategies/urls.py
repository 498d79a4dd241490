"""URL strategies for ``external_url`` (api.md §5.3) and ``media_url`` (§5.4), good and bad."""

from __future__ import annotations

from hypothesis import strategies as st

UNSAFE_SCHEMES = ("javascript", "data", "vbscript", "blob", "file")
# C0 controls and space: stripped from both ends before the scheme is read (api.md §5.3 step 2).
_EDGE_CHARS = [chr(c) for c in range(0x20)] + [" "]
_INNER_CHARS = ["\t", "\n", "\r"]
_AFTER_COLON = {
    "javascript": ["alert(1)", "alert(document.cookie)//", "void(0)"],
    "data": ["text/html,<script>alert(1)</script>", "text/html;base64,PHNjcmlwdD4=", ",x"],
    "vbscript": ["msgbox(1)", "x"],
    "blob": ["https://a/b", "https://dialer.example.com/5a1f"],
    "file": ["///etc/passwd", "//host/share/x", "/C:/Windows/win.ini"],
}

# The spec's own examples (api.md §5.3), always tried before generated ones.
DOCUMENTED_UNSAFE_EXTERNAL_URLS = (
    "JavaScript:alert(1)",
    "  data:text/html,x",
    "java\tscript:x",
    "\u0001vbscript:x",
    "blob:https://a/b",
    "file:///etc/passwd",
)
DOCUMENTED_INVALID_EXTERNAL_URLS = ("dialer.example.com/calls/1", "//host/x")
DOCUMENTED_SAFE_EXTERNAL_URLS = (
    "https://my-dialer.example.com/calls/call-20260513-001",
    "http://dialer.example.com/calls/1",
    "wavv://call/12345",
    "tel:+14155550100",
    "salesforce://Task/00T1",
)


@st.composite
def _random_case(draw: st.DrawFn, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if f else c for c, f in zip(word, flips, strict=True))


@st.composite
def _with_inner_breaks(draw: st.DrawFn, word: str) -> str:
    """Insert TAB/LF/CR inside ``word``: browsers delete them, so ``java\\tscript:`` is ``javascript:``."""
    out = []
    for ch in word:
        out.append(ch)
        out.append(draw(st.text(alphabet=_INNER_CHARS, max_size=1)))
    return "".join(out)


@st.composite
def unsafe_external_urls(draw: st.DrawFn) -> str:
    """A denylisted scheme, disguised by case, edge controls/spaces and inner TAB/LF/CR: ``unsafe_scheme``."""
    scheme = draw(st.sampled_from(UNSAFE_SCHEMES))
    disguised = draw(_random_case(scheme))
    if draw(st.booleans()):
        disguised = draw(_with_inner_breaks(disguised))
    lead = draw(st.text(alphabet=_EDGE_CHARS, max_size=3))
    trail = draw(st.text(alphabet=_EDGE_CHARS, max_size=2))
    rest = draw(st.sampled_from(_AFTER_COLON[scheme]))
    return f"{lead}{disguised}:{rest}{trail}"


def invalid_external_urls() -> st.SearchStrategy[str]:
    """No usable scheme (``invalid_url``): no colon, empty or malformed scheme, nothing after it."""
    return st.one_of(
        st.sampled_from(DOCUMENTED_INVALID_EXTERNAL_URLS),
        st.from_regex(r"\A[a-z]{3,10}\.example\.com/[a-z0-9/]{0,20}\Z"),
        st.from_regex(r"\A[0-9+.\-][a-z]{1,8}://x\Z"),
        st.sampled_from(["https:", "wavv:", ":x", "\u00a0javascript:x", "ja va:x"]),
    )


_HOST_LABEL = r"[a-z][a-z0-9]{0,14}"


def public_hosts() -> st.SearchStrategy[str]:
    """DNS names under reserved example TLDs/domains: never private, never fetched offline."""
    return st.from_regex(rf"\A({_HOST_LABEL}\.){{0,2}}example\.(com|net|org)\Z")


def url_paths() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A(/[A-Za-z0-9._~-]{1,16}){0,4}\Z")


@st.composite
def safe_external_urls(draw: st.DrawFn) -> str:
    """Accepted deep links: http(s) URLs and app schemes, sometimes with edge whitespace (kept verbatim)."""
    base = draw(
        st.one_of(
            st.sampled_from(DOCUMENTED_SAFE_EXTERNAL_URLS),
            st.builds(
                lambda s, h, p: f"{s}://{h}{p}",
                st.sampled_from(["https", "http", "HTTPS"]),
                public_hosts(),
                url_paths(),
            ),
            st.builds(
                lambda s, n: f"{s}://call/{n}",
                st.from_regex(r"\A[a-z][a-z0-9+.\-]{0,12}\Z"),
                st.integers(0, 10**9),
            ),
            st.builds(lambda n: f"tel:+{n}", st.integers(10**9, 10**14)),
        )
    )
    # The scheme is javascript-free by construction; reject the rare generated denylisted name.
    if base.split(":", 1)[0].lower() in UNSAFE_SCHEMES:
        return "wavv://call/1"
    if draw(st.integers(0, 9)) == 0:
        base = " " + base + "\t"
    return base


@st.composite
def public_media_urls(draw: st.DrawFn) -> str:
    """An https recording URL on a public host (scheme in any case, api.md §5.4)."""
    scheme = draw(_random_case("https"))
    ext = draw(st.sampled_from([".mp3", ".wav", ".m4a", ".mp4", ""]))
    return f"{scheme}://{draw(public_hosts())}{draw(url_paths())}/rec{draw(st.integers(0, 10**6))}{ext}"


# Documented media failures (api.md §5.4) that need no network to decide: web pages and documents are not
# audio/video, and `.invalid` names never resolve (RFC 6761).
NON_MEDIA_URLS = (
    "https://example.com/page.html",
    "https://example.com/docs/brochure.pdf",
    "https://example.com/api/call.json",
)
UNREACHABLE_MEDIA_URLS = ("https://unreachable.invalid/call.mp3", "https://recordings.contract-test.invalid/a.wav")

PRIVATE_MEDIA_HOSTS = (
    "localhost",
    "LOCALHOST",
    "rec.localhost",
    "localhost.",
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f.1",
    "0.0.0.0",  # noqa: S104 - a URL host to be rejected, not a bind address
    "10.0.0.5",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.10",
    "169.254.169.254",
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
)


@st.composite
def private_media_urls(draw: st.DrawFn) -> str:
    """https URLs on loopback, private, link-local hosts or numeric aliases: ``private_address``."""
    host = draw(
        st.one_of(
            st.sampled_from(PRIVATE_MEDIA_HOSTS),
            st.builds(
                lambda a, b, c: f"10.{a}.{b}.{c}",
                st.integers(0, 255),
                st.integers(0, 255),
                st.integers(0, 255),
            ),
            st.builds(
                lambda a, b, c: f"172.{a}.{b}.{c}",
                st.integers(16, 31),
                st.integers(0, 255),
                st.integers(0, 255),
            ),
            st.builds(lambda b, c: f"192.168.{b}.{c}", st.integers(0, 255), st.integers(0, 255)),
            st.builds(lambda b, c: f"127.{b}.0.{c}", st.integers(0, 255), st.integers(0, 255)),
        )
    )
    port = draw(st.sampled_from(["", ":443", ":8080"]))
    return f"https://{host}{port}/recordings/{draw(st.integers(0, 999))}.mp3"


@st.composite
def insecure_media_urls(draw: st.DrawFn) -> str:
    """Plain-http recording URLs on public hosts: ``insecure_scheme``."""
    return f"{draw(_random_case('http'))}://{draw(public_hosts())}/rec/{draw(st.integers(0, 999))}.mp3"
