"""The inspector page's route and assets, without a browser: CSP, request ids, no external references."""

from __future__ import annotations

import re
from importlib import resources

from fake_askelephant.api.admin.inspector import ASSETS, CONTENT_SECURITY_POLICY
from tests.conftest import Api, problem

ASSET_DIR = resources.files("fake_askelephant.inspector")
SCRIPTS = [name for name in ASSETS if name.endswith(".js")]


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


async def test_page_is_served_with_a_strict_csp_and_a_request_id(api: Api) -> None:
    for path in ("/__admin/ui", "/__admin/ui/"):
        resp = await api.client.get(path)
        assert resp.status == 200
        assert resp.content_type == "text/html" and resp.charset == "utf-8"
        assert resp.headers["X-Request-Id"].startswith("rid_")
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        csp = directives(resp.headers["Content-Security-Policy"])
        assert csp["default-src"] == ["'none'"]
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert csp["connect-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
        assert csp["require-trusted-types-for"] == ["'script'"]
        assert "<title>fake-askelephant inspector</title>" in await resp.text()
    # Nothing in the policy re-opens what default-src closes.
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "*" not in CONTENT_SECURITY_POLICY


async def test_every_asset_is_served_with_its_type_and_the_same_csp(api: Api) -> None:
    assert {"index.html", "inspector.js", "inspector.css"} <= set(ASSETS)
    for name, content_type in ASSETS.items():
        resp = await api.client.get(f"/__admin/ui/{name}")
        assert resp.status == 200, name
        assert resp.content_type == content_type
        assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert await resp.read() == ASSET_DIR.joinpath(name).read_bytes()


async def test_unknown_assets_are_problem_404s(api: Api) -> None:
    for name in ("nope.js", "__init__.py", "history.py", "..%2fapp.py"):
        await problem(await api.client.get(f"/__admin/ui/{name}"), 404, "not_found")


def test_page_references_only_shipped_assets() -> None:
    html = ASSET_DIR.joinpath("index.html").read_text()
    refs = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert refs, "the page links its script and stylesheet"
    for ref in refs:
        assert ref.startswith("#") or ref.removeprefix("/__admin/ui/") in ASSETS, ref
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP would block it


def test_no_asset_references_an_external_url() -> None:
    assert "index.html" in ASSETS and SCRIPTS
    for name in ASSETS:
        text = ASSET_DIR.joinpath(name).read_text()
        assert "://" not in text, f"{name} names an absolute URL"
        assert not re.search(r"""["'(]\s*//""", text), f"{name} has a protocol-relative URL"
        assert "@import" not in text and "url(" not in text, f"{name} pulls in a stylesheet resource"


def test_scripts_import_only_shipped_modules_and_fetch_only_the_admin_api() -> None:
    fetch_calls = []
    for name in SCRIPTS:
        text = ASSET_DIR.joinpath(name).read_text()
        for module in re.findall(r"""^import .* from ["']([^"']+)["'];$""", text, re.MULTILINE):
            assert module.startswith("./") and module[2:] in ASSETS, f"{name} imports {module}"
        fetch_calls += re.findall(r"\bfetch\(([^)]*)\)", text)
    assert fetch_calls == ["ADMIN + path, init"]
    assert 'const ADMIN = "/__admin";' in ASSET_DIR.joinpath("admin-api.js").read_text()


def test_scripts_never_turn_strings_into_markup_or_code() -> None:
    for name in SCRIPTS:
        text = ASSET_DIR.joinpath(name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{name} uses {sink}"
