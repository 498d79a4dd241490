"""POST /v2/engagements properties (api.md §5): create, replay, field rules, URL policies."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import (
    assert_same_engagement,
    created,
    get_engagement,
    minimal_payload,
    parse_time,
    writer,
)
from contract_tests.checks import Budget, CheckSkipped, api_check, hypothesis_settings
from contract_tests.strategies import urls
from contract_tests.strategies.payloads import InvalidCase, invalid_create_payloads, valid_create_payloads
from contract_tests.target import ApiClient, Target


def assert_nothing_stored(target: Target, client: ApiClient, external_id: str, why: str) -> None:
    """A rejected create reserves nothing: the same external_id then creates (201), not replays (200).

    Emulator only: against the real API this probe would itself store an engagement per example.
    """
    if not target.is_emulator:
        return
    resp = client.create_engagement(minimal_payload(target, external_id))
    assert resp.status == 201, (
        f"after a rejected create ({why}) the external_id {external_id!r} was already taken: "
        f"{resp.describe()} — the rejected request stored or reserved something (api.md §5.2)"
    )


def _check_echo(target: Target, payload: dict[str, Any], body: dict[str, Any]) -> None:
    """A 201 stores what was sent: title, type, privacy, start_at, external_url byte-for-byte (or absent)."""
    assert body["title"] == payload["title"], f"title stored as {body['title']!r}, sent {payload['title']!r}"
    assert body["engagement_type"] == payload["type"], (
        f"engagement_type {body['engagement_type']} for type {payload['type']}"
    )
    if "is_private" in payload:
        assert body["is_private"] is payload["is_private"], (
            f"is_private {body['is_private']} for {payload['is_private']}"
        )
    if "external_url" in payload:
        assert body.get("external_url") == payload["external_url"], (
            f"external_url not verbatim: sent {payload['external_url']!r}, got {body.get('external_url')!r}"
        )
    else:
        assert "external_url" not in body, f"external_url {body['external_url']!r} returned but never given"
    if "start_at" in payload:
        assert parse_time(body["start_at"]) == parse_time(payload["start_at"]), (
            f"start_at {body['start_at']} is not the instant sent, {payload['start_at']}"
        )
    expect.choice(target, body["processing_status"] == "PENDING", f"new engagement is {body['processing_status']}")
    expect.choice(target, body["engagement_at"] == body["start_at"], "engagement_at differs from start_at")


@api_check("create")
def check_valid_create_then_replay(target: Target, budget: Budget) -> None:
    """Valid payload -> 201 storing what was sent; replay -> 200, same engagement; GET agrees."""
    client = writer(target)

    @given(payload=valid_create_payloads(allow_media_url=target.is_emulator))
    @hypothesis_settings(budget)
    def prop(payload: dict[str, Any]) -> None:
        external_id, fresh = target.creatable_external_id()
        payload = {**payload, "external_id": external_id}
        if not target.is_emulator:
            # Make what the suite leaves in a real workspace recognisable.
            payload["title"] = f"[contract-test] {payload['title']}"[:500]
        first = client.create_engagement(payload)
        if fresh:
            stored = created(target, first)
            _check_echo(target, payload, stored)
        else:
            expect.status(first, 200, 201)
            stored = expect.json_body(target, first, "engagement")
        changed = {
            **payload,
            "title": payload["title"][:400] + " (resubmitted)",
            "is_private": not payload.get("is_private"),
        }
        changed.pop("external_url", None)
        replay = client.create_engagement(changed)
        expect.status(replay, 200)
        again = expect.json_body(target, replay, "engagement")
        assert_same_engagement(target, stored, again, f"replay {replay.describe()}")
        expect.choice(target, "Location" not in replay.headers, f"{replay.describe()}: Location on a 200 replay")
        fetched = get_engagement(target, client, stored["id"])
        assert_same_engagement(target, stored, fetched, f"GET after create of {stored['id']}")

    prop()


@api_check("create")
def check_invalid_create_rejected(target: Target, budget: Budget) -> None:
    """Each broken field rule -> 422 problem+json naming the field (and code), and nothing is stored."""
    client = writer(target)

    @given(case=invalid_create_payloads(allow_media_url=target.is_emulator))
    @hypothesis_settings(budget, examples=budget.max_examples * 2)
    def prop(case: InvalidCase) -> None:
        payload = dict(case.payload)
        if case.keeps_external_id:
            payload["external_id"] = target.fresh_external_id()
        else:
            # Against the real API only contract-test: ids leave the machine.
            assume(target.is_emulator)
        resp = client.create_engagement(payload)
        expect.problem(target, resp, 422, field=case.field, also=case.also, codes=case.codes)
        if case.keeps_external_id:
            assert_nothing_stored(target, client, payload["external_id"], case.label)

    prop()


@api_check("create")
def check_unsafe_external_url_rejected(target: Target, budget: Budget) -> None:
    """javascript:/data:/vbscript:/blob:/file: in any disguise -> 422 unsafe_scheme, nothing stored."""
    client = writer(target)
    strategy = st.one_of(urls.unsafe_external_urls(), st.sampled_from(urls.DOCUMENTED_UNSAFE_EXTERNAL_URLS))

    @given(url=strategy)
    @hypothesis_settings(budget)
    def prop(url: str) -> None:
        external_id = target.fresh_external_id()
        resp = client.create_engagement(minimal_payload(target, external_id, external_url=url))
        expect.problem(target, resp, 422, field="external_url", codes={"unsafe_scheme"})
        assert_nothing_stored(target, client, external_id, f"external_url {url!r}")

    for documented in urls.DOCUMENTED_UNSAFE_EXTERNAL_URLS:
        prop = example(url=documented)(prop)
    prop()


@api_check("create")
def check_safe_external_url_round_trips(target: Target, budget: Budget) -> None:
    """https/http/app-scheme deep links are accepted and returned byte-for-byte by POST and GET."""
    if not target.is_emulator:
        # Pooled real-API ids replay the first stored value, so there is nothing fresh to compare.
        raise CheckSkipped("needs fresh creates; the real API keeps a small pool of contract-test ids")
    client = writer(target)

    @given(url=st.one_of(urls.safe_external_urls(), st.sampled_from(urls.DOCUMENTED_SAFE_EXTERNAL_URLS)))
    @hypothesis_settings(budget)
    def prop(url: str) -> None:
        resp = client.create_engagement(minimal_payload(target, target.fresh_external_id(), external_url=url))
        body = created(target, resp)
        assert body.get("external_url") == url, f"sent external_url {url!r}, POST returned {body.get('external_url')!r}"
        fetched = get_engagement(target, client, body["id"])
        assert fetched.get("external_url") == url, (
            f"sent external_url {url!r}, GET returned {fetched.get('external_url')!r}"
        )

    for documented in urls.DOCUMENTED_SAFE_EXTERNAL_URLS:
        prop = example(url=documented)(prop)
    prop()


@api_check("create")
def check_unsafe_media_url_rejected(target: Target, budget: Budget) -> None:
    """Private/loopback/link-local hosts (numeric tricks included) and plain http -> 422 on media_url."""
    client = writer(target)
    strategy = st.one_of(
        urls.private_media_urls().map(lambda u: (u, "private_address")),
        urls.insecure_media_urls().map(lambda u: (u, "insecure_scheme")),
    )

    @given(case=strategy)
    @hypothesis_settings(budget)
    def prop(case: tuple[str, str]) -> None:
        url, code = case
        external_id = target.fresh_external_id()
        payload = minimal_payload(target, external_id, media_url=url)
        payload.pop("transcript_timeline", None)
        resp = client.create_engagement(payload)
        expect.problem(target, resp, 422, field="media_url", codes={code})
        assert_nothing_stored(target, client, external_id, f"media_url {url!r}")

    for host in urls.PRIVATE_MEDIA_HOSTS:
        prop = example(case=(f"https://{host}/a.mp3", "private_address"))(prop)
    prop()


@api_check("create")
def check_media_that_is_not_media_rejected(target: Target, budget: Budget) -> None:
    """A web page or document as media_url -> 422 (not audio/video); an unreachable host -> 422 (docs, api.md §5.4).

    The emulator's offline media model decides by the path's extension and the reserved ``.invalid`` TLD; the real
    server fetches the URL, and these URLs fail there for the same documented reasons.
    """
    client = writer(target)
    cases = [(url, "unsupported_media_type") for url in urls.NON_MEDIA_URLS]
    cases += [(url, "media_unreachable") for url in urls.UNREACHABLE_MEDIA_URLS]

    @given(case=st.sampled_from(cases))
    @hypothesis_settings(budget, examples=min(budget.max_examples, len(cases)))
    def prop(case: tuple[str, str]) -> None:
        url, code = case
        external_id = target.fresh_external_id()
        payload = minimal_payload(target, external_id, media_url=url)
        payload.pop("transcript_timeline", None)
        resp = client.create_engagement(payload)
        expect.problem(target, resp, 422, field="media_url", codes={code})
        assert_nothing_stored(target, client, external_id, f"media_url {url!r}")

    for case in cases:
        prop = example(case=case)(prop)
    prop()


# One broken value per top-level field: breaking several at once must name them all (api.md §4).
_BREAKS: dict[str, Any] = {
    "type": "VIDEO",
    "title": "",
    "source_system": "s" * 101,
    "external_url": "javascript:alert(1)",
    "is_private": "yes",
    "run_workflows": 1,
    "start_at": "not a date",
    "participants": "alice",
}


@api_check("create")
def check_all_failing_fields_reported(target: Target, budget: Budget) -> None:
    """Several broken fields -> one 422 whose errors[] names every one of them."""
    client = writer(target)

    @given(fields=st.lists(st.sampled_from(sorted(_BREAKS)), min_size=2, max_size=5, unique=True))
    @hypothesis_settings(budget)
    def prop(fields: list[str]) -> None:
        payload = minimal_payload(target, target.fresh_external_id(), **{f: _BREAKS[f] for f in fields})
        resp = client.create_engagement(payload)
        body = expect.problem(target, resp, 422)
        named = {e["field"].split(".")[0].split("[")[0] for e in body.get("errors", [])}
        missing = set(fields) - named
        assert not missing, (
            f"{resp.describe()}: errors[] does not name {sorted(missing)}; errors = {body.get('errors')}"
        )
        reported = list(dict.fromkeys(e["field"].split(".")[0].split("[")[0] for e in body["errors"]))
        sent = [k for k in payload if k in fields]
        expect.choice(target, reported == sent, f"{resp.describe()}: errors in order {reported}, request order {sent}")
        assert_nothing_stored(target, client, payload["external_id"], f"broken {fields}")

    prop()
