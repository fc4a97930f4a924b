"""Domain errors. Adapters raise these (``raise ... from exc``); the API maps them to HTTP
in exactly one place (``flixstack.api.errors``)."""

from __future__ import annotations


class FlixstackError(Exception):
    """Base class; ``reason`` is a stable, machine-readable code."""

    reason = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class NotFound(FlixstackError):
    reason = "not_found"


class Conflict(FlixstackError):
    """An optimistic-lock or uniqueness condition failed."""

    reason = "conflict"


class InvalidInput(FlixstackError):
    reason = "invalid_input"


class PayloadTooLarge(FlixstackError):
    reason = "too_large"


class PreconditionRequired(FlixstackError):
    """An edit came without the version it was based on (optimistic locking needs it)."""

    reason = "precondition_required"


class Forbidden(FlixstackError):
    reason = "forbidden"


class Unauthorized(FlixstackError):
    reason = "unauthorized"


class ServiceUnavailable(FlixstackError):
    """A dependency (table, bucket, queue, stream) is missing or unreachable."""

    reason = "service_unavailable"


class TooManyRequests(FlixstackError):
    """A rate limit is exhausted; ``retry_after_s`` says when a request will be let in."""

    reason = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after_s = retry_after_s
