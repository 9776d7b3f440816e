"""Mail that cannot be built safely or is refused: encoded words and line breaks refused at
the edge, a stored one failed alone without stalling the rest, SMTP 5xx failed at once, and
the admin's list of failed mail."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest

from chalicelib.domain.ids import new_id
from chalicelib.domain.outreach_records import ContactMessage
from chalicelib.services.clock import utc_now
from chalicelib.services.ports import OutboxMessage
from devstack.smtp_sink import REJECTED_DOMAIN
from tests.helpers import GIFT, Api, Mailbox, plain_text, wait_for

Q_WORD = "=?utf-8?q?hi=0D=0ABcc:_victim@evil.example=0D=0AX-Injected:_yes?="
B_WORD = "=?utf-8?b?" + base64.b64encode(b"hi\r\n\r\n<h1>Click here</h1>").decode() + "?="
INJECTED = ("Bcc", "X-Injected")


def visitor(domain: str = "example.org") -> str:
    return f"visitor-{uuid.uuid4().hex[:10]}@{domain}"


def question(token: str, email: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Amara Okafor",
        "email": email,
        "topic": "media",
        "subject": "Clinics",
        "message": "Where are your clinics?",
        "form_token": token,
        **overrides,
    }


def _refused(answer: Any, field: str) -> None:
    assert answer.status_code == 422, answer.text
    assert field in {f["field"] for f in answer.json()["error"]["fields"]}, answer.text


@pytest.mark.parametrize("word", [Q_WORD, B_WORD], ids=["q", "b"])
def test_encoded_words_are_refused_in_every_field_that_reaches_a_header(
    api: Api, form_token: str, word: str
) -> None:
    email = visitor()
    for field in ("subject", "name"):
        _refused(api.post("/contact", question(form_token, email, **{field: word})), field)
    _refused(api.post("/contact", question(form_token, word.replace("?=", "") + "@example.org")), "email")
    _refused(api.post("/signups", {"email": email, "form_token": form_token, "name": word}), "name")
    for field in ("first_name", "last_name"):
        _refused(api.post("/donations", {**GIFT, field: word}), field)


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\u0085", "\x1c", "\x0b"])
def test_every_line_break_python_knows_is_refused(api: Api, form_token: str, brk: str) -> None:
    email = visitor()
    for field in ("subject", "name"):
        _refused(
            api.post("/contact", question(form_token, email, **{field: f"x{brk}Bcc: a@b.example"})), field
        )


@pytest.mark.parametrize("control", ["\x80", "\x9b", "\x9f", "\x1b", "\x7f"])
def test_every_control_character_is_refused_in_header_text(api: Api, form_token: str, control: str) -> None:
    """C1 controls (U+0080 to U+009F) are control characters as much as C0 ones: a terminal or
    mail client may act on them (U+009B starts an escape sequence)."""
    email = visitor()
    for field in ("subject", "name"):
        _refused(api.post("/contact", question(form_token, email, **{field: f"x{control}y"})), field)
    _refused(api.post("/signups", {"email": email, "form_token": form_token, "name": f"x{control}y"}), "name")
    for field in ("first_name", "last_name"):
        _refused(api.post("/donations", {**GIFT, field: f"x{control}y"}), field)


def _no_injection(mailbox: Mailbox) -> None:
    for message in mailbox.messages():
        assert all(message[name] is None for name in INJECTED), message.as_string()[:500]


def _outbox(api: Api, admin: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    cursor = None
    while True:
        params = {"status": status, "limit": 200} | ({"cursor": cursor} if cursor else {})
        answer = api.get("/staff/outbox", admin, **params)
        assert answer.status_code == 200, answer.text
        found |= {item["id"]: item for item in answer.json()["items"]}
        cursor = answer.json()["cursor"]
        if not cursor:
            return found


def test_a_stored_injection_fails_alone_and_the_good_mail_in_its_batch_goes_at_once(
    api: Api, mailbox: Mailbox, outreach: Any, token: Any
) -> None:
    """Values written before the edge refused them: the mailer still emits no injected header
    or body, marks each such item failed once, and a good email in the same batch is prompt."""
    now, email = utc_now(), visitor()
    contact = ContactMessage(
        id=new_id(),
        name="Amara",
        email=email,
        topic="media",
        subject="Hello",
        message="Hi",
        created_at=now,
        updated_at=now,
    )
    context = {"name": "Amara", "email": email, "topic_name": "Media", "message": "Hi", "contact_id": "x"}
    bad_subject = {
        f"q-{w}": OutboxMessage(
            id=new_id(),
            template="contact_ack",
            to=email,
            created_at=now,
            context={**context, "subject": word},
        )
        for w, word in (("q", Q_WORD), ("b", B_WORD), ("u2028", "a\u2028Bcc: v@evil.example"))
    }
    bad_name = OutboxMessage(
        id=new_id(),
        template="contact_program",
        to="media@example.org",
        created_at=now,
        reply_to=f'"{B_WORD}" <{email}>',
        context={**context, "subject": "Hello"},
    )
    good = OutboxMessage(
        id=new_id(),
        template="contact_ack",
        to=email,
        created_at=now,
        context={**context, "subject": "Good one"},
    )
    bad = [*bad_subject.values(), bad_name]
    started = time.monotonic()
    outreach.create_contact(contact, [*bad, good], uuid.uuid4().hex, int(time.time()) + 600)

    [delivered] = mailbox.wait_to(email, timeout=20)
    assert time.monotonic() - started < 5, "the good email waited behind the bad ones"
    assert "Good one" in str(delivered["Subject"]) and "Hello Amara" in plain_text(delivered)
    admin = token("admin")
    failed = wait_for(lambda: (f := _outbox(api, admin, "failed")) and all(b.id in f for b in bad) and f)
    time.sleep(7)  # two sweeps later nothing was retried
    failed = _outbox(api, admin, "failed")
    for item in bad:
        assert failed[item.id]["attempts"] == 1 and failed[item.id]["status"] == "failed"
        assert failed[item.id]["last_error"] and failed[item.id]["failed_at"]
    assert good.id not in failed and good.id not in _outbox(api, admin, "pending")
    assert len(mailbox.to(email)) == 1
    _no_injection(mailbox)


def test_an_smtp_5xx_fails_at_once_and_the_other_email_is_sent(
    api: Api, mailbox: Mailbox, form_token: str, token: Any
) -> None:
    email = visitor(REJECTED_DOMAIN)
    assert api.post("/contact", question(form_token, email)).status_code == 202
    wait_for(lambda: [m for m in mailbox.to("media@example.org") if email in str(m["Reply-To"])])
    admin = token("admin")
    failed = wait_for(lambda: [i for i in _outbox(api, admin, "failed").values() if i["to"] == email])
    time.sleep(4)
    [item] = [i for i in _outbox(api, admin, "failed").values() if i["to"] == email]
    assert item["attempts"] == 1 and "550" in item["last_error"], failed


def test_only_admin_lists_the_outbox_and_bad_input_is_a_422(api: Api, token: Any) -> None:
    assert api.get("/staff/outbox", token("finance"), status="failed").status_code == 403
    assert api.get("/staff/outbox", status="failed").status_code == 401
    answer = api.get("/staff/outbox", token("admin"), status="sent")
    _refused(answer, "status")
    _refused(api.get("/staff/outbox", token("admin"), limit="0"), "limit")


def test_a_long_paragraph_reaches_the_program_whole(api: Api, mailbox: Mailbox, form_token: str) -> None:
    """People type a paragraph without a line break. SMTP caps a line at 998 octets (the
    sink answers 500, as real servers do), so a long line goes out quoted-printable."""
    email = visitor()  # the paragraph below is about 3,600 characters on one line
    paragraph = " ".join(["Our village clinic needs help"] * 120) + " \u2014 merci, \u0109iuj \u2713"
    assert api.post("/contact", question(form_token, email, message=paragraph)).status_code == 202
    inbox = wait_for(lambda: [m for m in mailbox.to("media@example.org") if email in str(m["Reply-To"])])
    assert paragraph in plain_text(inbox[0])
    html = inbox[0].get_body(("html",))
    assert html is not None and "Our village clinic needs help" in str(html.get_content())
    assert mailbox.wait_to(email)
