"""What the visitor forms store: a signup request and a contact message, as plain records, so
that the two form routes answer without loading pydantic (chalicelib/domain/outreach_forms.py).
Each checks the type of its fields when made, as the models did. The staff routes' response
shapes take them as they are (pydantic reads dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

# A signup request: received (stored by POST /signups), then its confirmation email was sent
# (or skipped: the address is on the list, or enough emails went today), then confirmed; or
# failed, when the sweep could not handle it after its bounded attempts.
SignupStatus = Literal["received", "sent", "skipped", "confirmed", "failed"]
ContactStatus = Literal["new", "answered", "archived"]


@dataclass(frozen=True, kw_only=True)
class PendingSignup:
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

    def __post_init__(self) -> None:
        _check(self)


@dataclass(frozen=True, kw_only=True)
class ContactMessage:
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

    def __post_init__(self) -> None:
        _check(self)


# What each annotation of these records admits, so that an item stored in another shape (a
# number for a name, an unknown status) is refused where it is read, not shown or written back.
_ADMITS: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "SignupStatus": lambda v: v in get_args(SignupStatus),
    "ContactStatus": lambda v: v in get_args(ContactStatus),
}


def _check(record: Any) -> None:
    for spec in fields(record):
        if not _ADMITS[str(spec.type)](getattr(record, spec.name)):
            raise TypeError(f"{type(record).__name__}.{spec.name} is not {spec.type}")
