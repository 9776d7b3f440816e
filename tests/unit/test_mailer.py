"""Rendering never emits a header or body that was not set, on any Python patch level; SES
answers are sorted into permanent and transient (SES has no local peer: Stubber)."""

from __future__ import annotations

import base64
import dataclasses
from email import policy
from email.parser import BytesParser

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.adapters.mailer import Org, SesMailer, render
from chalicelib.domain.errors import PermanentMailError, UpstreamError
from chalicelib.services.ports import OutboxMessage

ORG = Org(name="Peace Org", address="1 Main St", mail_from="Peace Org <hello@example.org>")
CONTEXT = {
    "name": "Amara",
    "email": "a@example.org",
    "topic_name": "Media",
    "message": "Hi",
    "contact_id": "x",
}
Q_WORD = "=?utf-8?q?hi=0D=0ABcc:_victim@evil.example=0D=0AX-Injected:_yes?="
BASE_ENV = {
    "STEWARD_TABLE_NAME": "steward",
    "STEWARD_STRIPE_SECRET_KEY": "sk",
    "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk",
    "STEWARD_STRIPE_WEBHOOK_SECRET": "whsec",
    "STEWARD_JWT_ISSUER": "iss",
    "STEWARD_JWT_AUDIENCE": "aud",
    "STEWARD_JWKS_URL": "http://jwks",
    "STEWARD_PUBLIC_URL": "http://api",
    "STEWARD_SIGNING_KEY": "master",
    "STEWARD_IDENTITY_KEY": "identity",
    "STEWARD_ORG_NAME": "Peace Org",
    "STEWARD_ORG_ADDRESS": "1 Main St",
    "STEWARD_MAIL_FROM": "Peace Org <hello@example.org>",
}
B_WORD = "=?utf-8?b?" + base64.b64encode(b"hi\r\n\r\n<h1>Click</h1>").decode() + "?="


def _message(subject: str = "Hello", reply_to: str | None = None) -> OutboxMessage:
    return OutboxMessage(
        id="01JDTESTTESTTESTTESTTESTTE",
        template="contact_program",
        to="media@example.org",
        context={**CONTEXT, "subject": subject},
        created_at="2026-11-27T12:00:00.000Z",
        reply_to=reply_to,
    )


@pytest.mark.parametrize(
    "message",
    [
        _message(subject=Q_WORD),
        _message(subject=B_WORD),
        _message(subject="a\u2028Bcc: v@evil.example"),
        _message(subject="a\x85b"),
        _message(reply_to=f'"{Q_WORD}" <a@example.org>'),
        _message(reply_to=f'"{B_WORD}" <a@example.org>'),
        _message(reply_to="Amara\u2029Bcc: v@evil.example <a@example.org>"),
    ],
    ids=["subject-q", "subject-b", "subject-u2028", "subject-u0085", "name-q", "name-b", "name-u2029"],
)
def test_a_render_that_would_inject_is_a_permanent_failure(message: OutboxMessage) -> None:
    with pytest.raises(PermanentMailError):
        render(message, ORG)


def test_a_non_ascii_name_in_reply_to_still_renders() -> None:
    from email.utils import formataddr

    email = render(_message(reply_to=formataddr(("Zoë Ńowak", "zoe@example.org"))), ORG)
    parsed = BytesParser(policy=policy.default).parsebytes(email.as_bytes())
    [address] = parsed["Reply-To"].addresses
    assert address.display_name == "Zoë Ńowak" and address.addr_spec == "zoe@example.org"
    assert parsed["Bcc"] is None and parsed.get_body(("plain",)) is not None


@pytest.mark.parametrize("to", ["用户@example.org", "zoe@bücher.example"])
def test_a_stored_non_ascii_recipient_is_a_permanent_failure(to: str) -> None:
    # SES takes no SMTPUTF8 address, and the email package would write an encoded word into it.
    message = _message()
    with pytest.raises(PermanentMailError, match="To"):
        render(dataclasses.replace(message, to=to), ORG)


@pytest.fixture
def ses() -> tuple[SesMailer, Stubber]:
    client = boto3.client("sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return SesMailer(ORG, client), Stubber(client)


def test_ses_message_rejected_is_permanent(ses: tuple[SesMailer, Stubber]) -> None:
    mailer, stubber = ses
    stubber.add_client_error("send_email", "MessageRejected", "Email address is not verified.")
    with stubber, pytest.raises(PermanentMailError, match="MessageRejected"):
        mailer.send(_message())


def test_ses_throttling_is_transient(ses: tuple[SesMailer, Stubber]) -> None:
    mailer, stubber = ses
    stubber.add_client_error("send_email", "TooManyRequestsException", http_status_code=429)
    with stubber, pytest.raises(UpstreamError, match="TooManyRequests"):
        mailer.send(_message())


def test_a_hung_ses_call_gives_up_well_inside_the_lambda_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SES endpoint that takes the connection and never answers (a real socket): the send
    must fail as transient, with its reason, before the 25 s Lambda timeout kills the handler
    and leaves the item leased with no reason at all."""
    import json
    import socket
    import threading
    import time
    from pathlib import Path

    from chalicelib import bootstrap

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)  # connections complete in the kernel; nothing ever answers
    stage = json.loads((Path(__file__).parents[2] / ".chalice" / "config.json").read_text())
    lambda_timeout = int(stage["lambda_timeout"])
    for name, value in {
        **BASE_ENV,
        "STEWARD_MAIL_TRANSPORT": "ses",
        "AWS_ENDPOINT_URL_SESV2": f"http://127.0.0.1:{hole.getsockname()[1]}",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    bootstrap.reset()
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            bootstrap.get_mailer().send(_message())
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    worker.join(timeout=lambda_timeout)
    try:
        assert not worker.is_alive(), f"still waiting on SES after {lambda_timeout} s"
        assert time.monotonic() - started < lambda_timeout - 5  # room to record the reason
        assert [type(e) for e in outcome] == [UpstreamError], outcome
    finally:
        hole.close()
        bootstrap.reset()


@pytest.mark.parametrize(
    "message",
    [
        dataclasses.replace(_message(), template="no_such_template"),
        dataclasses.replace(_message(), context={"name": "Amara"}),  # fields the template needs are missing
    ],
    ids=["unknown-template", "missing-field"],
)
def test_an_item_that_cannot_be_rendered_fails_at_once(message: OutboxMessage) -> None:
    with pytest.raises(PermanentMailError):
        render(message, ORG)
