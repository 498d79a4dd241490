"""OAuth authorization code with PKCE and refresh tokens (oauth-token page; issue 20, fidelity.md Q05–Q08). The
emulator plays the consent step: `POST /__admin/oauth-clients/{id}/authorize` issues a code as the user would."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Api, problem
from tests.emulator.test_oauth import TOKEN, new_client, oauth_error

# RFC 7636 appendix B: the verifier and its S256 challenge (an independent oracle for the hash).
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
REDIRECT = "https://dialer.example.com/oauth/callback"


async def consent(api: Api, client: dict[str, Any], **body: Any) -> Any:
    return await api.client.post(
        f"/__admin/oauth-clients/{client['client_id']}/authorize", json={"redirect_uri": REDIRECT, **body}
    )


async def code_for(api: Api, client: dict[str, Any], **body: Any) -> str:
    resp = await consent(api, client, **body)
    assert resp.status == 201, await resp.text()
    code: str = (await resp.json())["code"]
    return code


def exchange(client: dict[str, Any], code: str, **form: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "code": code,
        "redirect_uri": REDIRECT,
        **form,
    }


async def post(api: Api, form: dict[str, str], **kwargs: Any) -> Any:
    return await api.call("POST", TOKEN, key=kwargs.pop("key", None), data=form, **kwargs)


async def test_authorization_code_with_pkce_then_refresh(api: Api) -> None:
    client = await new_client(api, ["engagements:read", "contacts:read"])
    resp = await consent(
        api, client, code_challenge=CHALLENGE, code_challenge_method="S256", state="xyz", scope="engagements:read"
    )
    assert resp.status == 201, await resp.text()
    granted = await resp.json()
    location = urlsplit(granted["location"])
    assert location._replace(query="").geturl() == REDIRECT
    assert parse_qs(location.query) == {"code": [granted["code"]], "state": ["xyz"]}
    assert granted["expires_in"] == 600 and granted["scope"] == "engagements:read"
    tokens_resp = await post(api, exchange(client, granted["code"], code_verifier=VERIFIER))
    assert tokens_resp.status == 200, await tokens_resp.text()
    assert tokens_resp.headers["Cache-Control"] == "no-store"
    tokens = await tokens_resp.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "engagements:read"
    bearer = f"Bearer {tokens['access_token']}"
    assert (await api.call("GET", "/api/v2/engagements", key=bearer)).status == 200
    assert (await api.call("GET", "/api/v2/contacts", key=bearer)).status == 403  # consent narrowed the scope
    # Neither the code nor the refresh token is an access token.
    for other in (granted["code"], tokens["refresh_token"]):
        assert (await api.call("GET", "/api/v2/engagements", key=f"Bearer {other}")).status == 401
    # The code is single use.
    await oauth_error(await post(api, exchange(client, granted["code"], code_verifier=VERIFIER)), 400, "invalid_grant")

    # Refresh: client_secret_post here, Basic below; each refresh spends its token and returns a new one.
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    body_auth = {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    renewed = await (await post(api, {**refresh, **body_auth})).json()
    assert renewed["access_token"] != tokens["access_token"] and renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["scope"] == "engagements:read"
    await oauth_error(await post(api, {**refresh, **body_auth}), 400, "invalid_grant")  # spent
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    wider = {"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"], "scope": "contacts:read"}
    await oauth_error(await post(api, wider, key=f"Basic {basic}"), 400, "invalid_scope")  # not granted
    again = await post(api, {**wider, "scope": "engagements:read"}, key=f"Basic {basic}")
    assert again.status == 200, await again.text()


async def test_an_access_token_from_a_code_expires_after_an_hour_and_refresh_outlives_it(api: Api) -> None:
    client = await new_client(api, ["engagements:read"])
    tokens = await (await post(api, exchange(client, await code_for(api, client)))).json()
    await api.advance(3600)
    assert (await api.call("GET", "/api/v2/engagements", key=f"Bearer {tokens['access_token']}")).status == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    body_auth = {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    renewed = await (await post(api, {**refresh, **body_auth})).json()
    assert (await api.call("GET", "/api/v2/engagements", key=f"Bearer {renewed['access_token']}")).status == 200


async def test_a_code_expires_after_ten_minutes(api: Api) -> None:
    client = await new_client(api, ["engagements:read"])
    code = await code_for(api, client)
    await api.advance(600)
    await oauth_error(await post(api, exchange(client, code)), 400, "invalid_grant")


@pytest.mark.parametrize(
    ("consented", "form"),
    [
        ({"code_challenge": CHALLENGE, "code_challenge_method": "S256"}, {}),  # verifier missing
        ({"code_challenge": CHALLENGE, "code_challenge_method": "S256"}, {"code_verifier": VERIFIER[:-1] + "l"}),
        ({"code_challenge": CHALLENGE}, {"code_verifier": VERIFIER}),  # method omitted → plain: no match
        ({}, {"code_verifier": VERIFIER}),  # no challenge was made
        ({}, {"redirect_uri": "https://dialer.example.com/other"}),
    ],
)
async def test_code_exchange_mismatches_are_invalid_grant(
    api: Api, consented: dict[str, str], form: dict[str, str]
) -> None:
    client = await new_client(api, ["engagements:read"])
    code = await code_for(api, client, **consented)
    await oauth_error(await post(api, exchange(client, code, **form)), 400, "invalid_grant")
    # A failed exchange spends the code as well.
    good = {"code_verifier": VERIFIER} if consented.get("code_challenge_method") == "S256" else {}
    await oauth_error(await post(api, exchange(client, code, **good)), 400, "invalid_grant")


async def test_plain_pkce_and_another_clients_code(api: Api) -> None:
    client, other = await new_client(api, ["engagements:read"]), await new_client(api, ["engagements:read"])
    plain = await code_for(api, client, code_challenge=VERIFIER, code_challenge_method="plain")
    await oauth_error(await post(api, exchange(other, plain, code_verifier=VERIFIER)), 400, "invalid_grant")
    code = await code_for(api, client, code_challenge=VERIFIER, code_challenge_method="plain")
    assert (await post(api, exchange(client, code, code_verifier=VERIFIER))).status == 200
    missing = exchange(client, "")
    del missing["code"]
    await oauth_error(await post(api, missing), 400, "invalid_request")


async def test_the_consenting_user_is_who_the_token_acts_as(api: Api) -> None:
    member = await api.new_key(["users:read"], user={"email": "rep@example.com"})
    me = (await (await api.call("GET", "/api/v2/users?search=rep@example.com", key=member)).json())["data"][0]
    client = await new_client(api, ["engagements:read", "engagements:write"])
    tokens = await (await post(api, exchange(client, await code_for(api, client, user_id=me["id"])))).json()
    resp = await api.create(key=f"Bearer {tokens['access_token']}", participants=[])
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    owner = (await (await api.get(created["id"], expand="owner")).json())["owner"]
    assert owner["id"] == me["id"]  # no owner among the participants: the caller's user
    state = await (await api.client.get("/__admin/state")).json()
    assert any(c["client_id"] == client["client_id"] for w in state["workspaces"] for c in w["oauth_clients"])


async def test_consent_errors(api: Api) -> None:
    client = await new_client(api, ["engagements:read"])
    await problem(
        await api.client.post("/__admin/oauth-clients/oac_nope/authorize", json={"redirect_uri": REDIRECT}),
        404,
        "not_found",
    )
    for body, field in (
        ({"redirect_uri": "not a uri"}, "redirect_uri"),
        ({"code_challenge": "short"}, "code_challenge"),
        ({"code_challenge": CHALLENGE, "code_challenge_method": "S512"}, "code_challenge_method"),
        ({"user_id": "usr_nope"}, "user_id"),
        ({"scope": "users:read"}, "scope"),
    ):
        resp = await consent(api, client, **body)
        errors = (await problem(resp, 422, "validation_failed"))["errors"]
        assert [e["field"] for e in errors] == [field], body
