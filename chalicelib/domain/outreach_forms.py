"""The two visitor forms, POST /contact and POST /signups, read without pydantic: importing it
and building a first model is most of these routes' cold start. The reading here takes only a
body it is sure of: a JSON object of strings (and, for a signup, a list of interests and
nulls) that the models in domain/outreach.py would take as they are, give or take the
whitespace they strip. Anything else (a missing or extra name, a wrong type, a length or
pattern not met, an address that is not plain, a name given twice) is handed to those models,
which decide and word the 422. tests/unit/test_outreach_forms.py checks on many bodies that
whatever is read here, the models read the same."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.form_reading import Unsure, address, header_line, model_json, read_object, string, text
from chalicelib.domain.records import field_names

NO_CONTROL_BUT_NEWLINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
POSTAL_CODE = r"^[A-Za-z0-9 -]*$"
SOURCE_PAGE = r"^https?://[^\s\x00-\x1f]+$"
CONSENT_VERSION = r"^[A-Za-z0-9._-]+$"
_MESSAGE, _POSTAL = re.compile(NO_CONTROL_BUT_NEWLINES), re.compile(POSTAL_CODE)
_PAGE, _CONSENT = re.compile(SOURCE_PAGE), re.compile(CONSENT_VERSION)
__all__ = ["ContactForm", "SignupForm", "Unsure", "read_contact", "read_signup"]


@dataclass(frozen=True, kw_only=True)
class ContactForm:
    email: str
    form_token: str
    honeypot: str = ""
    name: str
    topic: str
    subject: str
    message: str

    def content(self) -> str:
        """The form as the submission's digest reads it: the model's JSON without the honeypot."""
        return model_json(self, {"honeypot"})


@dataclass(frozen=True, kw_only=True)
class SignupForm:
    email: str
    form_token: str
    honeypot: str = ""
    name: str | None = None
    postal_code: str | None = None
    interests: list[str] = field(default_factory=list)
    source_page: str | None = None
    consent_version: str | None = None


CONTACT_NAMES, SIGNUP_NAMES = set(field_names(ContactForm)), set(field_names(SignupForm))


def read_contact(raw: bytes | str, topics: list[str]) -> ContactForm:
    """A contact form this reading is sure of, or Unsure."""
    data = read_object(raw, CONTACT_NAMES)
    topic = text(data, "topic", 64)
    if topic not in topics:
        raise Unsure
    return ContactForm(
        **_common(data),
        name=header_line(data, "name", 100, min_length=1),
        topic=topic,
        subject=header_line(data, "subject", 200, min_length=1),
        message=text(data, "message", 5000, min_length=1, pattern=_MESSAGE),
    )


def read_signup(raw: bytes | str, interests: list[str]) -> SignupForm:
    """A signup form this reading is sure of, or Unsure."""
    data = read_object(raw, SIGNUP_NAMES)
    chosen = data.get("interests", [])
    if type(chosen) is not list or len(chosen) > 20:
        raise Unsure
    items = [string(item, None) for item in chosen]
    if any(item not in interests for item in items):
        raise Unsure
    page = text(data, "source_page", 500, pattern=_PAGE, default=None)
    if page is not None and not page.isascii():  # `\s` is one set of spaces only in ASCII
        raise Unsure
    return SignupForm(
        **_common(data),
        name=header_line(data, "name", 100, default=None),
        postal_code=text(data, "postal_code", 12, pattern=_POSTAL, default=None),
        interests=sorted(set(items)),
        source_page=page,
        consent_version=text(data, "consent_version", 40, pattern=_CONSENT, default=None),
    )


def _common(data: dict[str, Any]) -> dict[str, str]:
    return {
        "email": address(data, "email"),
        "form_token": text(data, "form_token", 100),
        "honeypot": text(data, "honeypot", 200, default=""),
    }
