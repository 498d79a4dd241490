"""The stdlib signer against the spec's worked example, Svix's published vector and the svix package."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook, WebhookVerificationError

from contract_tests.signing import generate_secret, sign, signature_header, verify_signature_header
from tests.contract import spec_examples as ex


def test_worked_example_body_is_the_spec_bytes() -> None:
    assert len(ex.WORKED_BODY) == 746
    assert hashlib.sha256(ex.WORKED_BODY).hexdigest() == ex.WORKED_BODY_SHA256


def test_worked_example_signature() -> None:
    assert sign(ex.WORKED_SECRET, ex.WORKED_MSG_ID, ex.WORKED_TIMESTAMP, ex.WORKED_BODY) == ex.WORKED_SIGNATURE


def test_worked_example_retry_signature() -> None:
    got = sign(ex.WORKED_SECRET, ex.WORKED_MSG_ID, ex.WORKED_RETRY_TIMESTAMP, ex.WORKED_BODY)
    assert got == ex.WORKED_RETRY_SIGNATURE


def test_worked_example_rotation_header_and_both_secrets_verify() -> None:
    header = signature_header(
        [ex.WORKED_SECRET, ex.WORKED_OLD_SECRET], ex.WORKED_MSG_ID, ex.WORKED_TIMESTAMP, ex.WORKED_BODY
    )
    assert header == ex.WORKED_ROTATION_HEADER
    for secret in (ex.WORKED_SECRET, ex.WORKED_OLD_SECRET):
        assert verify_signature_header(secret, ex.WORKED_MSG_ID, ex.WORKED_TIMESTAMP, ex.WORKED_BODY, header)
    assert not verify_signature_header(generate_secret(), ex.WORKED_MSG_ID, ex.WORKED_TIMESTAMP, ex.WORKED_BODY, header)


def test_svix_published_vector() -> None:
    assert sign(ex.SVIX_SECRET, ex.SVIX_MSG_ID, ex.SVIX_TIMESTAMP, ex.SVIX_BODY) == ex.SVIX_SIGNATURE


def test_svix_package_verifies_worked_example_only_on_raw_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {
        "svix-id": ex.WORKED_MSG_ID,
        "svix-timestamp": str(ex.WORKED_TIMESTAMP),
        "svix-signature": ex.WORKED_SIGNATURE,
    }

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> FrozenDatetime:
            return frozen

    frozen = FrozenDatetime.fromtimestamp(ex.WORKED_TIMESTAMP + 300, dt.UTC)

    # standardwebhooks reads datetime.now() for the ±5 min tolerance; pin it to the example's time.
    monkeypatch.setattr("standardwebhooks.webhooks.datetime", FrozenDatetime)
    Webhook(ex.WORKED_SECRET).verify(ex.WORKED_BODY, headers)
    reserialised = ex.WORKED_BODY.replace(b'":', b'": ')
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(ex.WORKED_SECRET).verify(reserialised, headers)


ids = st.from_regex(r"\Amsg_[A-Za-z0-9]{1,30}\Z")
bodies = st.binary(max_size=300).filter(lambda b: _utf8(b))


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=50, deadline=None)
@given(nbytes=st.integers(24, 64), msg_id=ids, ts=st.integers(0, 2**33), body=bodies)
def test_signer_matches_svix_sign(nbytes: int, msg_id: str, ts: int, body: bytes) -> None:
    secret = generate_secret(nbytes)
    theirs = Webhook(secret).sign(msg_id, dt.datetime.fromtimestamp(ts, dt.UTC), body.decode("utf-8"))
    assert sign(secret, msg_id, ts, body) == theirs


@settings(max_examples=30, deadline=None)
@given(
    msg_id=ids,
    doc=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4),
    rotate=st.booleans(),
)
def test_standardwebhooks_accepts_our_headers(msg_id: str, doc: dict[str, str], rotate: bool) -> None:
    # standardwebhooks parses the payload after verifying, so the body must be JSON here.
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    secret = generate_secret()
    ts = int(dt.datetime.now(dt.UTC).timestamp())
    secrets_ = [generate_secret(), secret] if rotate else [secret]
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature_header(secrets_, msg_id, ts, body),
    }
    StandardWebhook(secret).verify(body, headers)


@given(version=st.sampled_from(["v1a", "v2", "v0", ""]))
def test_other_versions_are_skipped(version: str) -> None:
    secret = generate_secret()
    good = sign(secret, "msg_1", 1, b"{}")
    assert not verify_signature_header(secret, "msg_1", 1, b"{}", f"{version},{good[3:]}")
    assert verify_signature_header(secret, "msg_1", 1, b"{}", f"{version},{good[3:]} {good}")


def test_malformed_secret_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        sign("whsec_not*base64", "msg_1", 1, b"{}")
