"""Domain errors. The API maps each one to an HTTP answer in one place."""

from __future__ import annotations


class StewardError(Exception):
    """Base of every error Steward raises on purpose."""

    def __init__(self, message: str, *, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []


class ValidationFailedError(StewardError):
    """The request body or query does not satisfy the model."""


class UnsupportedMediaTypeError(StewardError):
    """The request body is not JSON."""


class PayloadTooLargeError(StewardError):
    """The request body is over the size limit."""


class NotFoundError(StewardError):
    """The record does not exist."""


class IdempotencyKeyReusedError(StewardError):
    """An Idempotency-Key came back with a different request body."""


class RateLimitedError(StewardError):
    """Too many submissions from one IP or for one address in the window."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConflictError(StewardError):
    """The record is in a state that does not allow this request (yet)."""


class PaymentDeclinedError(StewardError):
    """The card was declined; the donor can try another card."""


class InvalidSignatureError(StewardError):
    """A webhook's Stripe-Signature did not verify."""

    # why, for the log: bad_signature, stale (outside the tolerance) or unparseable
    reason = "bad_signature"


class UnauthorizedError(StewardError):
    """The bearer token is missing or invalid."""


class ForbiddenError(StewardError):
    """The caller's role does not own this route."""


class ConcurrentUpdateError(StewardError):
    """A conditional write lost to another writer; re-read and try again."""


class UpstreamError(StewardError):
    """A peer (DynamoDB, Stripe) failed; the request can be retried."""


class DuplicateEventError(StewardError):
    """A webhook event was processed before: this delivery wrote nothing."""


class WriteRefusedError(StewardError):
    """The database refused a write for a reason a retry will not change (a validation error)."""


class StreamRecordError(StewardError):
    """Records of a stream batch that could not be applied (the rest were); the event source
    retries them and hands on what keeps failing."""


class PermanentMailError(StewardError):
    """An email that can never be sent as it is: it would not render safely, or was refused."""
