"""No secret in any log line (docs/reliability.md): a logging filter that rewrites records before they are written.

The emulator's own log calls never pass a secret, but other text reaches the logs: aiohttp's messages and
tracebacks quote request lines and headers, exception messages quote values. The filter redacts by shape
and by the name a secret travels under: API key secrets (`sk-apik_<id>.<secret>`), `Authorization` and
`X-Admin-Token` values, Bearer and Basic credentials, OAuth `client_secret`s and `eat_` tokens, webhook
signing secrets (`whsec_…`) and signatures (`v1,<base64>`). It is installed on the emulator's and aiohttp's
loggers when an app is built, and on the handler `serve` logs through, so records of any logger pass it.
"""

from __future__ import annotations

import functools
import logging
import re

REDACTED = "<redacted>"
_RULES: tuple[tuple[str, str], ...] = (
    (r"(sk-apik_[A-Za-z0-9]+)\.[A-Za-z0-9]+", rf"\1.{REDACTED}"),
    (r"\bwhsec_[A-Za-z0-9+/=]+", f"whsec_{REDACTED}"),
    (r"\beat_[A-Za-z0-9]+", f"eat_{REDACTED}"),
    (r"\bv1,[A-Za-z0-9+/]{16,}={0,2}", f"v1,{REDACTED}"),
    (r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+", rf"\1\2{REDACTED}"),
    (
        r"(?i)\b(authorization|x-admin-token|svix-signature|webhook-signature)(['\"]?\s*[:=,]\s*['\"]?)[^\r\n'\"]+",
        rf"\1\2{REDACTED}",
    ),
    (r"(?i)\b(client_secret|secret|admin_token)(['\"]?\s*[:=]\s*['\"]?)[^&\s'\"\\]+", rf"\1\2{REDACTED}"),
)


@functools.cache
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Compiled for the first line logged, not at start-up (~3 ms of `serve`'s, issue 22 §5)."""
    return tuple((re.compile(pattern), replacement) for pattern, replacement in _RULES)


def redact(text: str) -> str:
    for pattern, replacement in _compiled():
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the message (and traceback) of every record, redacted; the record then carries only that text."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


FILTER = RedactingFilter()
# Loggers whose records may quote requests: aiohttp's server side and client side, and the emulator's.
LOGGERS = ("aiohttp", "aiohttp.server", "aiohttp.access", "aiohttp.web", "aiohttp.client", "aiohttp.internal")


def install() -> None:
    """Put the filter on aiohttp's loggers and every fake_askelephant logger (idempotent)."""
    names = [*LOGGERS, "fake_askelephant"]
    names += [n for n in list(logging.root.manager.loggerDict) if n.startswith("fake_askelephant.")]
    for name in names:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)


def install_on_handlers(root: logging.Logger | None = None) -> None:
    """Also on the handlers of `root` (default: the root logger), for records of loggers not named above."""
    for handler in (root or logging.getLogger()).handlers:
        if FILTER not in handler.filters:
            handler.addFilter(FILTER)
