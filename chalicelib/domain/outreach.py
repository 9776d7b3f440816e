"""Email signups and contact messages: what visitors send and what is stored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.domain.addresses import EmailAddress
from chalicelib.domain.model import HeaderText, Model
from chalicelib.domain.outreach_forms import (
    CONSENT_VERSION,
    NO_CONTROL_BUT_NEWLINES,
    POSTAL_CODE,
    SOURCE_PAGE,
)
from chalicelib.domain.outreach_records import ContactStatus
from chalicelib.domain.text import NO_CONTROL_CHARS, ascii_address, header_text

SubscriberStatus = Literal["pending", "confirmed", "unsubscribed"]
OutboxStatus = Literal["pending", "sent", "failed"]
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
    postal_code: str | None = Field(default=None, max_length=12, pattern=POSTAL_CODE)
    interests: list[str] = Field(default_factory=list, max_length=20)
    source_page: str | None = Field(default=None, max_length=500, pattern=SOURCE_PAGE)
    consent_version: str | None = Field(default=None, max_length=40, pattern=CONSENT_VERSION)

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
