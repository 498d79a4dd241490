"""Bad bytes and secrets (issue #19): malformed HTTP, undecodable bodies and aborted uploads get a short
problem+json answer with a request id (never a 500, never plain text, never an echo), and no secret reaches
any log line — aiohttp's own included. The log test runs `fake-askelephant serve --log-level debug` and greps
what it wrote to stderr."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import socket
import struct
import urllib.request
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from fake_askelephant.api.admin.journal import journal_key
from fake_askelephant.app import create_app
from fake_askelephant.serving import EmulatorRunner
from tests.cli_process import Served, base_env, start
from tests.conftest import frozen_settings, seed_call

KEY_SECRET = "PrObEsEcReT9x7"
KEY = f"sk-apik_probe.{KEY_SECRET}"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhook-secret-never-in-logs!!").decode()
SIGNATURE = "v1," + base64.b64encode(b"s" * 32).decode()
AUTH = f"Authorization: {KEY}\r\n".encode()
GET = b"GET /api/v2/users HTTP/1.1\r\nHost: localhost\r\n" + AUTH
GET = b"GET /api/v2/users HTTP/1.1\r\nHost: localhost\r\n" + AUTH

# One of each kind of request aiohttp's parser refuses, each carrying the key (and other secrets) somewhere.
MALFORMED = {
    "bad header value": b"GET /api/v2/users HTTP/1.1\r\nHost: localhost\r\n" + AUTH + b"X-Bad: a\x01b\r\n\r\n",
    "bad method": b"G@T /api/v2/users HTTP/1.1\r\nHost: localhost\r\n" + AUTH + b"\r\n",
    "bad version": b"GET /api/v2/users?k=" + KEY.encode() + b" HTTP/9.9\r\nHost: localhost\r\n" + AUTH + b"\r\n",
    "header without colon": GET + b"garbage " + KEY.encode() + b"\r\n\r\n",
    "bad content-length": b"POST /api/v2/engagements HTTP/1.1\r\nHost: localhost\r\n"
    + AUTH
    + b"Content-Length: abc\r\n\r\n",
    "content-length and chunked": b"POST /api/v2/engagements HTTP/1.1\r\nHost: localhost\r\n"
    + AUTH
    + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad chunk size": b"POST /api/v2/engagements HTTP/1.1\r\nHost: localhost\r\n"
    + AUTH
    + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    + KEY.encode()
    + b"\r\n0\r\n\r\n",
    "header line too long": GET + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n",
    "nul in target": b"GET /api/v2/users\x00 HTTP/1.1\r\nHost: localhost\r\n" + AUTH + b"\r\n",
    "space in header name": GET + b"Bad Name: " + KEY.encode() + b"\r\n\r\n",
    "bare LF": b"GET /api/v2/users HTTP/1.1\nHost: localhost\n" + AUTH.replace(b"\r", b"") + b"X: \x7f\n\n",
    "signature in a bad header": b"POST /__admin/sink/ci HTTP/1.1\r\nHost: localhost\r\nsvix-signature: "
    + SIGNATURE.encode()
    + b"\r\nX-Secret: "
    + WEBHOOK_SECRET.encode()
    + b"\x01\r\n\r\n",
}
JSON_ROUTES = ["/api/v2/engagements", "/__admin/clock/advance", "/__admin/webhook-endpoints"]
FORM_ROUTE = "/api/v1/oauth/token"
# Bodies that do not decode with their Content-Encoding: gzip and deflate fail while the handler reads;
# br and zstd (no decoder installed, or garbage) fail in aiohttp's parser before any handler runs.
ENCODINGS = {
    "gzip": b"not gzip at all",
    "deflate": b"\x00\x01 not deflate",
    "br": b"not brotli",
    "zstd": b"not zstd",
    "gzip-truncated": gzip.compress(json.dumps(seed_call()).encode())[:20],
    "deflate-truncated": zlib.compress(json.dumps(seed_call()).encode())[:10],
}


async def raw_exchange(port: int | None, data: bytes, *, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    out = await asyncio.wait_for(reader.read(), 10) if read else b""
    writer.close()
    return out


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_short_problem(raw: bytes, status: int) -> dict[str, Any]:
    code, headers, body = parse(raw)
    assert code == status, raw[:300]
    assert headers["content-type"] == "application/problem+json", raw[:300]
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status and problem["request_id"] == headers["x-request-id"]
    assert len(body) < 400
    for echoed in (KEY_SECRET.encode(), b"probe", b"X-Bad", b"garbage", b"aaaa", b"\\x", WEBHOOK_SECRET.encode()):
        assert echoed not in raw, f"{echoed!r} echoed in {raw[:300]!r}"
    return problem


def encoded_request(path: str, encoding: str, body: bytes) -> bytes:
    name = encoding.split("-")[0]
    content_type = "application/x-www-form-urlencoded" if path == FORM_ROUTE else "application/json"
    return (
        (
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Encoding: {name}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        ).encode()
        + AUTH
        + b"\r\n"
        + body
    )


class GuardedTestServer(TestServer):
    """The app served as `serve` serves it (EmulatorRunner), on a loopback port."""

    async def _make_runner(self, **kwargs: Any) -> EmulatorRunner:
        return EmulatorRunner(self.app, **kwargs)


@pytest.fixture
async def guarded() -> AsyncIterator[TestServer]:
    server = GuardedTestServer(create_app(frozen_settings(api_keys=(KEY,))), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def plain() -> AsyncIterator[TestServer]:
    """aiohttp's own runner: what happens inside the app must not depend on EmulatorRunner."""
    server = TestServer(create_app(frozen_settings(api_keys=(KEY,))), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_malformed_http_gets_a_short_problem_that_echoes_nothing(guarded: TestServer, kind: str) -> None:
    raw = await raw_exchange(guarded.port, MALFORMED[kind])
    problem = assert_short_problem(raw, 400)
    assert problem["type"].endswith("/invalid_request")
    journal = guarded.app[journal_key].entries
    assert journal[-1].request_id == problem["request_id"] and journal[-1].outcome == "malformed"


@pytest.mark.parametrize("path", [*JSON_ROUTES, FORM_ROUTE])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
async def test_undecodable_bodies_are_a_400_problem_with_a_request_id(
    guarded: TestServer, path: str, encoding: str
) -> None:
    raw = await raw_exchange(guarded.port, encoded_request(path, encoding, ENCODINGS[encoding]))
    assert_short_problem(raw, 400)


@pytest.mark.parametrize("path", [*JSON_ROUTES, FORM_ROUTE])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip-truncated"])  # read in the handler
async def test_undecodable_bodies_are_a_400_under_any_runner(plain: TestServer, path: str, encoding: str) -> None:
    raw = await raw_exchange(plain.port, encoded_request(path, encoding, ENCODINGS[encoding]))
    assert_short_problem(raw, 400)


@pytest.mark.parametrize("how", ["close", "reset", "half-close"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("path", [*JSON_ROUTES, FORM_ROUTE])
async def test_a_client_gone_mid_body_is_journaled_as_a_client_abort(
    plain: TestServer, how: str, framing: str, path: str
) -> None:
    await abort_mid_body(plain.port, path, how, framing)
    entry = await journaled(plain, path)
    assert (entry.status, entry.outcome) == (499, "client_abort")


async def abort_mid_body(port: int | None, path: str, how: str, framing: str) -> None:
    content_type = "application/x-www-form-urlencoded" if path == FORM_ROUTE else "application/json"
    length = "Content-Length: 1000" if framing == "content-length" else "Transfer-Encoding: chunked"
    part = b'{"seconds":' if framing == "content-length" else b'b\r\n{"seconds":'
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n{length}\r\n"
    writer.write(head.encode() + AUTH)
    writer.write(b"\r\n" + part)
    await writer.drain()
    if how == "reset":
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return
    if how == "half-close":
        writer.write_eof()
        await reader.read()
    writer.close()


async def journaled(server: TestServer, path: str) -> Any:
    """The journal entry of the aborted request, once the server has finished with it."""
    entries = server.app[journal_key].entries
    for _ in range(500):
        found = [e for e in entries if e.path == path]
        if found:
            return found[-1]
        await asyncio.sleep(0.01)  # the server notices the closed socket on its own loop turn
    raise AssertionError(f"{path} never reached the journal")


# The whole run against `serve`, logs captured ------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = base_env(FAKE_ASKELEPHANT_WEBHOOK_SECRET=WEBHOOK_SECRET)
    args = ["serve", "--port", "0", "--time-scale", "0", "--seed", "5", "--fixtures", "none", "--log-level", "debug"]
    server = start([*args, "--api-key", KEY, "--webhook-url", "http://127.0.0.1:9/hook"], env, tmp_path)
    try:
        yield server
    finally:
        server.close()


@pytest.mark.slow
def test_no_secret_reaches_the_log_of_a_hostile_run(served: Served) -> None:
    port = int(served.base.rsplit(":", 1)[1])
    assert KEY in served.banner and WEBHOOK_SECRET in served.banner  # printed to the operator, on stdout

    async def hostile() -> list[bytes]:
        answers = [await raw_exchange(port, data) for data in MALFORMED.values()]
        for path in [*JSON_ROUTES, FORM_ROUTE]:
            answers += [await raw_exchange(port, encoded_request(path, e, b)) for e, b in ENCODINGS.items()]
            for how in ("close", "reset", "half-close"):
                await abort_mid_body(port, path, how, "content-length")
        return answers

    answers = asyncio.run(hostile())
    for raw in answers:
        assert_short_problem(raw, 400)
    client = post_json(served.base + "/__admin/oauth-clients", {"scopes": ["users:read"]})
    form = f"grant_type=client_credentials&client_id={client['client_id']}&client_secret={client['client_secret']}"
    token = urllib.request.urlopen(
        urllib.request.Request(served.base + FORM_ROUTE, data=form.encode(), method="POST"), timeout=10
    )
    access = json.loads(token.read())["access_token"]
    urllib.request.urlopen(
        urllib.request.Request(served.api + "/v2/users", headers={"Authorization": f"Bearer {access}"}), timeout=10
    ).read()
    post_json(served.base + "/__admin/clock/advance", {"seconds": 1})  # the webhook endpoint is tried (and fails)
    journal = json.loads(urllib.request.urlopen(served.base + "/__admin/requests?limit=1000", timeout=10).read())
    aborted = [e for e in journal["data"] if e["outcome"] == "client_abort"]
    assert len(aborted) == 12 and {e["status"] for e in aborted} == {499}
    assert not [e for e in journal["data"] if e["status"] is not None and e["status"] >= 500]
    assert served.stop() == 0

    log = served.stderr()
    assert "malformed request from 127.0.0.1 answered 400" in log  # the run was logged at all
    secrets = [KEY_SECRET, WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_"), SIGNATURE, access]
    secrets += [client["client_secret"]]
    leaked = [s for s in secrets if s in log]
    assert leaked == [], f"secrets in the log: {leaked}"
    assert "Traceback" not in log and "this is a bug" not in log


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


async def test_aiohttps_own_error_log_is_redacted(plain: TestServer, caplog: pytest.LogCaptureFixture) -> None:
    """Under aiohttp's own runner its handler logs the offending line with a traceback: the filter rewrites it."""
    caplog.set_level("DEBUG")
    for kind in ("header without colon", "space in header name", "bad version"):
        raw = await raw_exchange(plain.port, MALFORMED[kind])
        assert parse(raw)[0] == 400
    assert "Error handling request" in caplog.text
    assert KEY_SECRET not in caplog.text
    assert "sk-apik_probe.<redacted>" in caplog.text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"Authorization: {KEY}", KEY_SECRET),
        (f"b'garbage {KEY}'", KEY_SECRET),
        ("{'Authorization': 'Bearer eat_TokenValue123'}", "eat_TokenValue123"),
        ("Authorization: Basic b2FjX3g6c2VjcmV0", "b2FjX3g6c2VjcmV0"),
        (f"svix-signature: {SIGNATURE}", SIGNATURE.removeprefix("v1,")),
        (f"secret {WEBHOOK_SECRET} rotated", WEBHOOK_SECRET.removeprefix("whsec_")),
        ("grant_type=client_credentials&client_id=oac_1&client_secret=Zx9SecretValue", "Zx9SecretValue"),
        ('{"client_secret": "Zx9SecretValue", "scopes": []}', "Zx9SecretValue"),
        ("X-Admin-Token: adm1nT0ken", "adm1nT0ken"),
    ],
)
def test_the_log_filter_redacts_every_secret_shape(line: str, secret: str) -> None:
    import logging

    from fake_askelephant.redaction import RedactingFilter

    record = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "seen: %s", (line,), None)
    try:
        raise ValueError(line)
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert secret not in text and "<redacted>" in text
