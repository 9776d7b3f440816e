"""What the visitor forms store: a signup request and a contact message, as plain records, so
that the two form routes answer without loading pydantic (chalicelib/domain/outreach_forms.py).
Each checks the type of its fields when made (chalicelib/domain/records.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chalicelib.domain.records import Record

# A signup request: received (stored by POST /signups), then its confirmation email was sent
# (or skipped: the address is on the list, or enough emails went today), then confirmed; or
# failed, when the sweep could not handle it after its bounded attempts.
SignupStatus = Literal["received", "sent", "skipped", "confirmed", "failed"]
ContactStatus = Literal["new", "answered", "archived"]


@dataclass(frozen=True, kw_only=True)
class PendingSignup(Record):
    """One signup request, kept as submitted: its own consent, confirmed only by its own token."""

    id: str
    subscriber_id: str
    email: str
    name: str | None = None
    postal_code: str | None = None
    interests: list[str] = field(default_factory=list)
    consent_version: str | None = None
    source_page: str | None = None
    ip_hmac: str
    created_at: str
    status: SignupStatus = "received"
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContactMessage(Record):
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
