"""The two visitor forms, POST /contact and POST /signups, read without pydantic: importing it
and building a first model is most of these routes' cold start. The reading here takes only a
body it is sure of: a JSON object of strings (and, for a signup, a list of interests and
nulls) that the models in domain/outreach.py would take as they are, give or take the
whitespace they strip. Anything else (a missing or extra name, a wrong type, a length or
pattern not met, an address that is not plain, a name given twice) is handed to those models,
which decide and word the 422. tests/unit/test_outreach_forms.py checks on many bodies that
whatever is read here, the models read the same."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.addresses import plain_address
from chalicelib.domain.text import NO_CONTROL_CHARS, header_text_problem

NO_CONTROL_BUT_NEWLINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
POSTAL_CODE = r"^[A-Za-z0-9 -]*$"
SOURCE_PAGE = r"^https?://[^\s\x00-\x1f]+$"
CONSENT_VERSION = r"^[A-Za-z0-9._-]+$"
_ONE_LINE, _MESSAGE = re.compile(NO_CONTROL_CHARS), re.compile(NO_CONTROL_BUT_NEWLINES)
_POSTAL, _PAGE, _CONSENT = re.compile(POSTAL_CODE), re.compile(SOURCE_PAGE), re.compile(CONSENT_VERSION)
_ASCII_SPACE = " \t\n\r\x0b\x0c"
_ABSENT = object()


class Unsure(Exception):
    """This reading cannot decide the body: the models will."""


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
        """The form as the submission's digest reads it: its JSON without the honeypot, as
        the model writes it (names in order, no spaces, non-ASCII as it is)."""
        names = ("email", "form_token", "name", "topic", "subject", "message")
        return json.dumps({n: getattr(self, n) for n in names}, ensure_ascii=False, separators=(",", ":"))


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


def read_contact(raw: bytes | str, topics: list[str]) -> ContactForm:
    """A contact form this reading is sure of, or Unsure."""
    data = _object(raw, {"email", "form_token", "honeypot", "name", "topic", "subject", "message"})
    topic = _text(data, "topic", 64)
    if topic not in topics:
        raise Unsure
    return ContactForm(
        **_common(data),
        name=_one_line(data, "name", 100, min_length=1),
        topic=topic,
        subject=_one_line(data, "subject", 200, min_length=1),
        message=_text(data, "message", 5000, min_length=1, pattern=_MESSAGE),
    )


def read_signup(raw: bytes | str, interests: list[str]) -> SignupForm:
    """A signup form this reading is sure of, or Unsure."""
    names = {"email", "form_token", "honeypot", "name", "postal_code", "interests", "source_page"}
    data = _object(raw, names | {"consent_version"})
    chosen = data.get("interests", [])
    if type(chosen) is not list or len(chosen) > 20:
        raise Unsure
    items = [_string(item, None) for item in chosen]
    if any(item not in interests for item in items):
        raise Unsure
    page = _text(data, "source_page", 500, pattern=_PAGE, default=None)
    if page is not None and not page.isascii():  # `\s` is one set of spaces only in ASCII
        raise Unsure
    return SignupForm(
        **_common(data),
        name=_one_line(data, "name", 100, default=None),
        postal_code=_text(data, "postal_code", 12, pattern=_POSTAL, default=None),
        interests=sorted(set(items)),
        source_page=page,
        consent_version=_text(data, "consent_version", 40, pattern=_CONSENT, default=None),
    )


def _object(raw: bytes | str, names: set[str]) -> dict[str, Any]:
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        data = json.loads(text or "{}", object_pairs_hook=_once)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep
        raise Unsure from None
    if type(data) is not dict or not data.keys() <= names:
        raise Unsure
    return data


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):  # a name given twice: refused, with its own words
        raise Unsure
    return data


def _common(data: dict[str, Any]) -> dict[str, str]:
    email = plain_address(_text(data, "email", 254))
    if email is None:  # email-validator's to judge
        raise Unsure
    return {
        "email": email,
        "form_token": _text(data, "form_token", 100),
        "honeypot": _text(data, "honeypot", 200, default=""),
    }


def _one_line(data: dict[str, Any], name: str, max_length: int, **kw: Any) -> Any:
    value = _text(data, name, max_length, pattern=_ONE_LINE, **kw)
    if value is not None and header_text_problem(value):
        raise Unsure
    return value


def _text(
    data: dict[str, Any],
    name: str,
    max_length: int | None,
    *,
    min_length: int = 0,
    pattern: re.Pattern[str] | None = None,
    default: Any = _ABSENT,
) -> Any:
    """The field as the models' strict, whitespace-stripping str takes it. A default of None
    means the name may also be null."""
    value = data.get(name, _ABSENT)
    if value is _ABSENT or (value is None and default is None):
        if default is _ABSENT:
            raise Unsure
        return default
    return _string(value, max_length, min_length=min_length, pattern=pattern)


def _string(
    value: Any, max_length: int | None, *, min_length: int = 0, pattern: re.Pattern[str] | None = None
) -> str:
    if type(value) is not str:
        raise Unsure
    text = value.strip(_ASCII_SPACE)
    if text != text.strip():  # other spaces at an end: which ones the models strip is theirs
        raise Unsure
    if len(text) < min_length or (max_length is not None and len(text) > max_length):
        raise Unsure
    if pattern is not None and not pattern.fullmatch(text):
        raise Unsure
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate, from a \\ud800 escape
            raise Unsure from None
    return text
