"""The aiohttp session the HTTP clients share the handling of: a caller's (left open) or one of their own."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp


class SessionOwner:
    """Base of ``AskElephantClient`` and ``EmulatorAdmin``: ``async with`` (or ``close()``) releases the pool.

    A session passed in stays the caller's to close; otherwise one is made on first use and closed here.
    """

    def __init__(self, session: aiohttp.ClientSession | None, timeout: aiohttp.ClientTimeout) -> None:
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be born inside the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session
