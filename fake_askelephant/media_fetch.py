"""`--media-fetch`: check a media_url for real, as the AskElephant server does during the request (api.md §5.4).

GET without following redirects automatically: each of at most MAX_REDIRECTS hops is re-checked against the
media policy (https, no private hosts), and every DNS answer is checked before connecting, on the same
resolution the connection then uses, so a name that resolves to 127.0.0.1 (DNS rebinding) is refused too.
The request goes to the URL rebuilt from the policy's own reading of it (core/urlhost.py), so the host the
client connects to is the host that was checked, however the original spelled it.
Hosts given with `--allow-media-host` skip both rules. Only `audio/*` and `video/*` answers are accepted;
the body is read up to MAX_BYTES and its duration read with mutagen, falling back to the offline
f(seed, URL) when mutagen does not know the format. No proxies from the environment are used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import tempfile
from collections.abc import Callable, Collection
from typing import IO
from urllib.parse import urljoin

import aiohttp
import mutagen
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from . import __version__
from .core import policies, urlhost
from .core.errors import FieldError, Unavailable, ValidationFailed

MAX_REDIRECTS = 3
TIMEOUT_S = 15.0  # whole fetch, each hop included (emulator choice)
MAX_BYTES = 64 * 1024 * 1024  # larger media is refused as unreachable (emulator choice)
SPOOL_BYTES = 1024 * 1024  # kept in memory up to this, then spooled to a temporary file
REDIRECTS = frozenset({301, 302, 303, 307, 308})
SHUTTING_DOWN = "The emulator is shutting down; the media_url was not checked and nothing was stored. Retry."
PRIVATE_MESSAGE = "media_url must point to a public host; private, loopback and link-local addresses are rejected."


class PrivateAddressError(OSError):
    """A DNS answer named a private address (raised inside aiohttp's connector, so an OSError)."""


def _allowed(host: str, port: int | None, allow_hosts: Collection[str]) -> bool:
    """aiohttp passes the host of the rebuilt URL: normalised as the allow list is, but for a trailing dot."""
    host = host.removesuffix(".")
    return host in allow_hosts or (port is not None and f"{host}:{port}" in allow_hosts)


def _answer_is_private(answer: ResolveResult) -> bool:
    try:
        address = ipaddress.ip_address(answer["host"].split("%")[0])
    except ValueError:
        return True  # not an address we can judge: refuse rather than connect
    return policies.is_private_address(address)


class GuardedResolver(AbstractResolver):
    """Resolves with `inner`, then refuses the whole answer if any address is private."""

    def __init__(self, inner: AbstractResolver, allow_hosts: Collection[str]) -> None:
        self._inner = inner
        self._allow = allow_hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if not _allowed(host, port, self._allow):
            for answer in answers:
                if _answer_is_private(answer):
                    raise PrivateAddressError(f"{host} resolves to private address {answer['host']}")
        return answers

    async def close(self) -> None:
        await self._inner.close()


def _resolve_location(base: str, location: str) -> str:
    """A Location against the URL fetched; backslashes before the query count as slashes (WHATWG)."""
    head, sep, query = location.partition("?")
    return urljoin(base, head.replace("\\", "/") + sep + query)


def _unreachable(detail: str) -> ValidationFailed:
    return ValidationFailed.single("media_url", "media_unreachable", f"media_url could not be fetched: {detail}.")


def _read_duration(fileobj: IO[bytes]) -> float | None:
    try:
        found = mutagen.File(fileobj)
    except Exception:  # mutagen raises many types for unknown or damaged data; all mean "no duration"
        return None
    length = getattr(getattr(found, "info", None), "length", None)
    return float(length) if length and length > 0 else None


class MediaFetcher:
    """The `media_probe` of EngagementService: `await fetcher.probe(url)` → duration seconds, or a 422."""

    def __init__(
        self,
        allow_hosts: Collection[str] = (),
        *,
        fallback_duration: Callable[[str], int],
        resolver: AbstractResolver | None = None,
        timeout_s: float = TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._allow = frozenset(allow_hosts)
        self._fallback = fallback_duration
        self._resolver = resolver
        self._timeout = timeout_s
        self._max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None
        self._running: set[asyncio.Task[int]] = set()
        self._stopping = asyncio.Event()  # set by stop(): shutdown has begun

    async def start(self) -> None:
        resolver = GuardedResolver(self._resolver or DefaultResolver(), self._allow)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False),
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            trust_env=False,  # a proxy would resolve names itself and bypass the address check
            auto_decompress=False,
            headers={"User-Agent": f"fake-askelephant/{__version__} media-fetch", "Accept": "audio/*, video/*"},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def stop(self) -> None:
        """Shutdown has begun: fetches in flight end now (their creates get a 503), new ones are refused.

        Called before the server waits for requests in flight, so a hanging media host cannot hold SIGTERM
        past its bound (issue #19).
        """
        self._stopping.set()
        for task in self._running:
            task.cancel()

    async def probe(self, url: str) -> int:
        if self._session is None or self._stopping.is_set():
            raise Unavailable(SHUTTING_DOWN)
        task = asyncio.ensure_future(self._timed_fetch(self._session, url))
        self._running.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._stopping.is_set() and not (current is not None and current.cancelling()):
                raise Unavailable(SHUTTING_DOWN) from None  # our stop(), not the request's own cancellation
            raise
        finally:
            self._running.discard(task)

    async def _timed_fetch(self, session: aiohttp.ClientSession, url: str) -> int:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._fetch(session, url)
        except TimeoutError:
            raise _unreachable(f"no complete answer within {self._timeout:g} s") from None

    async def _fetch(self, session: aiohttp.ClientSession, url: str) -> int:
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            error = policies.media_url_policy_error(current, self._allow)
            if error is not None:
                if hop:
                    error = FieldError(error.field, error.code, f"{error.message} (redirected to {current})")
                raise ValidationFailed([error])
            target = urlhost.read_url(current).url()  # passed the policy, so it reads
            try:
                async with session.get(target, allow_redirects=False) as resp:
                    if resp.status in REDIRECTS:
                        location = resp.headers.get("Location")
                        if not location:
                            raise _unreachable(f"HTTP {resp.status} without a Location header")
                        current = _resolve_location(target, location)
                        continue
                    return await self._read_media(resp, current)
            except aiohttp.ClientConnectorDNSError as exc:
                if isinstance(exc.os_error, PrivateAddressError):
                    host = urlhost.read_url(current).host_text
                    raise ValidationFailed.single(
                        "media_url", "private_address", f"{PRIVATE_MESSAGE} ({host} resolves to one)"
                    ) from None
                raise _unreachable(f"DNS lookup failed for {urlhost.read_url(current).host_text}") from None
            except aiohttp.ClientError as exc:
                raise _unreachable(f"{type(exc).__name__}: {exc}") from None
        raise _unreachable(f"more than {MAX_REDIRECTS} redirects")

    async def _read_media(self, resp: aiohttp.ClientResponse, url: str) -> int:
        if not 200 <= resp.status < 300:
            raise _unreachable(f"HTTP {resp.status}")
        mime = resp.content_type.lower()
        if not mime.startswith(("audio/", "video/")):
            raise ValidationFailed.single(
                "media_url",
                "unsupported_media_type",
                f"media_url must serve audio/* or video/* content, not {mime or 'an untyped body'}.",
            )
        if resp.content_length is not None and resp.content_length > self._max_bytes:
            raise _unreachable(f"{resp.content_length} bytes is over the {self._max_bytes}-byte limit")
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            total = 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                total += len(chunk)
                if total > self._max_bytes:
                    raise _unreachable(f"the body is over the {self._max_bytes}-byte limit")
                spool.write(chunk)
            spool.seek(0)
            seconds = await asyncio.to_thread(_read_duration, spool)
        return max(1, math.ceil(seconds)) if seconds is not None else self._fallback(url)
