"""A bare HTTP/1.1 exchange over a socket, for responses a real client refuses to hand over (cut bodies)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tests.conftest import DEFAULT_KEY


@dataclass
class RawResponse:
    status: int | None  # None: the connection closed before a status line
    headers: dict[str, str]
    body: bytes


async def exchange(host: str, port: int | None, method: str, path: str, body: bytes = b"") -> RawResponse:
    """Send one request with the default key, read until the server closes, parse what arrived."""
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {DEFAULT_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    try:
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    except ConnectionResetError:
        raw = b""
    writer.close()
    if not raw:
        return RawResponse(None, {}, b"")
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(lines[0].split()[1]), headers, payload)
