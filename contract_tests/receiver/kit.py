"""The receiver checks (webhooks.md §4–§7) and their runner.

Each check sends fresh, Svix-style deliveries to the vendor's URL. Accepting means any 2xx within
15 s (the delivery deadline); rejecting means a 4xx (400/401 in the docs) — a 5xx or a timeout is
neither, since Svix would retry it.

Optional probe (``probe_url``), for the "processed once / not processed" checks: the receiver answers
``GET {probe_url}?svix_id=<svix-id>&event_id=<envelope id>`` with ``200 {"processed": <n>}``, the number
of times that event was accepted for processing (counted when enqueued, before the 2xx, so asynchronous
receivers can answer at once). Without a probe the kit never claims what it could not see: a check whose
point is the processing count (``needs_probe``) runs its observable part (a crash still fails it) and is
then reported *skipped*, saying why and how to enable it; any other check names the part it did not check.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from contract_tests.checks import CheckSkipped
from contract_tests.report import CheckResult, Outcome, Report, timer
from contract_tests.signing import generate_secret, sign, signature_header
from contract_tests.strategies.events import compact_body, random_ulid, spaced_body, transcript_event

DELIVERY_DEADLINE_SECONDS = 15.0
# Comfortably outside the ±5 min tolerance of the official verifiers, so clock skew cannot blur the verdict.
OUTSIDE_TOLERANCE_SECONDS = 10 * 60
INSIDE_TOLERANCE_SECONDS = 2 * 60


@dataclass(frozen=True)
class ReceiverTarget:
    """The vendor endpoint under test.

    ``url``: where deliveries go; ``secret``: its ``whsec_`` secret; ``probe_url``: see module doc;
    ``timeout_seconds``: the 2xx deadline (15 s, webhooks.md §6); ``now``: wall clock for ``svix-timestamp``.
    """

    url: str
    secret: str
    probe_url: str | None = None
    timeout_seconds: float = DELIVERY_DEADLINE_SECONDS
    now: Callable[[], float] = time.time


@dataclass(frozen=True)
class Message:
    """One event to deliver: ``svix_id``, its envelope and the body bytes."""

    svix_id: str
    event: dict[str, Any]
    body: bytes


@dataclass(frozen=True)
class Delivery:
    """What came back: a status, or ``error`` when there was no HTTP answer in time."""

    status: int | None
    elapsed_seconds: float
    error: str | None = None

    def describe(self) -> str:
        if self.status is None:
            return f"no answer ({self.error}) after {self.elapsed_seconds:.2f} s"
        return f"HTTP {self.status} in {self.elapsed_seconds:.2f} s"


@dataclass
class Kit:
    """Sends deliveries for the checks; one ``aiohttp`` session per run."""

    target: ReceiverTarget
    session: aiohttp.ClientSession
    sent: list[str] = field(default_factory=list)
    unobserved: list[str] = field(default_factory=list)  # claims a missing probe kept the check from judging

    def message(self, *, spaced: bool = False) -> Message:
        event = transcript_event(dt.datetime.fromtimestamp(self.target.now(), dt.UTC))
        body = spaced_body(event) if spaced else compact_body(event)
        return Message("msg_" + random_ulid(), event, body)

    def headers(
        self,
        msg: Message,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        style: str = "svix",
        body: bytes | None = None,
    ) -> dict[str, str]:
        """Correct headers for ``msg`` unless overridden; ``style``: "svix" or "webhook" names."""
        ts = int(self.target.now()) if timestamp is None else timestamp
        sig = signature if signature is not None else sign(self.target.secret, msg.svix_id, ts, body or msg.body)
        return {
            "content-type": "application/json",
            "user-agent": "askelephant-contract/receiver-kit",
            f"{style}-id": msg.svix_id,
            f"{style}-timestamp": str(ts),
            f"{style}-signature": sig,
        }

    async def post(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        start = time.monotonic()
        self.sent.append(headers.get("svix-id") or headers.get("webhook-id") or "")
        try:
            async with self.session.post(
                self.target.url,
                data=body,
                headers=dict(headers),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.target.timeout_seconds),
            ) as resp:
                await resp.read()
                return Delivery(resp.status, time.monotonic() - start)
        except TimeoutError:
            return Delivery(None, time.monotonic() - start, f"timed out at {self.target.timeout_seconds:.0f} s")
        except aiohttp.ClientError as exc:
            return Delivery(None, time.monotonic() - start, f"{type(exc).__name__}: {exc}")

    async def processed(self, msg: Message) -> int:
        """How often the receiver accepted ``msg`` for processing, per its probe; skips without one."""
        if not self.target.probe_url:
            raise CheckSkipped("needs --probe-url: the receiver's processed-count endpoint")
        params = {"svix_id": msg.svix_id, "event_id": msg.event["id"]}
        async with self.session.get(self.target.probe_url, params=params) as resp:
            assert resp.status == 200, f"probe {self.target.probe_url} answered {resp.status}"
            body = await resp.json(content_type=None)
        assert isinstance(body, dict) and isinstance(body.get("processed"), int), f"probe answered {body!r}"
        processed: int = body["processed"]
        return processed

    async def expect_accepted(
        self, msg: Message, headers: Mapping[str, str], what: str, body: bytes | None = None
    ) -> None:
        got = await self.post(body if body is not None else msg.body, headers)
        ok = got.status is not None and 200 <= got.status < 300
        assert ok, f"{what}: must get 2xx within {self.target.timeout_seconds:.0f} s; got {got.describe()}"

    async def expect_rejected(
        self, msg: Message, headers: Mapping[str, str], what: str, body: bytes | None = None
    ) -> None:
        got = await self.post(body if body is not None else msg.body, headers)
        ok = got.status is not None and 400 <= got.status < 500
        assert ok, f"{what}: must be rejected with 4xx (400/401); got {got.describe()}"
        if not self.target.probe_url:
            self.unobserved.append(f"{what}: not processed")
            return
        count = await self.processed(msg)
        assert count == 0, f"{what}: rejected, yet the probe says it was processed {count} time(s)"

    async def expect_processed_once(self, msg: Message, what: str) -> None:
        if not self.target.probe_url:
            self.unobserved.append(f"{what}: processed exactly once")
            return
        count = await self.processed(msg)
        assert count == 1, f"{what}: accepted, probe says processed {count} time(s), want exactly 1"


CheckCoro = Callable[[Kit], Awaitable[None]]


@dataclass(frozen=True)
class ReceiverCheck:
    name: str
    description: str
    run: CheckCoro
    needs_probe: bool = False  # its point is the processing count: skipped, not passed, without a probe


RECEIVER_CHECKS: list[ReceiverCheck] = []
PROBE_HINT = "give --probe-url (the receiver's processed-count endpoint, docs/contract-tests.md) to check it"


def _register(func: CheckCoro, *, needs_probe: bool = False) -> CheckCoro:
    doc = (func.__doc__ or "").strip().splitlines()
    name = func.__name__.removeprefix("check_")
    RECEIVER_CHECKS.append(ReceiverCheck(name, doc[0] if doc else "", func, needs_probe))
    return func


def receiver_check(func: CheckCoro) -> CheckCoro:
    return _register(func)


def probe_check(func: CheckCoro) -> CheckCoro:
    """A receiver check that can only be judged through the probe."""
    return _register(func, needs_probe=True)


# --- must be accepted ------------------------------------------------------------------------------
@receiver_check
async def check_signed_event_accepted(kit: Kit) -> None:
    """A correctly signed event (svix-* headers) -> 2xx within 15 s, processed once."""
    msg = kit.message()
    await kit.expect_accepted(msg, kit.headers(msg), "signed event")
    await kit.expect_processed_once(msg, "signed event")


@receiver_check
async def check_standard_webhooks_headers_accepted(kit: Kit) -> None:
    """The same delivery under webhook-* header names (Standard Webhooks) -> 2xx."""
    msg = kit.message()
    await kit.expect_accepted(msg, kit.headers(msg, style="webhook"), "webhook-* headers")
    await kit.expect_processed_once(msg, "webhook-* headers")


@receiver_check
async def check_raw_body_verified(kit: Kit) -> None:
    """A body that is not compact JSON (spaces, unescaped UTF-8), signed as sent -> 2xx: verify raw bytes."""
    msg = kit.message(spaced=True)
    await kit.expect_accepted(
        msg, kit.headers(msg), "signature over non-compact raw bytes (re-serialising verifiers fail)"
    )
    await kit.expect_processed_once(msg, "non-compact body")


@probe_check
async def check_duplicate_accepted_and_processed_once(kit: Kit) -> None:
    """Same svix-id and body twice (a retry, freshly signed) -> 2xx both times, processed once."""
    msg = kit.message()
    await kit.expect_accepted(msg, kit.headers(msg), "first delivery")
    await kit.expect_accepted(msg, kit.headers(msg, timestamp=int(kit.target.now()) + 1), "duplicate delivery")
    await kit.expect_processed_once(msg, "delivered twice")


@receiver_check
async def check_rotated_secret_accepted(kit: Kit) -> None:
    """Rotation sends 'v1,<new> v1,<old>'; the receiver's secret matching either entry -> 2xx."""
    for position in ("second", "first"):
        msg = kit.message()
        ts = int(kit.target.now())
        other = generate_secret()
        order = [other, kit.target.secret] if position == "second" else [kit.target.secret, other]
        header = signature_header(order, msg.svix_id, ts, msg.body)
        await kit.expect_accepted(
            msg, kit.headers(msg, timestamp=ts, signature=header), f"matching signature {position} of two"
        )
        await kit.expect_processed_once(msg, f"rotation, match {position}")


@receiver_check
async def check_unknown_signature_versions_skipped(kit: Kit) -> None:
    """Entries of other versions (v1a, v2) are skipped, a matching v1 entry still verifies -> 2xx."""
    msg = kit.message()
    ts = int(kit.target.now())
    good = sign(kit.target.secret, msg.svix_id, ts, msg.body)
    header = f"v1a,{good[3:]} v2,AAAA {good}"
    await kit.expect_accepted(msg, kit.headers(msg, timestamp=ts, signature=header), "v1a/v2 entries before a good v1")


@receiver_check
async def check_timestamp_within_tolerance_accepted(kit: Kit) -> None:
    """A timestamp two minutes old (inside ±5 min) -> 2xx."""
    msg = kit.message()
    ts = int(kit.target.now()) - INSIDE_TOLERANCE_SECONDS
    await kit.expect_accepted(msg, kit.headers(msg, timestamp=ts), "timestamp 2 min old")


# --- must be rejected ------------------------------------------------------------------------------
@receiver_check
async def check_tampered_body_rejected(kit: Kit) -> None:
    """Body changed after signing (one field edited) -> 4xx, not processed."""
    msg = kit.message()
    headers = kit.headers(msg)
    tampered = msg.body.replace(b'"duration_seconds":400', b'"duration_seconds":401')
    assert tampered != msg.body
    await kit.expect_rejected(msg, headers, "body altered after signing", body=tampered)


@receiver_check
async def check_wrong_secret_rejected(kit: Kit) -> None:
    """Signed with another secret -> 4xx, not processed."""
    msg = kit.message()
    ts = int(kit.target.now())
    bad = sign(generate_secret(), msg.svix_id, ts, msg.body)
    await kit.expect_rejected(msg, kit.headers(msg, timestamp=ts, signature=bad), "wrong secret")


@receiver_check
async def check_signature_of_other_message_rejected(kit: Kit) -> None:
    """A genuine signature copied from another svix-id -> 4xx (the id is part of the signed content)."""
    msg, other = kit.message(), kit.message()
    ts = int(kit.target.now())
    copied = sign(kit.target.secret, other.svix_id, ts, msg.body)
    await kit.expect_rejected(
        msg, kit.headers(msg, timestamp=ts, signature=copied), "signature made for another svix-id"
    )


@receiver_check
async def check_stale_timestamp_rejected(kit: Kit) -> None:
    """Correctly signed, but the timestamp is 10 min old (replayed capture) -> 4xx."""
    msg = kit.message()
    await kit.expect_rejected(
        msg,
        kit.headers(msg, timestamp=int(kit.target.now()) - OUTSIDE_TOLERANCE_SECONDS),
        "timestamp 10 min old",
    )


@receiver_check
async def check_future_timestamp_rejected(kit: Kit) -> None:
    """Correctly signed, but the timestamp is 10 min ahead -> 4xx."""
    msg = kit.message()
    await kit.expect_rejected(
        msg,
        kit.headers(msg, timestamp=int(kit.target.now()) + OUTSIDE_TOLERANCE_SECONDS),
        "timestamp 10 min ahead",
    )


@receiver_check
async def check_missing_headers_rejected(kit: Kit) -> None:
    """Each of svix-id, svix-timestamp, svix-signature missing, or all three -> 4xx."""
    for dropped in (
        ("svix-id",),
        ("svix-timestamp",),
        ("svix-signature",),
        ("svix-id", "svix-timestamp", "svix-signature"),
    ):
        msg = kit.message()
        headers = {k: v for k, v in kit.headers(msg).items() if k not in dropped}
        await kit.expect_rejected(msg, headers, f"without {', '.join(dropped)}")


@receiver_check
async def check_malformed_headers_rejected(kit: Kit) -> None:
    """Garbage signature or timestamp values -> 4xx, not a crash (5xx)."""
    cases = [
        ({"svix-signature": "garbage"}, "signature 'garbage'"),
        ({"svix-signature": "v1,!!!not-base64!!!"}, "signature not base64"),
        ({"svix-signature": ""}, "empty signature"),
        ({"svix-timestamp": "soon"}, "timestamp 'soon'"),
        ({"svix-timestamp": "1.5e9"}, "timestamp '1.5e9'"),
    ]
    for override, what in cases:
        msg = kit.message()
        await kit.expect_rejected(msg, {**kit.headers(msg), **override}, what)


async def run_receiver_contract(
    target: ReceiverTarget, *, only: list[str] | None = None, session: aiohttp.ClientSession | None = None
) -> Report:
    """Run the receiver checks (all, or those in ``only``); return a report, never raise on failures."""
    checks = [c for c in RECEIVER_CHECKS if only is None or c.name in only]
    if only is not None and len(checks) != len(set(only)):
        unknown = set(only) - {c.name for c in RECEIVER_CHECKS}
        raise KeyError(f"unknown receiver check(s): {', '.join(sorted(unknown))}")
    report = Report("AskElephant webhook receiver contract", target.url)
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        for check in checks:
            kit = Kit(target, session)
            outcome: Outcome
            with timer() as elapsed:
                try:
                    await check.run(kit)
                    outcome, message = _verdict(check, kit.unobserved)
                except CheckSkipped as exc:
                    outcome, message = "skipped", str(exc)
                except AssertionError as exc:
                    outcome, message = "failed", str(exc)
                except (aiohttp.ClientError, OSError, ValueError) as exc:
                    outcome, message = "error", f"{type(exc).__name__}: {exc}"
            report.results.append(CheckResult("receiver", check.name, outcome, elapsed[0], message, check.description))
    finally:
        if own:
            await session.close()
    return report


def _verdict(check: ReceiverCheck, unobserved: list[str]) -> tuple[Outcome, str]:
    """What a check that raised nothing may claim: passed only for what it observed."""
    if not unobserved:
        return "passed", ""
    unseen = "; ".join(unobserved)
    if check.needs_probe:
        return "skipped", f"the HTTP part passed, but not observable without a probe: {unseen}; {PROBE_HINT}"
    return "passed", f"HTTP status checked; not checked without a probe: {unseen}"


def run_receiver_contract_sync(target: ReceiverTarget, *, only: list[str] | None = None) -> Report:
    """:func:`run_receiver_contract` from synchronous code (CLI); not from inside a running event loop."""
    return asyncio.run(run_receiver_contract(target, only=only))
