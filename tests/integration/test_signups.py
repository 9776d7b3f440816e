"""Email signups against the real stack, reading real mail from the SMTP sink."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests

from chalicelib.bootstrap import get_settings
from chalicelib.domain.tokens import email_id
from devstack.stack import Stack
from tests.helpers import Api, Mailbox, link, plain_text


def address() -> str:
    return f"reader-{uuid.uuid4().hex[:10]}@example.org"


def subscriber(outreach: Any, stack: Stack, email: str) -> Any:
    return outreach.get_subscriber(email_id(get_settings().keys, email))


def events(outreach: Any, stack: Stack, email: str) -> list[str]:
    items = outreach.client.query(
        TableName=outreach.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
        ExpressionAttributeValues={
            ":pk": {"S": f"SUBSCRIBER#{email_id(get_settings().keys, email)}"},
            ":e": {"S": "EVENT#"},
        },
    )["Items"]
    return [item["kind"]["S"] for item in items]


def signup(api: Api, token: str, email: str, **extra: Any) -> requests.Response:
    return api.post("/signups", {"email": email, "form_token": token, **extra})


def test_signup_confirm_unsubscribe_lifecycle(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email = address()
    answer = signup(
        api,
        form_token,
        email,
        name="Rosa",
        interests=["peace", "newsletter"],
        source_page="https://example.org/peace",
        consent_version="2026-01",
        postal_code="30307",
    )
    assert answer.status_code == 202 and answer.json() == {"status": "accepted"}
    confirmation = mailbox.wait_to(email)[0]  # sent behind the answer, from the stream
    assert subscriber(outreach, stack, email).status == "pending"
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert confirmation["List-Unsubscribe"].startswith("<http") and confirmation["List-Unsubscribe"].endswith(
        ">"
    )
    assert confirmation.get_body(("html",)) is not None
    assert "453 Freedom Parkway" in plain_text(confirmation)  # postal address in every email
    confirm_url = link(confirmation, "/signups/confirm")

    # A scanner that prefetches the link (GET) confirms nothing.
    page = requests.get(confirm_url, timeout=10)
    assert page.status_code == 200 and "<form" in page.text and "submit()" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert subscriber(outreach, stack, email).status == "pending"

    # What the page's script does in a browser: post the form back.
    token = confirm_url.split("token=")[1]
    confirmed = requests.post(confirm_url, data={"token": token, "confirm": "yes"}, timeout=10)
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    stored = subscriber(outreach, stack, email)
    assert stored.status == "confirmed" and stored.consent_version == "2026-01"
    assert stored.consent_source_page == "https://example.org/peace"
    assert stored.consent_ip_hmac and "127.0.0.1" not in stored.consent_ip_hmac
    assert requests.post(confirm_url, data={"token": token}, timeout=10).status_code == 200  # idempotent

    unsubscribe_url = confirmation["List-Unsubscribe"].strip("<>")
    shown = requests.get(unsubscribe_url, timeout=10)
    assert shown.status_code == 200 and "<button" in shown.text
    assert subscriber(outreach, stack, email).status == "confirmed"  # GET never unsubscribes
    for _ in range(2):  # RFC 8058 one-click, twice: 200 both times, never a redirect
        one_click = requests.post(
            unsubscribe_url,
            data="List-Unsubscribe=One-Click",
            allow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert one_click.status_code == 200
    assert subscriber(outreach, stack, email).status == "unsubscribed"

    # Signing up again needs a new confirmation.
    assert signup(api, form_token, email).status_code == 202
    second = mailbox.wait_to(email, count=2)[-1]
    assert subscriber(outreach, stack, email).status == "pending"
    assert link(second, "/signups/confirm") != confirm_url
    assert events(outreach, stack, email) == ["signup", "confirmed", "unsubscribed", "signup"]


def test_answers_never_reveal_an_address_on_the_list(api: Api, mailbox: Mailbox, form_token: str) -> None:
    known, unknown = address(), address()
    assert signup(api, form_token, known).status_code == 202
    first, second = signup(api, form_token, known), signup(api, form_token, unknown)
    assert (first.status_code, first.text, dict(first.headers).keys()) == (
        second.status_code,
        second.text,
        dict(second.headers).keys(),
    )


def test_confirmation_is_resent_at_most_three_times_a_day(
    api: Api, mailbox: Mailbox, form_token: str
) -> None:
    email = address()
    for _ in range(5):
        assert signup(api, form_token, email).status_code == 202
    mailbox.wait_to(email, count=3)
    time.sleep(4)  # a fourth or fifth email would have arrived by now
    assert len(mailbox.to(email)) == 3


def test_bad_links_answer_a_page_to_people_and_json_to_programs(stack: Stack) -> None:
    base = stack.config.api_url
    browser = {"Accept": "text/html,application/xhtml+xml"}
    answer = requests.post(
        f"{base}/signups/confirm?token=nope", data={"token": "nope"}, headers=browser, timeout=10
    )
    assert answer.status_code == 404 and "did not work" in answer.text
    answer = requests.post(f"{base}/signups/confirm?token=nope", data={"token": "nope"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["error"]["fields"][0]["field"] == "token"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = requests.post(
        f"{base}/unsubscribe?token=nope", data="List-Unsubscribe=One-Click", headers=form, timeout=10
    )
    assert answer.status_code == 404 and answer.json()["error"]["fields"][0]["field"] == "token"
    answer = requests.post(f"{base}/unsubscribe?token=nope", data="x=1", headers=form, timeout=10)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "List-Unsubscribe"
    assert requests.post(f"{base}/unsubscribe?token=x", json={}, timeout=10).status_code == 415


def test_link_pages_say_what_a_person_sees(stack: Stack) -> None:
    base = stack.config.api_url
    # Without JavaScript nothing confirms until the button is pressed, so the page says so.
    opened = requests.get(f"{base}/signups/confirm?token=nope", timeout=10).text
    assert "Confirming your subscription" not in opened
    assert "Press the button to confirm your subscription." in opened
    browser = {"Accept": "text/html"}
    for path, field in (("signups/confirm", "token"), ("unsubscribe", "List-Unsubscribe")):
        value = "nope" if field == "token" else "One-Click"
        answer = requests.post(f"{base}/{path}?token=nope", data={field: value}, headers=browser, timeout=10)
        assert answer.status_code == 404
        assert "<p>This " in answer.text and "link is not valid.</p>" in answer.text


def test_one_click_accepts_a_multipart_body(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email = address()
    assert signup(api, form_token, email).status_code == 202
    unsubscribe_url = mailbox.wait_to(email)[0]["List-Unsubscribe"].strip("<>")
    answer = requests.post(unsubscribe_url, files={"List-Unsubscribe": (None, "One-Click")}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert subscriber(outreach, stack, email).status == "unsubscribed"


def confirm_link(url: str) -> requests.Response:
    return requests.post(url, data={"token": url.split("token=")[1]}, timeout=10)


def test_a_second_signup_of_a_pending_address_cannot_rewrite_its_consent(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email = address()
    owner = {
        "name": "Owner",
        "interests": ["peace"],
        "consent_version": "2026-01",
        "source_page": "https://example.org/owner",
    }
    other = {
        "name": "Mallory",
        "interests": ["events", "health"],
        "consent_version": "9999-99",
        "source_page": "https://evil.example/x",
    }
    assert signup(api, form_token, email, **owner).status_code == 202
    mailbox.wait_to(email)
    assert signup(api, form_token, email, **other).status_code == 202
    emails = mailbox.wait_to(email, count=2)
    stored = subscriber(outreach, stack, email)
    assert stored.status == "pending" and stored.name != "Mallory" and stored.consent_version != "9999-99"

    [mine] = [m for m in emails if "Hello Owner," in plain_text(m)]
    assert confirm_link(link(mine, "/signups/confirm")).status_code == 200
    confirmed = subscriber(outreach, stack, email)
    assert confirmed.status == "confirmed"
    assert (
        confirmed.name,
        confirmed.interests,
        confirmed.consent_version,
        confirmed.consent_source_page,
    ) == (
        "Owner",
        ["peace"],
        "2026-01",
        "https://example.org/owner",
    )
    # The other request's link confirms nothing more: its consent was never given.
    [theirs] = [m for m in emails if "Hello Mallory," in plain_text(m)]
    assert confirm_link(link(theirs, "/signups/confirm")).status_code == 200
    assert subscriber(outreach, stack, email).name == "Owner"


def test_the_request_path_does_the_same_dynamodb_calls_for_any_address(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    """Known or unknown, a signup costs the same calls in the same order (no timing tell)."""
    from chalice.test import Client

    from app import app
    from chalicelib.bootstrap import _dynamodb_client

    confirmed, pending = address(), address()
    for email in (confirmed, pending):
        assert signup(api, form_token, email).status_code == 202
    assert confirm_link(link(mailbox.wait_to(confirmed)[0], "/signups/confirm")).status_code == 200
    mailbox.wait_to(pending)
    assert subscriber(outreach, stack, confirmed).status == "confirmed"

    calls: list[tuple[str, ...]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        keyed = params.get("Key") or params.get("Item") or {}
        prefix = str(keyed.get("pk", {}).get("S", "")).split("#")[0]
        items = [next(iter(i)) for i in params.get("TransactItems", [])]
        expressions = (str(params.get("ConditionExpression")), str(params.get("UpdateExpression")))
        calls.append((model.name, prefix, *expressions, *items))

    client = _dynamodb_client()
    client.meta.events.register("before-parameter-build.dynamodb", record)
    seen: dict[str, list[tuple[str, ...]]] = {}
    try:
        with Client(app) as local:
            for email in (confirmed, pending, address()):
                calls.clear()
                answer = local.http.post(
                    "/signups",
                    headers={"Content-Type": "application/json"},
                    body=json.dumps({"email": email, "form_token": form_token, "name": "Same"}),
                )
                assert answer.status_code == 202
                seen[email] = list(calls)
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", record)
    [first, *rest] = seen.values()
    assert first and all(other == first for other in rest), seen


def test_a_link_sent_before_an_unsubscribe_never_confirms_a_later_signup(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email = address()
    assert signup(api, form_token, email, name="Before", interests=["peace"]).status_code == 202
    first = mailbox.wait_to(email)[0]
    old_link = link(first, "/signups/confirm")
    unsubscribe_url = first["List-Unsubscribe"].strip("<>")
    one_click = requests.post(
        unsubscribe_url,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert one_click.status_code == 200
    assert confirm_link(old_link).status_code == 409

    # Someone signs the address up again: only the new email's link may confirm.
    assert signup(api, form_token, email, name="After").status_code == 202
    second = mailbox.wait_to(email, count=2)[-1]
    assert confirm_link(old_link).status_code == 409
    assert subscriber(outreach, stack, email).status == "pending"
    assert confirm_link(link(second, "/signups/confirm")).status_code == 200
    confirmed = subscriber(outreach, stack, email)
    assert (confirmed.status, confirmed.name, confirmed.interests) == ("confirmed", "After", [])


def test_an_expired_link_says_it_expired_and_confirms_nothing(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    import hashlib

    email = address()
    assert signup(api, form_token, email).status_code == 202
    url = link(mailbox.wait_to(email)[0], "/signups/confirm")
    digest = hashlib.sha256(url.split("token=")[1].encode()).hexdigest()
    # Eight days on: the token is past its 7 days, and DynamoDB's TTL has not removed it yet.
    outreach.client.update_item(
        TableName=outreach.table,
        Key={"pk": {"S": f"CONFIRM#{digest}"}, "sk": {"S": "CONFIRM"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 86400)}},
    )
    answer = confirm_link(url)
    assert answer.status_code == 409, answer.text
    assert "expired" in answer.json()["error"]["message"]
    assert subscriber(outreach, stack, email).status == "pending"
