"""Text that may reach an email header: one line, and no RFC 2047 encoded word."""

from __future__ import annotations

# No C0 or C1 control character: the pattern of a one-line field.
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f-\x9f]*$"


def has_line_break(value: str) -> bool:
    """Any line break Python knows: CR, LF, VT, FF, FS, GS, RS, U+0085, U+2028, U+2029."""
    return "".join(value.splitlines()) != value


def has_control_character(value: str) -> bool:
    """A C0 or C1 control character, or DEL (U+0000 to U+001F, U+007F to U+009F)."""
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value)


def header_text_problem(value: str) -> str | None:
    """Why this text cannot go into a header, or None: a line break, a control character, or
    `=?`, which the email package decodes as an RFC 2047 encoded word (into CR LF, on some
    patch levels)."""
    if has_line_break(value):
        return "must be one line: no line break of any kind"
    if has_control_character(value):
        return "must not hold a control character"
    if "=?" in value:
        return 'must not contain "=?"'
    return None


def header_text(value: str) -> str:
    problem = header_text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def ascii_address(value: str) -> str:
    """An address as it can be mailed: a non-ASCII local part is refused (SES takes no
    SMTPUTF8 address, and the email package cannot set one in a header); an
    internationalized domain is written in its ASCII (punycode) form, in lower case. A plain
    address (chalicelib/domain/addresses.py) is that already, and loads no email-validator."""
    from chalicelib.domain.addresses import plain_address

    plain = plain_address(value)
    if plain is not None:
        return plain
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return str(checked.ascii_email)
