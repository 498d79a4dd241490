"""Errors the core raises. They carry no HTTP status: api/problems.py maps each class to one.

DomainError
 ├── NotFound           unknown id, other workspace, hidden private resource
 ├── Forbidden          credential lacks a scope (missing_scopes)
 ├── Conflict           uniqueness or a stage that already ran
 ├── InvalidRequest     syntax the field rules cannot even look at (bad cursor, unparseable filter)
 ├── ValidationFailed   one or more FieldErrors, all of them, in request order
 └── Unavailable        the emulator cannot finish the request now (shutting down); retry after `retry_after_s`
"""

from __future__ import annotations

from collections.abc import Iterable

from .records import dataclass


class DomainError(Exception):
    """Base of every error the core raises on purpose."""


class NotFound(DomainError):
    def __init__(self, resource: str, resource_id: str | None = None, detail: str | None = None) -> None:
        self.resource = resource
        self.resource_id = resource_id
        super().__init__(
            detail or (f"No {resource} with id {resource_id!r}." if resource_id else f"No such {resource}.")
        )


class Forbidden(DomainError):
    def __init__(self, missing_scopes: Iterable[str], detail: str | None = None) -> None:
        self.missing_scopes = sorted(set(missing_scopes))
        super().__init__(detail or f"The credential lacks the required scope: {', '.join(self.missing_scopes)}.")


class Conflict(DomainError):
    pass


class InvalidRequest(DomainError):
    pass


class Unavailable(DomainError):
    def __init__(self, detail: str, retry_after_s: int = 1) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(detail)


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ValidationFailed(DomainError):
    def __init__(self, errors: Iterable[FieldError], detail: str = "The request contains invalid fields.") -> None:
        self.errors = list(errors)
        super().__init__(detail)

    @classmethod
    def single(cls, field: str, code: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, code, message)])
