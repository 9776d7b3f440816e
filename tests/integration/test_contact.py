"""The contact form: routing to the program inbox, bots, header injection, rate limits,
staff access, the signup export, and an SMTP outage."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest
import requests

from chalicelib.adapters import keys
from chalicelib.domain import outreach_forms as forms
from chalicelib.domain.errors import RateLimitedError
from chalicelib.services.forms import FormRules, screen
from devstack.stack import Stack
from tests.helpers import Api, Mailbox, link, plain_text, wait_for


def visitor() -> str:
    return f"visitor-{uuid.uuid4().hex[:10]}@example.org"


def question(token: str, email: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Amara Okafor",
        "email": email,
        "topic": "health-programs",
        "subject": "Clinics",
        "message": "Where are your clinics?\nThanks.",
        "form_token": token,
        **overrides,
    }


def contacts_for(outreach: Any, email: str) -> list[Any]:
    found = []
    for topic in ("peace-programs", "health-programs", "donations", "media", "other"):
        for status in ("new", "answered", "archived"):
            found += [m for m in outreach.list_contacts(topic, status, 200, None).items if m.email == email]
    return found


def test_contact_reaches_the_program_inbox_with_reply_to(
    api: Api, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email = visitor()
    assert api.post("/contact", question(form_token, email)).status_code == 202
    [stored] = contacts_for(outreach, email)
    assert stored.status == "new" and stored.topic == "health-programs"

    inbox = wait_for(lambda: [m for m in mailbox.to("health@example.org") if email in str(m["Reply-To"])])
    assert inbox[0]["Reply-To"].addresses[0].addr_spec == email
    assert "Where are your clinics?" in plain_text(inbox[0])
    assert inbox[0].get_body(("html",)) is not None
    ack = mailbox.wait_to(email)[0]
    assert "Health Programs" in plain_text(ack)
    assert "453 Freedom Parkway" in plain_text(ack)


@pytest.mark.parametrize("route", ["/signups", "/contact"])
@pytest.mark.parametrize("trap", ["honeypot", "too_fast"])
def test_bots_get_202_and_nothing_is_stored_or_sent(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str, route: str, trap: str
) -> None:
    email = visitor()
    token = api.get("/config").json()["form_token"] if trap == "too_fast" else form_token
    body = question(token, email) if route == "/contact" else {"email": email, "form_token": token}
    if trap == "honeypot":
        body["honeypot"] = "http://spam.example"
    answer = api.post(route, body)
    assert answer.status_code == 202 and answer.json() == {"status": "accepted"}
    time.sleep(3)
    assert mailbox.to(email) == []
    assert contacts_for(outreach, email) == []
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain.tokens import email_id

    assert outreach.get_subscriber(email_id(get_settings().keys, email)) is None


INJECTIONS = ["x\r\nBcc: victim@example.org", "x\nSubject: spam", "x\rTo: a@b.example"]


@pytest.mark.parametrize("field", ["name", "email", "subject", "topic"])
def test_header_injection_fails_in_every_field(api: Api, outreach: Any, form_token: str, field: str) -> None:
    email = visitor()
    for attack in INJECTIONS:
        value = email.replace("@", attack + "@") if field == "email" else attack
        body = question(form_token, email)
        body[field] = value
        answer = api.post("/contact", body)
        assert answer.status_code == 422, answer.text
        assert field in {f["field"] for f in answer.json()["error"]["fields"]}
        if field in ("name", "email"):
            signup = {"email": email, "form_token": form_token, field: value}
            assert api.post("/signups", signup).status_code == 422
    assert contacts_for(outreach, email) == []


def test_newlines_in_the_message_stay_in_the_body(api: Api, mailbox: Mailbox, form_token: str) -> None:
    email = visitor()
    body = question(form_token, email, topic="media", message="Hi\r\nBcc: victim@example.org\r\n\r\nthere")
    assert api.post("/contact", body).status_code == 202
    inbox = wait_for(lambda: [m for m in mailbox.to("media@example.org") if email in str(m["Reply-To"])])
    assert inbox[0]["Bcc"] is None
    assert "Bcc: victim@example.org" in plain_text(inbox[0])


def test_rate_limit_per_address_answers_429_exactly_after_the_count(api: Api, form_token: str) -> None:
    email = visitor()
    answers = [api.post("/contact", question(form_token, email)).status_code for _ in range(6)]
    assert answers == [202] * 5 + [429]
    limited = api.post("/signups", {"email": email, "form_token": form_token})
    assert limited.status_code == 202  # each form has its own buckets
    blocked = api.post("/contact", question(form_token, email))
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "rate_limited"


def test_rate_limit_per_ip_answers_429_exactly_after_the_count(outreach: Any, stack: Stack) -> None:
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain.tokens import form_token

    keys = get_settings().keys
    rules = FormRules(keys, time_trap_seconds=2, window_seconds=3600, limit_ip=3, limit_email=100)
    now = int(time.time() * 1000)
    token = form_token(keys, now - 5000)
    ip = f"198.51.100.{uuid.uuid4().int % 250}"
    outcomes = []
    for n in range(4):
        try:
            outcomes.append(
                screen(
                    "test-ip",
                    f"v{n}-{uuid.uuid4().hex}@example.org",
                    token,
                    "",
                    ip,
                    repo=outreach,
                    rules=rules,
                    clock_ms=now,
                )
            )
        except RateLimitedError:
            outcomes.append("429")
    assert outcomes == [True, True, True, "429"]


def test_form_token_is_required_and_checked(api: Api) -> None:
    for token in (None, "123.bad", "x" * 50):
        body = {"email": visitor()} | ({"form_token": token} if token else {})
        answer = api.post("/signups", body)
        assert answer.status_code == 422
        assert answer.json()["error"]["fields"][0]["field"] == "form_token"


def test_program_staff_see_and_answer_only_their_program(
    api: Api, stack: Stack, token, form_token: str
) -> None:
    email = visitor()
    assert api.post("/contact", question(form_token, email, topic="peace-programs")).status_code == 202
    peace, health = token("program:peace-programs"), token("program:health-programs")
    listed = api.get("/staff/contacts", peace).json()["items"]
    [message] = [m for m in listed if m["email"] == email]
    assert api.get("/staff/contacts", health, program="peace-programs").status_code == 403
    assert api.get("/staff/contacts", token("finance")).status_code == 403

    url = f"{stack.config.api_url}/staff/contacts/{message['id']}"
    denied = requests.patch(
        url, json={"status": "answered"}, headers={"Authorization": f"Bearer {health}"}, timeout=10
    )
    assert denied.status_code == 403
    done = requests.patch(
        url, json={"status": "answered"}, headers={"Authorization": f"Bearer {peace}"}, timeout=10
    ).json()
    assert done["status"] == "answered" and done["updated_by"] == "local-staff" and done["updated_at"]
    answered = api.get("/staff/contacts", peace, status="answered").json()["items"]
    assert message["id"] in [m["id"] for m in answered]
    bad = requests.patch(
        url, json={"status": "deleted"}, headers={"Authorization": f"Bearer {peace}"}, timeout=10
    )
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "status"
    admin_view = api.get("/staff/contacts", token("admin"), program="peace-programs", status="answered")
    assert message["id"] in [m["id"] for m in admin_view.json()["items"]]


def test_signups_export_has_status_and_consent_columns(
    api: Api, token, mailbox: Mailbox, form_token: str
) -> None:
    email = visitor()
    assert (
        api.post(
            "/signups",
            {"email": email, "form_token": form_token, "name": "=HYPERLINK(1)", "consent_version": "v3"},
        ).status_code
        == 202
    )
    confirm_url = link(mailbox.wait_to(email)[0], "/signups/confirm")  # consent counts once confirmed
    assert requests.post(confirm_url, data={"token": confirm_url.split("token=")[1]}, timeout=10).ok
    assert api.get("/staff/signups/export.csv", token("finance")).status_code == 403
    answer = api.get("/staff/signups/export.csv", token("communications"))
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    [row] = [r for r in rows if r["email"] == email]
    assert row["status"] == "confirmed" and row["consent_version"] == "v3" and row["consent_ip_hmac"]
    assert row["name"] == "'=HYPERLINK(1)"  # no formula runs in a spreadsheet


def test_smtp_outage_delivers_every_email_exactly_once(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    emails = [visitor() for _ in range(3)]
    stack.stop_process("smtp")
    try:
        for email in emails:
            assert api.post("/contact", question(form_token, email, topic="other")).status_code == 202
        # the consumer tried, failed, and left every item pending for the sweep
        wait_for(lambda: all(_attempted(outreach, e) for e in emails), timeout=20)
        assert all(mailbox.to(e) == [] for e in emails)
    finally:
        stack.start_smtp()
    for email in emails:
        mailbox.wait_to(email, timeout=60)
        wait_for(lambda e=email: [m for m in mailbox.to("info@example.org") if e in str(m["Reply-To"])], 60)
    time.sleep(4)  # nothing more arrives
    counts = Counter(str(m["Message-ID"]) for m in mailbox.messages())
    assert max(counts.values()) == 1
    for email in emails:
        assert len(mailbox.to(email)) == 1


def _attempted(outreach: Any, email: str) -> bool:
    items = [  # the pending outbox (gsi1, each of its shards), not a Scan
        item
        for partition in keys.outbox_pending_partitions()
        for item in outreach.client.query(
            TableName=outreach.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pending",
            FilterExpression="contains(#c.email, :e)",
            ExpressionAttributeNames={"#c": "context"},
            ExpressionAttributeValues={":pending": {"S": partition}, ":e": {"S": email}},
        )["Items"]
    ]
    return len(items) == 2 and all(
        int(i["attempts"]["N"]) >= 1 and i["status"]["S"] == "pending" for i in items
    )


def test_a_replayed_submission_is_stored_and_mailed_once(
    api: Api, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email = visitor()
    body = question(form_token, email, subject="Twice")
    assert [api.post("/contact", body).status_code for _ in range(3)] == [202, 202, 202]
    assert len(contacts_for(outreach, email)) == 1
    mailbox.wait_to(email)
    time.sleep(3)
    assert len(mailbox.to(email)) == 1


def test_a_replay_read_once_without_the_models_and_once_by_them_is_stored_once(
    api: Api, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    # The plain reading takes the first copy; the second one's no-break and ideographic
    # spaces and upper-case domain leave it to the models, which strip and lower them: the
    # same form, so the same submission digest.
    email = visitor()
    body = question(form_token, email, subject="Twice, read two ways")
    copy = {
        **body,
        "email": " " + email.replace("@example.org", "@Example.ORG"),
        "name": body["name"] + "\u00a0",
        "subject": "\u3000" + body["subject"],
    }
    forms.read_contact(json.dumps(body).encode(), ["health-programs"])
    with pytest.raises(forms.Unsure):
        forms.read_contact(json.dumps(copy).encode(), ["health-programs"])
    assert [api.post("/contact", b).status_code for b in (body, copy, body, copy)] == [202] * 4
    assert len(contacts_for(outreach, email)) == 1
    mailbox.wait_to(email)
    time.sleep(3)
    assert len(mailbox.to(email)) == 1


def test_a_non_ascii_address_is_a_422_and_an_idn_domain_is_mailed_in_ascii(
    api: Api, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    # Neither SES nor the email package's Address can carry a non-ASCII local part.
    for route, body in (
        ("/contact", question(form_token, "用户@example.org")),
        ("/signups", {"email": "用户@example.org", "form_token": form_token}),
    ):
        answer = api.post(route, body)
        assert answer.status_code == 422, answer.text
        assert [f["field"] for f in answer.json()["error"]["fields"]] == ["email"]

    local = f"visitor-{uuid.uuid4().hex[:10]}"
    assert api.post("/contact", question(form_token, f"{local}@bücher.example")).status_code == 202
    email = f"{local}@xn--bcher-kva.example"
    assert [m.topic for m in contacts_for(outreach, email)] == ["health-programs"]
    inbox = wait_for(lambda: [m for m in mailbox.to("health@example.org") if email in str(m["Reply-To"])])
    assert inbox[0]["Reply-To"].addresses[0].addr_spec == email
    assert mailbox.wait_to(email)[0]["To"] == email
