"""`fake-askelephant health`: the container HEALTHCHECK, with no curl in the image (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from .config import Settings

HEALTH_PATH = "/__admin/health"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104  (a bind address, not a host to call)


def default_url(settings: Settings) -> str:
    """Where `serve` with the same settings (env) listens; a wildcard bind is probed on loopback."""
    host = "127.0.0.1" if settings.host in WILDCARD_HOSTS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}{HEALTH_PATH}"


def check(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(healthy, one line to print): healthy means 200 with {"status": "ok"}."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310  (http(s) URL we built or were given)
            body = json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:  # 503 `starting` while a state file loads: say so, and how far it got
        status = _status(exc)
        return False, f"unhealthy: {url}: {status or exc}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, f"unhealthy: {url}: {exc}"
    if not isinstance(body, dict) or body.get("status") != "ok":
        return False, f"unhealthy: {url}: unexpected body {body!r}"
    return True, f"ok: {url} (version {body.get('version')}, now {body.get('now')})"


def _status(exc: urllib.error.HTTPError) -> str | None:
    """`starting (loading the state file …)` from a health answer that is not a 200, if it is one."""
    try:
        body = json.loads(exc.read() or b"null")
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return None
    reason = body.get("reason")
    return f"{body['status']} ({reason})" if isinstance(reason, str) else str(body["status"])
