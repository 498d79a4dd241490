"""Signatures match the spec's worked example, Svix's published vector, and both official verifiers."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook, WebhookVerificationError

from fake_askelephant.webhooks.signing import (
    InvalidSecret,
    generate_secret,
    secret_key,
    sign,
    signature_header,
    validate_secret,
    verify,
)
from tests.contract.spec_examples import WORKED_BODY as BODY
from tests.contract.spec_examples import WORKED_MSG_ID as MSG_ID
from tests.contract.spec_examples import WORKED_OLD_SECRET as OLD_SECRET
from tests.contract.spec_examples import WORKED_SECRET as SECRET
from tests.contract.spec_examples import WORKED_TIMESTAMP as TS


def test_worked_example_body_is_the_specs() -> None:
    assert len(BODY) == 746
    assert hashlib.sha256(BODY).hexdigest() == "0f5a748f8cc8ddb04e3958997daa7698d716d6329464d6bf0069537b1139ee6f"


def test_worked_example_signatures() -> None:
    assert sign(SECRET, MSG_ID, TS, BODY) == "v1,ymuh+JQtbyR794Ed0uv+rbKfar/HppnuCeERR/QRyMw="
    assert sign(SECRET, MSG_ID, TS + 5, BODY) == "v1,IUxQ6dI+6jjSQBTB8utNRdCKZyYe++wIj0OSj3u1hx0="
    assert signature_header([SECRET, OLD_SECRET], MSG_ID, TS, BODY) == (
        "v1,ymuh+JQtbyR794Ed0uv+rbKfar/HppnuCeERR/QRyMw= v1,uRUG2PjsW+ZdaOwQKqIu3H/QDWJWQ0GaM7UBzvJDgxE="
    )


def test_svix_published_vector() -> None:
    body = b'{"event_type":"ping","data":{"success":true}}'
    expected = "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0="
    assert sign("whsec_plJ3nmyCDGBKInavdOK15jsl", "msg_loFOjxBNrRLzqYUf", 1731705121, body) == expected


def _headers(prefix: str, signature: str, ts: int) -> dict[str, str]:
    return {f"{prefix}-id": MSG_ID, f"{prefix}-timestamp": str(ts), f"{prefix}-signature": signature}


@pytest.mark.parametrize("prefix", ["svix", "webhook"])
def test_official_verifiers_accept_our_signatures(prefix: str) -> None:
    import time

    now = int(time.time())
    header = signature_header([SECRET, OLD_SECRET], MSG_ID, now, BODY)
    Webhook(SECRET).verify(BODY, _headers(prefix, header, now))
    Webhook(OLD_SECRET).verify(BODY, _headers(prefix, header, now))
    if prefix == "webhook":
        StandardWebhook(SECRET).verify(BODY, _headers(prefix, header, now))
    assert Webhook(SECRET).sign(MSG_ID, datetime.fromtimestamp(now, tz=UTC), BODY.decode()) == sign(
        SECRET, MSG_ID, now, BODY
    )


def test_official_verifier_rejects_tampering() -> None:
    import time

    now = int(time.time())
    header = sign(SECRET, MSG_ID, now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY.replace(b'"v1"', b'"v2"'), _headers("svix", header, now))
    with pytest.raises(WebhookVerificationError):
        Webhook(OLD_SECRET).verify(BODY, _headers("svix", header, now))


def test_our_verifier_matches_the_receiver_rules() -> None:
    header = sign(SECRET, MSG_ID, TS, BODY)
    assert verify([SECRET], _headers("svix", header, TS), BODY, TS + 300).ok
    assert verify([SECRET], _headers("webhook", header, TS), BODY, TS).ok
    assert verify([SECRET], _headers("svix", header, TS), BODY, TS + 301).reason.startswith("timestamp too old")
    assert verify([SECRET], _headers("svix", header, TS), BODY, TS - 301).reason.startswith("timestamp too new")
    assert not verify([SECRET], _headers("svix", header, TS), BODY + b" ", TS).ok
    assert not verify([OLD_SECRET], _headers("svix", header, TS), BODY, TS).ok
    assert not verify([SECRET], {"svix-id": MSG_ID}, BODY, TS).ok
    assert verify([OLD_SECRET, SECRET], _headers("svix", "v1a,xxx " + header, TS), BODY, TS).ok


@pytest.mark.parametrize(
    "bad", ["AAECAwQF", "whsec_", "whsec_!!!!", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMU", "whsec_" + "A" * 100 + "=="]
)
def test_bad_secrets_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidSecret):
        validate_secret(bad)


def test_generated_secrets_are_24_bytes_and_seeded() -> None:
    a, b = generate_secret(random.Random(1)), generate_secret(random.Random(1))
    assert a == b and len(secret_key(a)) == 24
