"""Render outbox emails from templates and send them: SES v2 in production, SMTP locally.

A render that could add a header line or a body (a line break, or an RFC 2047 encoded word
the email package would decode into one) fails with PermanentMailError, as does a message
the server refuses for good (SES MessageRejected, SMTP 5xx). Other send failures raise
UpstreamError, so the outbox retries them.

A context value is plain text, escaped for the HTML part. A few key endings carry a block
whose parts are escaped one by one, so variable-length content never becomes markup:
`_rows` rows ("\n") of cells ("\t") as a table, `_table` the same with a header row,
`_paragraphs` one paragraph a line, `_links` one "label\turl" a line (http or https only)."""

from __future__ import annotations

import html
import smtplib
import textwrap
from dataclasses import dataclass
from email.errors import MessageError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import formatdate, getaddresses, parseaddr
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, NoReturn

from chalicelib.domain.errors import PermanentMailError, UpstreamError
from chalicelib.domain.text import has_line_break, header_text_problem
from chalicelib.services.ports import Mailer, OutboxMessage

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SMTP_TIMEOUT_SECONDS = 10
# SES answers these for a message it will never take; anything else may pass on a retry.
SES_PERMANENT = {"MessageRejected", "BadRequestException"}


def _policy() -> Policy:
    # RFC 5322's hard limit: long headers such as List-Unsubscribe stay plain instead of encoded.
    policy = SMTP.clone(max_line_length=998)
    if hasattr(policy, "verify_generated_headers"):  # newer patch levels only; we never rely on it
        policy = policy.clone(verify_generated_headers=True)
    return policy


POLICY = _policy()


# RFC 5321/5322: at most 998 octets on a line; servers refuse a longer one for good (500).
MAX_LINE_OCTETS = 998


def _transfer_encoding(text: str) -> str:
    """7/8-bit while every line fits (links read as written); a longer line, such as a
    paragraph typed without a break, goes quoted-printable, which wraps it."""
    if max(map(len, text.encode("utf-8", "surrogateescape").splitlines()), default=0) > MAX_LINE_OCTETS:
        return "quoted-printable"
    return "7bit" if text.isascii() else "8bit"


@dataclass(frozen=True)
class Org:
    """The sender. Without an EIN, a template that states it ($org_ein) fails to render."""

    name: str
    address: str
    mail_from: str
    legal_name: str | None = None
    ein: str | None = None


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(message: OutboxMessage, org: Org) -> EmailMessage:
    """A multipart/alternative email (plain text and HTML) for one outbox item; raises
    PermanentMailError when it cannot be built, or would not come out as it was set."""
    try:
        email = _build(message, org)
        _check_generated(email)
    except (ValueError, LookupError, TypeError, MessageError, FileNotFoundError) as exc:
        raise PermanentMailError(f"cannot render: {type(exc).__name__}: {str(exc)[:200]}") from exc
    return email


def _header(name: str, value: str) -> str:
    """A value set as a header: refused if the email package could turn it into more lines."""
    problem = header_text_problem(value)
    if problem:
        raise PermanentMailError(f"cannot render: {name} {problem}")
    return value


def _reply_to(value: str) -> Address:
    """Reply-To as an address object; its display name is decoded here and checked, so the
    email package never decodes an encoded word from stored text into a line break."""
    if has_line_break(value) or len(getaddresses([value])) != 1:
        raise PermanentMailError("cannot render: Reply-To is not one address on one line")
    name, addr = parseaddr(value)
    decoded = str(make_header(decode_header(name))) if name else ""
    return Address(display_name=_header("Reply-To", decoded), addr_spec=_header("Reply-To", addr))


def _check_generated(email: EmailMessage) -> None:
    """Serialize the message as it will be sent and read its header block back: exactly the
    headers that were set, one logical line each, followed by the body."""
    head, blank, _ = email.as_bytes().partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not blank or any(b"\r" in line or b"\n" in line for line in lines):
        raise PermanentMailError("cannot render: a header would hold a line break")
    names = [
        line.split(b":", 1)[0].decode("ascii", "replace").lower() for line in lines if line[:1] not in b" \t"
    ]
    if sorted(names) != sorted(key.lower() for key in email.keys()):
        raise PermanentMailError("cannot render: the headers would not be the ones set")


WRAP = 76
BLOCKS = ("_rows", "_table", "_paragraphs", "_links")


def _cells(value: str) -> list[list[str]]:
    return [line.split("\t") for line in value.split("\n")] if value else []


def _text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(max(map(len, rows)))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


def _link(row: list[str]) -> tuple[str, str]:
    if len(row) != 2 or not row[1].startswith(("https://", "http://")):
        raise ValueError("a link must be one label and one http(s) URL")
    return row[0], row[1]


def _text_block(key: str, value: str) -> str:
    rows = _cells(value)
    if not rows or not key.endswith(BLOCKS):
        return value
    if key.endswith("_paragraphs"):
        return "\n\n".join(textwrap.fill(line, WRAP, break_long_words=False) for line in value.split("\n"))
    if key.endswith("_links"):
        return "\n".join(f"{label}: {url}" for label, url in map(_link, rows))
    return _text_table(rows)


def _html_block(key: str, value: str) -> str:
    e = html.escape
    rows = _cells(value)
    if not key.endswith(BLOCKS):
        return e(value)
    if not rows:
        return ""
    if key.endswith("_paragraphs"):
        return "".join(f"<p>{e(line)}</p>" for line in value.split("\n"))
    if key.endswith("_links"):
        return (
            "<p>"
            + "<br>".join(f'<a href="{e(url)}">{e(label)}</a>' for label, url in map(_link, rows))
            + "</p>"
        )
    head = ""
    if key.endswith("_table"):
        head = "<thead><tr>" + "".join(f"<th>{e(cell)}</th>" for cell in rows[0]) + "</tr></thead>"
        body = ["<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows[1:]]
    else:
        body = [
            f'<tr><th scope="row" style="text-align:left;padding-right:1em">{e(row[0])}</th>'
            + "".join(f"<td>{e(cell)}</td>" for cell in row[1:])
            + "</tr>"
            for row in rows
        ]
    return f'<table style="border-collapse:collapse">{head}<tbody>{"".join(body)}</tbody></table>'


def _org_values(org: Org) -> dict[str, str]:
    values = {"org_name": org.name, "org_address": org.address, "org_legal_name": org.legal_name or org.name}
    if org.ein:
        values["org_ein"] = org.ein
    return values


def _build(message: OutboxMessage, org: Org) -> EmailMessage:
    values = {**message.context, **_org_values(org)}
    plain = {key: _text_block(key, value) for key, value in values.items()}
    subject, _, text = _template(f"{message.template}.txt").substitute(plain).partition("\n---\n")
    text += _template("footer.txt").substitute(plain)
    escaped = {key: _html_block(key, value) for key, value in values.items()}
    unsubscribe_html = ""
    if message.unsubscribe_url:
        text += f"Unsubscribe: {message.unsubscribe_url}\n"
        link = html.escape(message.unsubscribe_url)
        unsubscribe_html = f'<br><a href="{link}">Unsubscribe</a>'
    body = _template(f"{message.template}.html").substitute(escaped)
    footer = _template("footer.html").substitute({**escaped, "unsubscribe_html": unsubscribe_html})

    email = EmailMessage(policy=POLICY)  # refuses CR or LF inside any header value
    email["Subject"] = _header("Subject", subject.strip())
    email["From"] = org.mail_from
    if not message.to.isascii():  # SES takes no SMTPUTF8 address; the header would not hold it
        raise PermanentMailError("cannot render: To is not an ASCII address")
    email["To"] = _header("To", message.to)
    if message.reply_to:
        email["Reply-To"] = _reply_to(message.reply_to)
    domain = parseaddr(org.mail_from)[1].rpartition("@")[2] or "steward.invalid"
    email["Message-ID"] = f"<{message.id}@{domain}>"
    email["Date"] = formatdate(usegmt=True)
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    document = f'<!doctype html><html><body style="font-family:sans-serif">{body}{footer}</body></html>'
    # Plain 7/8-bit bodies, so a link in an .eml file reads as it was written.
    email.set_content(text, cte=_transfer_encoding(text))
    email.add_alternative(document, subtype="html", cte=_transfer_encoding(document))
    return email


class SmtpMailer(Mailer):
    def __init__(self, org: Org, host: str, port: int) -> None:
        self.org, self.host, self.port = org, host, port

    def send(self, message: OutboxMessage) -> None:
        email = render(message, self.org)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as client:
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            _smtp_failed(code, text, exc)
        except smtplib.SMTPResponseException as exc:
            _smtp_failed(exc.smtp_code, exc.smtp_error, exc)
        except (OSError, smtplib.SMTPException) as exc:
            raise UpstreamError(f"SMTP send failed: {type(exc).__name__}") from exc


def _smtp_failed(code: int, text: bytes | str, exc: Exception) -> NoReturn:
    """A 5xx answer is permanent; a 4xx (or none) may pass on a retry."""
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reason = f"SMTP {code} {said}"[:300]
    if code >= 500:
        raise PermanentMailError(reason) from exc
    raise UpstreamError(f"SMTP send failed: {reason}") from exc


class SesMailer(Mailer):
    def __init__(self, org: Org, boto3_client: Any) -> None:
        self.org, self.client = org, boto3_client

    def send(self, message: OutboxMessage) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        email = render(message, self.org)
        try:
            self.client.send_email(
                FromEmailAddress=self.org.mail_from,
                Destination={"ToAddresses": [message.to]},
                Content={"Raw": {"Data": email.as_bytes()}},
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in SES_PERMANENT:
                raise PermanentMailError(f"SES refused the message: {code}") from exc
            raise UpstreamError(f"SES send failed: {code or type(exc).__name__}") from exc
        except BotoCoreError as exc:
            raise UpstreamError(f"SES send failed: {type(exc).__name__}") from exc
