"""Schemathesis hooks for test_fuzz_openapi.py: the only "valid request rejected" failures it forgives.

The document states every rule JSON Schema can state. A few rules it can only describe in prose, because they
relate values to each other or to stored records; a generated request may break them while matching every
schema, and the server then rightly answers 422 (or 400 for a cursor). A failure is forgiven only when *every*
error the server listed is one of those rules, so any other rejection of schema-valid data still fails:

- referential: `contact_ids[i]`, `tag_ids[i]`, `company_id` that name no record of the workspace;
- cross-field: a transcript entry's speaker_index beyond the declared speakers, end_seconds before start_seconds;
- uniqueness by value: an email, phone number or domain listed twice (JSON Schema's uniqueItems compares whole
  items, and these compare one member, case-insensitively or once normalised);
- cursors: opaque tokens only the API issues, valid with the query they were issued for.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis

# (field, code, message): every listed error must match one of these.
PROSE_RULES = (
    (re.compile(r"^(contact_ids|tag_ids)\[\d+\]$"), "invalid_enum", re.compile(r"is not a (contact|tag) in")),
    (re.compile(r"^company_id$"), "invalid_enum", re.compile(r"is not a company in")),
    (
        re.compile(r"^transcript_timeline\.entries\[\d+\]\.(speaker_index|end_seconds)$"),
        "invalid_range",
        re.compile(r"must name a declared speaker|must be >= start_seconds"),
    ),
    (re.compile(r"^(emails|phone_numbers|domains)$"), "invalid_type", re.compile(r"must not repeat")),
)


def _problem(response: Any) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def prose_rule_only(status: int, problem: dict[str, Any] | None) -> bool:
    if problem is None:
        return False
    if status == 400:
        return "cursor" in str(problem.get("detail", ""))
    errors = problem.get("errors")
    if status != 422 or not isinstance(errors, list) or not errors:
        return False
    return all(
        any(
            field.match(str(e.get("field", ""))) and e.get("code") == code and message.search(str(e.get("message")))
            for field, code, message in PROSE_RULES
        )
        for e in errors
    )


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a positive-data rejection that only the prose rules above explain."""
    if getattr(failure, "code", None) != "ST202":
        return True
    return not prose_rule_only(response.status_code, _problem(response))
