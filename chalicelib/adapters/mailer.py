"""Render outbox emails from templates and send them: SES v2 in production, SMTP locally."""

from __future__ import annotations

import html
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from chalicelib.domain.errors import UpstreamError
from chalicelib.services.ports import Mailer, OutboxMessage

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SMTP_TIMEOUT_SECONDS = 10
# RFC 5322's hard limit: long headers such as List-Unsubscribe stay plain instead of encoded.
POLICY = SMTP.clone(max_line_length=998)


def _transfer_encoding(text: str) -> str:
    return "7bit" if text.isascii() else "8bit"


@dataclass(frozen=True)
class Org:
    name: str
    address: str
    mail_from: str


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(message: OutboxMessage, org: Org) -> EmailMessage:
    """A multipart/alternative email (plain text and HTML) for one outbox item."""
    values = {**message.context, "org_name": org.name, "org_address": org.address}
    subject, _, text = _template(f"{message.template}.txt").substitute(values).partition("\n---\n")
    text += _template("footer.txt").substitute(values)
    escaped = {key: html.escape(value) for key, value in values.items()}
    unsubscribe_html = ""
    if message.unsubscribe_url:
        text += f"Unsubscribe: {message.unsubscribe_url}\n"
        link = html.escape(message.unsubscribe_url)
        unsubscribe_html = f'<br><a href="{link}">Unsubscribe</a>'
    body = _template(f"{message.template}.html").substitute(escaped)
    footer = _template("footer.html").substitute({**escaped, "unsubscribe_html": unsubscribe_html})

    email = EmailMessage(policy=POLICY)  # refuses CR or LF inside any header value
    email["Subject"] = subject.strip()
    email["From"] = org.mail_from
    email["To"] = message.to
    if message.reply_to:
        email["Reply-To"] = message.reply_to
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
        except (OSError, smtplib.SMTPException) as exc:
            raise UpstreamError(f"SMTP send failed: {type(exc).__name__}") from exc


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
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamError(f"SES send failed: {type(exc).__name__}") from exc
