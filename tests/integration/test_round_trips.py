"""DynamoDB round trips per request (issue 10): counted with botocore's `before-send` on the
app's own client, as bench/warm_latency.py counts them, so retries would count too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from devstack.stack import Stack


@pytest.fixture
def sends(stack: Stack) -> Iterator[list[str]]:
    """The HTTP requests the app's DynamoDB client sends while the test runs."""
    from chalicelib.bootstrap import _dynamodb_client

    sent: list[str] = []

    def count(request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        sent.append(target.decode() if isinstance(target, bytes) else str(target))

    events = _dynamodb_client().meta.events
    events.register("before-send.dynamodb", count, unique_id="test-round-trips")
    yield sent
    events.unregister("before-send.dynamodb", unique_id="test-round-trips")


def post(path: str, body: dict[str, Any]) -> int:
    from app import app

    with Client(app) as client:
        answer = client.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    return answer.status_code


def test_contact_is_one_round_trip(sends: list[str], form_token: str) -> None:
    body = {
        "name": "Amara Okafor",
        "email": f"trips-{uuid.uuid4().hex[:10]}@example.org",
        "topic": "health-programs",
        "subject": "Clinics",
        "message": "Where are your clinics?",
        "form_token": form_token,
    }
    assert post("/contact", body) == 202
    assert len(sends) == 1, sends


def test_signup_is_at_most_two_round_trips(sends: list[str], form_token: str) -> None:
    body = {"email": f"trips-{uuid.uuid4().hex[:10]}@example.org", "form_token": form_token}
    assert post("/signups", body) == 202
    assert len(sends) <= 2, sends


# The counts ride in the record's own transaction; the guarantees stay as they were.


def rules_of_two() -> Any:
    from chalicelib.bootstrap import get_settings
    from chalicelib.services.forms import FormRules

    return FormRules(get_settings().keys, time_trap_seconds=2, window_seconds=3600, limit_ip=5, limit_email=2)


def ip_hits(outreach: Any, scope: str, ip: str) -> int:
    from chalicelib.domain.tokens import hash_ip
    from chalicelib.services.forms import _window, now_ms

    rules = rules_of_two()
    window, _, _ = _window(now_ms(), rules.window_seconds)
    return int(outreach.rate_hits(f"{scope}-ip", hash_ip(rules.keys, ip), window))


def fake_ip() -> str:
    return f"2001:db8:77:{uuid.uuid4().hex[:4]}::9"


def contact_form(form_token: str, email: str, text: str) -> Any:
    from chalicelib.domain.outreach_forms import ContactForm

    body = {"name": "Lin", "email": email, "topic": "media", "subject": "Hi", "message": text}
    return ContactForm(**{**body, "form_token": form_token})


def send_contact(outreach: Any, request: Any, ip: str) -> str:
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain.errors import RateLimitedError
    from chalicelib.services.contact import submit_contact

    topics = {t.id: t for t in get_settings().topics}
    try:
        submit_contact(request, ip, repo=outreach, rules=rules_of_two(), topics=topics)
    except RateLimitedError:
        return "429"
    return "ok"


def stored_for(outreach: Any, email: str) -> int:
    return sum(m.email == email for m in outreach.list_contacts("media", "new", 500, None).items)


def test_a_replayed_contact_form_is_stored_once_and_counted_each_time(outreach: Any, form_token: str) -> None:
    email, ip = f"replay-{uuid.uuid4().hex[:10]}@example.org", fake_ip()
    form = contact_form(form_token, email, "Hello")
    assert [send_contact(outreach, form, ip) for _ in range(3)] == ["ok", "ok", "429"]
    assert stored_for(outreach, email) == 1
    assert ip_hits(outreach, "contact", ip) == 2  # the replay counted; the refused one did not


def test_a_contact_form_over_the_address_limit_writes_nothing(outreach: Any, form_token: str) -> None:
    email, last_ip = f"full-{uuid.uuid4().hex[:10]}@example.org", fake_ip()
    sent = [send_contact(outreach, contact_form(form_token, email, f"n{n}"), fake_ip()) for n in range(2)]
    assert sent == ["ok", "ok"]
    assert send_contact(outreach, contact_form(form_token, email, "third"), last_ip) == "429"
    assert stored_for(outreach, email) == 2
    assert ip_hits(outreach, "contact", last_ip) == 0  # not even the IP's count was taken


def test_a_signup_over_the_address_limit_writes_nothing(outreach: Any, form_token: str) -> None:
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain.errors import RateLimitedError
    from chalicelib.domain.outreach_forms import SignupForm
    from chalicelib.services.signups import SignupRules, subscribe

    rules = SignupRules(rules_of_two(), get_settings().public_url, 3)
    email, last_ip = f"full-{uuid.uuid4().hex[:10]}@example.org", fake_ip()
    form = SignupForm(**{"email": email, "form_token": form_token})
    for _ in range(2):
        subscribe(form, fake_ip(), repo=outreach, rules=rules)
    with pytest.raises(RateLimitedError) as refused:
        subscribe(form, last_ip, repo=outreach, rules=rules)
    assert refused.value.retry_after > 0
    assert ip_hits(outreach, "signup", last_ip) == 0


def webhook(client: Client, payload: bytes, secret: str) -> dict[str, Any]:
    from tests.helpers import sign

    headers = {"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"}
    answer = client.http.post("/webhooks/stripe", body=payload, headers=headers)
    assert answer.status_code == 200, answer.body
    return dict(json.loads(answer.body))


def test_a_payment_event_is_two_round_trips(sends: list[str], stack: Stack) -> None:
    """One read of the gift, then one transaction that applies the fact and stores the event
    (a failure: no Stripe fetch). Issue 10's target: at most 2. Delivered again, it is the
    same read and a write that its condition refuses: a duplicate, nothing changed."""
    from app import app
    from tests.helpers import GIFT, event

    with Client(app) as client:
        created = client.http.post(
            "/donations", body=json.dumps(GIFT), headers={"Content-Type": "application/json"}
        )
        assert created.status_code == 201, created.body
        donation_id = json.loads(created.body)["donation_id"]
        failed = {
            "id": f"pi_trips_{uuid.uuid4().hex[:12]}",
            "object": "payment_intent",
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
            "metadata": {"donation_id": donation_id},
        }
        payload = event("payment_intent.payment_failed", failed)
        sends.clear()
        assert webhook(client, payload, stack.webhook_secret)["applied"] is True
        assert sends == ["DynamoDB_20120810.Query", "DynamoDB_20120810.TransactWriteItems"]
        sends.clear()
        assert webhook(client, payload, stack.webhook_secret) == {"received": True, "duplicate": True}
        assert sends == ["DynamoDB_20120810.Query", "DynamoDB_20120810.UpdateItem"]


def test_an_ignored_event_is_one_round_trip(sends: list[str], stack: Stack) -> None:
    """A type Steward does not act on: stored processed, with why, in one write."""
    from app import app
    from tests.helpers import event

    payload = event("customer.created", {"id": f"cus_trips_{uuid.uuid4().hex[:12]}", "object": "customer"})
    with Client(app) as client:
        assert webhook(client, payload, stack.webhook_secret)["applied"] is False
    assert sends == ["DynamoDB_20120810.UpdateItem"]


def test_an_event_of_a_refund_steward_made_is_two_round_trips(
    sends: list[str], stack: Stack, api: Any, repo: Any
) -> None:
    """A refund Steward made names its gift and its own refund id in metadata: one read of the
    gift, one transaction, and no read of its `STRIPE#` link. A refund made at Stripe names
    neither and still reads the link first."""
    from app import app
    from chalicelib.domain.ids import new_id
    from tests.helpers import give
    from tests.stripe_events import refund

    donation_id, answer = give(api, stack)
    assert answer.status_code == 200, answer.text
    gift = repo.get_donation(donation_id)
    ours = {"donation_id": donation_id, "refund_id": new_id()}
    re_id = f"re_trips_{uuid.uuid4().hex[:12]}"
    paid = {"charge_id": gift.charge_id, "payment_intent_id": gift.payment_intent_id}
    made = refund(stack.webhook_secret, refund_id=re_id, amount=500, metadata=ours, status="pending", **paid)
    done = refund(
        stack.webhook_secret, refund_id=re_id, amount=500, metadata=ours, event_type="refund.updated", **paid
    )
    at_stripe = refund(stack.webhook_secret, amount=300, **paid)
    with Client(app) as client:
        sends.clear()
        assert webhook(client, made.payload, stack.webhook_secret)["applied"] is True
        assert sends == ["DynamoDB_20120810.Query", "DynamoDB_20120810.TransactWriteItems"]
        sends.clear()
        assert webhook(client, done.payload, stack.webhook_secret)["applied"] is True
        assert sends == ["DynamoDB_20120810.Query", "DynamoDB_20120810.TransactWriteItems"]
        sends.clear()
        assert webhook(client, at_stripe.payload, stack.webhook_secret)["applied"] is True
        # the refund's link, then its payment's (the refund names no gift), the gift, the write
        assert sends[:2] == ["DynamoDB_20120810.GetItem"] * 2 and len(sends) == 4, sends
    record = repo.get_gift(donation_id)
    by_id = {r.id: r for r in record.refunds}
    assert (
        by_id[ours["refund_id"]].status == "succeeded" and by_id[ours["refund_id"]].stripe_refund_id == re_id
    )
    assert record.donation.refunded == 800


def test_a_refund_naming_a_gift_it_was_not_taken_from_reads_its_link(
    sends: list[str], stack: Stack, api: Any, repo: Any
) -> None:
    """Metadata that names a gift whose payment is not the refund's does not skip the link."""
    from app import app
    from chalicelib.domain.ids import new_id
    from tests.helpers import give
    from tests.stripe_events import refund

    first, _ = give(api, stack)
    second, _ = give(api, stack)
    gift = repo.get_donation(first)
    paid = {"charge_id": gift.charge_id, "payment_intent_id": gift.payment_intent_id}
    named = refund(
        stack.webhook_secret, amount=400, metadata={"donation_id": second, "refund_id": new_id()}, **paid
    )
    with Client(app) as client:
        sends.clear()
        webhook(client, named.payload, stack.webhook_secret)
    assert "DynamoDB_20120810.GetItem" in sends, sends
