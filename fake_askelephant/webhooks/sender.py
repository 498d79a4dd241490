"""The HTTP side of delivery: one pooled aiohttp session, a real 15 s timeout, redirects not followed."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from .. import __version__
from .transport import SendResult

USER_AGENT = f"Svix-Webhooks/fake-askelephant-{__version__}"
POOL_SIZE = 256  # bounded: many endpoints deliver concurrently without a tiny fixed cap


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
        try:
            async with self._session.post(
                url,
                data=body,
                headers={**headers, "Content-Type": "application/json"},
                allow_redirects=False,  # a 3xx is a failure (webhooks.md §6)
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                await resp.read()
                return SendResult(resp.status, _status_error(resp.status), _ms(started))
        except TimeoutError:
            return SendResult(None, f"timeout: no response within {timeout_s:g} s", _ms(started))
        except aiohttp.ClientConnectorError as exc:
            return SendResult(None, f"connection failed: {exc.os_error or exc}", _ms(started))
        except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}", _ms(started))


def _status_error(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    return f"HTTP {status}"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
