"""ISO-8601 UTC formatting and parsing on integer epoch milliseconds (the core's time unit)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$",
    re.ASCII,  # `\d` is 0-9 only: other scripts' digits are not a timestamp
)


MIN_MS = 0  # 1970-01-01T00:00:00Z
# Up to the end of 9099: far enough, and end_at = start_at + a day still formats (year < 10000).
MAX_MS = int(datetime(9100, 1, 1, tzinfo=UTC).timestamp()) * 1000 - 1
# What format_ms renders (1970 to the end of 9999); beyond, it saturates instead of raising (see format_ms).
_FIRST_S = 0
_LAST_S = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


class TimestampOutOfRange(ValueError):
    pass


def format_ms(ms: int) -> str:
    """Render epoch milliseconds as the emulator writes timestamps: ms precision and a `Z` (api.md §1).

    Total: a value outside 1970–9999 (none can be stored any more, but a state file written by an older
    version may hold one) renders as the nearest representable instant instead of raising, so no route can
    answer 500 because of a stored time (issue 18).
    """
    seconds = ms // 1000
    if not _FIRST_S <= seconds <= _LAST_S:
        return f"{_format_seconds(_FIRST_S if seconds < _FIRST_S else _LAST_S)}.{0 if seconds < _FIRST_S else 999:03d}Z"
    return f"{_format_seconds(seconds)}.{ms % 1000:03d}Z"


@lru_cache(maxsize=4096)
def _format_seconds(seconds: int) -> str:
    # Memoised: every engagement view formats four or more timestamps and strftime dominated reads (benchmarks/).
    return f"{datetime.fromtimestamp(seconds, tz=UTC):%Y-%m-%dT%H:%M:%S}"


def parse_iso(text: str) -> int:
    """Parse an ISO-8601 timestamp that carries `Z` or an offset into epoch ms.

    Raises ValueError for anything else, including timestamps without an offset (api.md §1: `invalid_type`).
    """
    m = _ISO.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError("must be an ISO-8601 timestamp with a timezone, e.g. 2026-03-09T12:00:00Z")
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = m.groups()
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    if not zulu:
        offset = timedelta(hours=int(oh), minutes=int(om))
        if offset >= timedelta(hours=24):
            raise ValueError("timezone offset out of range")
        try:
            dt -= offset if sign == "+" else -offset
        except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00
            raise TimestampOutOfRange("must be between 1970-01-01 and 9099-12-31") from exc
    ms = int(dt.timestamp()) * 1000 + int((frac or "0").ljust(3, "0")[:3])
    if not MIN_MS <= ms <= MAX_MS:
        raise TimestampOutOfRange("must be between 1970-01-01 and 9099-12-31")
    return ms


def wall_ms() -> int:
    """Wall-clock now in epoch ms (the request journal stamps every request with it: no datetime per call)."""
    return time.time_ns() // 1_000_000
