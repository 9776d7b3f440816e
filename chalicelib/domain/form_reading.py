"""Reading a form's JSON body without pydantic, for the forms a cold start should answer
without it (domain/outreach_forms.py, domain/donation_forms.py). Each helper takes only a value
it is sure the strict, whitespace-stripping pydantic model would take as it is: JSON strings,
integers and booleans of the right type, spaces stripped as the model strips them, lengths in
code points. Anything else raises Unsure, and the model decides and words the 422."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from chalicelib.domain.addresses import plain_address
from chalicelib.domain.text import NO_CONTROL_CHARS, has_line_break, header_text_problem

ONE_LINE = re.compile(NO_CONTROL_CHARS)
ASCII_SPACE = " \t\n\r\x0b\x0c"
ABSENT: Any = object()


class Unsure(Exception):
    """This reading cannot decide the body: the models will."""


def read_object(raw: bytes | str, names: set[str]) -> dict[str, Any]:
    """The body as a JSON object of these names at most, none given twice."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        data = json.loads(text or "{}", object_pairs_hook=_once)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep
        raise Unsure from None
    return fields(data, names)


def model_json(form: Any, without: set[str]) -> str:
    """A form read here, as its pydantic model writes its JSON without these names: names in
    order, no spaces, non-ASCII as it is (a replay's digest reads it)."""
    values = {name: value for name, value in asdict(form).items() if name not in without}
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def fields(data: Any, names: set[str]) -> dict[str, Any]:
    """An object (of the body, or within it) of these names at most."""
    if type(data) is not dict or not data.keys() <= names:
        raise Unsure
    return data


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):  # a name given twice: refused, with its own words
        raise Unsure
    return data


def text(
    data: dict[str, Any],
    name: str,
    max_length: int | None,
    *,
    min_length: int = 0,
    pattern: re.Pattern[str] | None = None,
    default: Any = ABSENT,
) -> Any:
    """The field as the models' strict, whitespace-stripping str takes it. A default of None
    means the name may also be null."""
    value = data.get(name, ABSENT)
    if value is ABSENT or (value is None and default is None):
        if default is ABSENT:
            raise Unsure
        return default
    return string(value, max_length, min_length=min_length, pattern=pattern)


def header_line(data: dict[str, Any], name: str, max_length: int, **kw: Any) -> Any:
    """Text that may reach an email header: no control character, line break or `=?`."""
    value = text(data, name, max_length, pattern=ONE_LINE, **kw)
    if value is not None and header_text_problem(value):
        raise Unsure
    return value


def one_line(data: dict[str, Any], name: str, max_length: int, **kw: Any) -> Any:
    """Text of one line (no control character, no line break of any kind)."""
    value = text(data, name, max_length, pattern=ONE_LINE, **kw)
    if value is not None and has_line_break(value):
        raise Unsure
    return value


def address(data: dict[str, Any], name: str, **kw: Any) -> Any:
    """A plain email address (domain/addresses.py), normalized as the models normalize it."""
    value = text(data, name, 254, **kw)
    if value is None:
        return None
    email = plain_address(value)
    if email is None:  # email-validator's to judge
        raise Unsure
    return email


def flag(data: dict[str, Any], name: str) -> bool:
    """A StrictBool that defaults to false: JSON true or false, never null."""
    value = data.get(name, False)
    if type(value) is not bool:
        raise Unsure
    return value


def string(
    value: Any, max_length: int | None, *, min_length: int = 0, pattern: re.Pattern[str] | None = None
) -> str:
    if type(value) is not str:
        raise Unsure
    stripped = value.strip(ASCII_SPACE)
    if stripped != stripped.strip():  # other spaces at an end: which ones the models strip is theirs
        raise Unsure
    if len(stripped) < min_length or (max_length is not None and len(stripped) > max_length):
        raise Unsure
    if pattern is not None and not pattern.fullmatch(stripped):
        raise Unsure
    if not stripped.isascii():
        try:
            stripped.encode()
        except UnicodeEncodeError:  # a lone surrogate, from a \\ud800 escape
            raise Unsure from None
    return stripped
