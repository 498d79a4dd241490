"""Settings: read once from `FAKE_ASKELEPHANT_*` env vars, then flags (flags win) (pipeline.md §8).

fake-askelephant serve --port 8787 --seed 42 --time-scale 60
FAKE_ASKELEPHANT_TIME_SCALE=0 FAKE_ASKELEPHANT_API_KEY=sk-apik_a.b,sk-apik_c.d fake-askelephant serve
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any
from urllib.parse import urlsplit

from .core import urlhost
from .core.records import dataclass
from .core.store import DEFAULT_API_KEY, parse_api_key
from .core.timefmt import parse_iso
from .webhooks.signing import validate_secret

ENV_PREFIX = "FAKE_ASKELEPHANT_"
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8787
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    seed: int | None = None  # None: a random seed, printed at start
    strict: bool = False
    time_scale: float = 1.0
    start_time: int | None = None  # virtual clock start, epoch ms; None: wall-clock now
    log_level: str = "info"
    webhook_url: str | None = None  # an endpoint of wrks_local for every event type
    webhook_secret: str | None = None  # whsec_…; generated (and printed) when omitted
    record: str | None = None  # write the session as a scenario YAML here at shutdown (docs/scenarios.md)
    # Reliability (issue #9): persistence, real media fetch, rate limit.
    state_file: str | None = None  # SQLite file; None keeps state in memory only
    media_fetch: bool = False
    allow_media_hosts: tuple[str, ...] = ()
    rate_limit: float | None = None  # requests per second per key; None = off
    fixtures: str = "sample"  # seed data: "sample" (made per seed), "none", or a YAML/JSON file path
    # Connection defences (issue #19, serving.py): request-head deadline and concurrent connection bound.
    header_timeout: float = 10.0
    max_connections: int = 1000
    public_url: str | None = None  # base of /__media links; default: the address a request arrived on
    admin_token: str | None = None  # required on /__admin (but health, the inspector page, the sink) when set
    allowed_hosts: tuple[str, ...] = ()  # names a loopback-bound emulator answers to besides localhost (api/hosts.py)
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call /api (api/cors.py); "*" for any


def _time_scale(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("time scale must be a finite number >= 0")
    return value


def _api_key(text: str) -> str:
    if parse_api_key(text) is None:
        raise ValueError(f"malformed API key {text!r}: expected sk-apik_<id>.<secret>")
    return text


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("port must be 0–65535")
    return value


def _log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    return text.lower()


def _cors_origin(text: str) -> str:
    if text == "*":
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"expected an origin such as http://localhost:5173 (scheme, host, port), or *, got {text!r}")
    return text.rstrip("/")


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an absolute http(s) URL, got {text!r}")
    return text


def _webhook_secret(text: str) -> str:
    return validate_secret(text)  # InvalidSecret is a ValueError with the reason


def _state_file(text: str) -> str:
    if not text.strip():
        raise ValueError("state file path must not be empty")
    return text


def _media_host(text: str) -> str:
    """HOST, HOST:PORT, IPv6 or [IPv6]:PORT, normalised as the media policy reads a URL's host (core/urlhost.py)."""
    value = text.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port is None:
            port = ""
        host = f"[{host}]"
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    elif ":" in value:
        host, port = f"[{value}]", None
    else:
        host, port = value, None
    try:
        normalised = str(urlhost.parse_host(host)[0]).removesuffix(".")
    except urlhost.HostError:
        raise ValueError(f"expected HOST or HOST:PORT, got {text!r}") from None
    if port is not None and not (port.isascii() and port.isdigit()):
        raise ValueError(f"expected HOST or HOST:PORT, got {text!r}")
    return f"{normalised}:{int(port)}" if port is not None else normalised


def _rate_limit(text: str) -> float:
    """`N/s` (or a bare N): requests per wall second per key (api.md §9)."""
    number = text.strip().removesuffix("/s")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"expected N/s, e.g. 20/s, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise ValueError("rate limit must be a positive number per second")
    return value


def _header_timeout(text: str) -> float:
    value = float(text)
    if not 0 < value <= 3600:
        raise ValueError("header timeout must be a number of seconds in (0, 3600]")
    return value


def _max_connections(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1_000_000:
        raise ValueError("max connections must be a whole number from 1 to 1000000")
    return int(text)


def _admin_token(text: str) -> str:
    if not text or not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError("the admin token must be printable ASCII without spaces")
    return text


def _allowed_host(text: str) -> str:
    name = text.strip().lower().removesuffix(".")
    if name != "*" and (not name or not name.isascii() or any(c in name for c in "/:@ ")):
        raise ValueError(f"expected a host name without scheme or port (or *), got {text!r}")
    return name


def _fixtures(text: str) -> str:
    if text in ("sample", "none") or os.path.isfile(text):
        return text
    raise ValueError(f"{text!r} is neither sample, none nor a readable file")


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


@dataclass(frozen=True)
class Option:
    flag: str
    dest: str
    parse: Callable[[str], Any]
    help: str
    metavar: str | None = None
    repeatable: bool = False
    switch: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.lstrip("-").replace("-", "_").upper()


OPTIONS: tuple[Option, ...] = (
    Option("--host", "host", str, "interface to bind (0.0.0.0 inside a container)", "HOST"),
    Option("--port", "port", _port, "TCP port; 0 picks a free one (printed)", "PORT"),
    Option("--api-key", "api_keys", _api_key, "workspace:admin key in wrks_local (repeatable)", "KEY", repeatable=True),
    Option("--seed", "seed", int, "seed for ids, jitter and content; random and printed when omitted", "N"),
    Option(
        "--strict",
        "strict",
        _bool,
        "reject `Bearer sk-apik_…` and unknown query parameters (default: a Warning header)",
        switch=True,
    ),
    Option(
        "--time-scale",
        "time_scale",
        _time_scale,
        "virtual seconds per real second: 1 real time, 60 fast, 0 frozen",
        "X",
    ),
    Option("--start-time", "start_time", parse_iso, "virtual clock start, ISO-8601 with offset (default: now)", "ISO"),
    Option("--log-level", "log_level", _log_level, "debug, info, warning or error", "LEVEL"),
    Option(
        "--webhook-url", "webhook_url", _http_url, "register a webhook endpoint for wrks_local (all event types)", "URL"
    ),
    Option(
        "--webhook-secret",
        "webhook_secret",
        _webhook_secret,
        "its signing secret (whsec_…); generated if omitted",
        "SECRET",
    ),
    Option("--record", "record", str, "record the session as a replayable scenario YAML, written at shutdown", "PATH"),
    Option("--state-file", "state_file", _state_file, "persist state to this SQLite file; restarts resume", "PATH"),
    Option("--media-fetch", "media_fetch", _bool, "fetch media_url for real (type, size, duration)", switch=True),
    Option(
        "--allow-media-host",
        "allow_media_hosts",
        _media_host,
        "media host that skips the https and private-address rules (repeatable)",
        "HOST[:PORT]",
        repeatable=True,
    ),
    Option("--rate-limit", "rate_limit", _rate_limit, "token bucket per API key, e.g. 20/s", "N/s"),
    Option(
        "--header-timeout",
        "header_timeout",
        _header_timeout,
        "seconds a connection has to send a complete request head (slow clients are closed)",
        "SECONDS",
    ),
    Option(
        "--max-connections",
        "max_connections",
        _max_connections,
        "connections open at once; one more closes the slowest still sending its head",
        "N",
    ),
    Option(
        "--public-url",
        "public_url",
        _http_url,
        "the URL clients reach the emulator at (e.g. http://askelephant:8787): the base of media_url links",
        "URL",
    ),
    Option(
        "--admin-token",
        "admin_token",
        _admin_token,
        "require this token (X-Admin-Token) on /__admin; set it whenever the port is reachable from a network",
        "TOKEN",
    ),
    Option(
        "--allowed-host",
        "allowed_hosts",
        _allowed_host,
        "bound to loopback, answer requests addressed to this name too (repeatable; * for any): "
        "others get 421, a DNS-rebinding defence",
        "NAME",
        repeatable=True,
    ),
    Option(
        "--cors-origin",
        "cors_origins",
        _cors_origin,
        "a browser origin (http://localhost:5173) allowed to call /api, or * for any (repeatable); never /__admin",
        "ORIGIN",
        repeatable=True,
    ),
    Option(
        "--fixtures",
        "fixtures",
        _fixtures,
        "seed users/companies/contacts/tags: a YAML file, sample (made per --seed) or none",
        "FILE",
    ),
)

OPTIONS_BY_DEST = {o.dest: o for o in OPTIONS}


class ConfigError(ValueError):
    pass


def add_arguments(parser: argparse.ArgumentParser, options: Sequence[Option] = OPTIONS) -> None:
    defaults = Settings()
    for opt in options:
        default = getattr(defaults, opt.dest)
        help_text = f"{opt.help} [env {opt.env}; default {_show(default)}]"
        if opt.switch:
            parser.add_argument(
                opt.flag, dest=opt.dest, action="store_const", const="true", default=None, help=help_text
            )
        elif opt.repeatable:
            parser.add_argument(
                opt.flag, dest=opt.dest, action="append", default=None, metavar=opt.metavar, help=help_text
            )
        else:
            parser.add_argument(opt.flag, dest=opt.dest, default=None, metavar=opt.metavar, help=help_text)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value) or "none"
    return "none" if value is None else str(value)


def load_settings(
    args: argparse.Namespace | None = None,
    environ: Mapping[str, str] | None = None,
    options: Sequence[Option] = OPTIONS,
) -> Settings:
    """Env first, then flags over it; every value parsed by one function per option. Options left out of `options`
    keep their defaults, whatever the environment says."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for opt in options:
        raw: Sequence[str] | str | None = getattr(args, opt.dest, None) if args is not None else None
        source = opt.flag
        if raw is None and opt.env in environ:
            env_value = environ[opt.env]
            raw = [v for v in (p.strip() for p in env_value.split(",")) if v] if opt.repeatable else env_value
            source = opt.env
        if raw is None:
            continue
        try:
            values[opt.dest] = tuple(opt.parse(v) for v in raw) if opt.repeatable else opt.parse(str(raw))
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})


__all__ = ["OPTIONS", "OPTIONS_BY_DEST", "ConfigError", "Settings", "add_arguments", "load_settings"]
