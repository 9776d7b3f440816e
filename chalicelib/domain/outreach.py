"""Email signups and contact messages: what visitors send and what is stored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.domain.addresses import EmailAddress
from chalicelib.domain.model import Model
from chalicelib.domain.text import NO_CONTROL_CHARS, HeaderText, ascii_address, header_text

SubscriberStatus = Literal["pending", "confirmed", "unsubscribed"]
# A signup request: received (stored by POST /signups), then its confirmation email was sent
# (or skipped: the address is on the list, or enough emails went today), then confirmed; or
# failed, when the sweep could not handle it after its bounded attempts.
SignupStatus = Literal["received", "sent", "skipped", "confirmed", "failed"]
ContactStatus = Literal["new", "answered", "archived"]
OutboxStatus = Literal["pending", "sent", "failed"]
# Text that may span lines (a message body): no control characters but tab, CR and LF.
NO_CONTROL_BUT_NEWLINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# Text that reaches an email header (a name, a subject): one line, no encoded word.
OneLine = Annotated[str, Field(pattern=NO_CONTROL_CHARS), HeaderText]


class _Form(Model):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    email: EmailAddress = Field(max_length=254)
    form_token: str = Field(max_length=100, description="The form_token from GET /config.")
    honeypot: str = Field(
        default="", max_length=200, description="The hidden 'Please leave this field empty' field."
    )

    @field_validator("email")
    @classmethod
    def _normalize_email(cls, value: str) -> str:
        return header_text(ascii_address(value))  # it reaches To and Reply-To


def _allowed(info: ValidationInfo, key: str) -> tuple[str, ...] | None:
    allowed = (info.context or {}).get(key)
    return tuple(allowed) if allowed is not None else None


class SignupRequest(_Form):
    """The body of POST /signups."""

    name: OneLine | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=12, pattern=r"^[A-Za-z0-9 -]*$")
    interests: list[str] = Field(default_factory=list, max_length=20)
    source_page: str | None = Field(default=None, max_length=500, pattern=r"^https?://[^\s\x00-\x1f]+$")
    consent_version: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")

    @field_validator("interests")
    @classmethod
    def _interests_allowed(cls, value: list[str], info: ValidationInfo) -> list[str]:
        allowed = _allowed(info, "interests")
        unknown = [v for v in value if allowed is not None and v not in allowed]
        if unknown:
            raise ValueError(f"unknown interests: {', '.join(sorted(set(unknown)))[:200]}")
        return sorted(set(value))


class ContactRequest(_Form):
    """The body of POST /contact."""

    name: OneLine = Field(min_length=1, max_length=100)
    topic: str = Field(max_length=64, description="A topic id from GET /config.")
    subject: OneLine = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000, pattern=NO_CONTROL_BUT_NEWLINES)

    @field_validator("topic")
    @classmethod
    def _topic_allowed(cls, value: str, info: ValidationInfo) -> str:
        allowed = _allowed(info, "topics")
        if allowed is not None and value not in allowed:
            raise ValueError("is not a topic listed by GET /config")
        return value


class Subscriber(Model):
    id: str
    email: str
    name: str | None = None
    postal_code: str | None = None
    interests: list[str] = Field(default_factory=list)
    status: SubscriberStatus = "pending"
    consent_version: str | None = None
    consent_source_page: str | None = None
    consent_ip_hmac: str | None = None
    consent_at: str | None = None
    consent_signup_id: str | None = None
    created_at: str
    updated_at: str
    confirmed_at: str | None = None
    unsubscribed_at: str | None = None
    sends_day: str | None = None
    sends_count: int = 0
    version: int = 0


class PendingSignup(Model):
    """One signup request, kept as submitted: its own consent, confirmed only by its own token."""

    id: str
    subscriber_id: str
    email: str
    name: str | None = None
    postal_code: str | None = None
    interests: list[str] = Field(default_factory=list)
    consent_version: str | None = None
    source_page: str | None = None
    ip_hmac: str
    created_at: str
    status: SignupStatus = "received"
    attempts: int = 0
    last_error: str | None = None


class ContactMessage(Model):
    id: str
    name: str
    email: str
    topic: str
    subject: str
    message: str
    status: ContactStatus = "new"
    created_at: str
    updated_at: str
    updated_by: str | None = None
    ip_hmac: str | None = None


class ContactStatusChange(Model):
    """The body of PATCH /staff/contacts/{id}."""

    model_config = ConfigDict(extra="forbid", strict=True)

    status: ContactStatus


class OutboxRecord(Model):
    """An outbox email as staff see it: where it goes and how it ended, not its content."""

    id: str
    template: str
    to: str
    status: OutboxStatus
    attempts: int = 0
    created_at: str
    last_error: str | None = None
    failed_at: str | None = None
    sent_at: str | None = None
