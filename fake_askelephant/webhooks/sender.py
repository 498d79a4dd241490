"""The HTTP side of delivery: one pooled aiohttp session, a real 15 s timeout, redirects not followed.

A receiver's answer is read up to MAX_RESPONSE_BYTES, within the same 15 s as the rest of the attempt: a body
that is longer is cut there (the attempt records `response_truncated`) and its connection closed, and one
that dribbles past the deadline fails the attempt as a timeout — a receiver cannot make the emulator hold a
gigabyte or wait forever (issue #19). Svix likewise keeps only a bounded part of each response.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from .. import __version__
from .transport import SendResult

USER_AGENT = f"Svix-Webhooks/fake-askelephant-{__version__}"
POOL_SIZE = 256  # bounded: many endpoints deliver concurrently without a tiny fixed cap
MAX_RESPONSE_BYTES = 64 * 1024  # of a receiver's answer body; the rest is never read


class HttpSender:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    @classmethod
    def create_session(cls) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=POOL_SIZE, limit_per_host=POOL_SIZE),
            headers={"User-Agent": USER_AGENT},
            auto_decompress=False,
        )

    async def send(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult:
        started = time.perf_counter()
        status: int | None = None
        try:
            async with self._session.post(
                url,
                data=body,
                headers={**headers, "Content-Type": "application/json"},
                allow_redirects=False,  # a 3xx is a failure (webhooks.md §6)
                timeout=aiohttp.ClientTimeout(total=timeout_s),  # the body is read within it too
            ) as resp:
                status = resp.status
                truncated = await _read_bounded(resp, MAX_RESPONSE_BYTES)
                if truncated:
                    resp.close()  # never drain the rest into the pool
                return SendResult(resp.status, _status_error(resp.status), _ms(started), truncated=truncated)
        except TimeoutError:
            if status is not None:
                detail = f"timeout: HTTP {status}, but the body did not end within {timeout_s:g} s"
                return SendResult(status, detail, _ms(started))
            return SendResult(None, f"timeout: no response within {timeout_s:g} s", _ms(started))
        except aiohttp.ClientConnectorError as exc:
            return SendResult(None, f"connection failed: {exc.os_error or exc}", _ms(started))
        except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}", _ms(started))


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bool:
    """Read the body up to `limit` bytes and drop it; True when there was more."""
    read = 0
    while read <= limit:
        chunk = await resp.content.read(limit + 1 - read)
        if not chunk:
            return False
        read += len(chunk)
    return True


def _status_error(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    return f"HTTP {status}"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
