"""What a careless donor, a hurried clerk or an attacker does to the money flows, against the
local stack: double clicks, races and odd input end in one record, one charge, one email."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.faults import Crashing, ProcessDied
from tests.helpers import Api, Mailbox, give, plain_text
from tests.integration.test_recurring import deliver, monthly, plan, real_charge, renewal
from tests.integration.test_recurring_crashes import started, subscriptions_of
from tests.integration.test_stalls import LAMBDA_TIMEOUT, paused
from tests.stripe_events import charge_refunded, dispute, invoice_failed, invoice_paid, refund_object
from tests.stripe_events import refund as refund_event


def test_confirms_of_a_monthly_gift_at_once_start_one_subscription(
    api: Api, stack: Stack, token: Any
) -> None:
    plan_id = started(api, stack, f"double-click-{time.time_ns()}@example.org")
    answers: list[requests.Response] = []

    def confirm() -> None:
        answers.append(
            requests.post(
                f"{stack.config.api_url}/donations/{plan_id}/confirm",
                data=b"{}",
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        )

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    assert any(a.status_code == 200 and a.json()["status"] == "succeeded" for a in answers)
    subscriptions = subscriptions_of(stack, plan_id)
    assert [s["status"] for s in subscriptions] == ["active"]  # one charge, none unrecorded
    state = api.get(f"/staff/recurring/{plan_id}", token()).json()
    assert state["subscription_id"] == subscriptions[0]["id"]
    assert api.post(f"/donations/{plan_id}/confirm", {}).json()["status"] == "succeeded"


def test_an_installment_declined_in_december_and_paid_in_january_is_on_januarys_statement(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    from chalicelib.bootstrap import get_gift_mail
    from chalicelib.services.statements import send_statements

    email = f"new-year-{time.time_ns()}@example.org"
    plan_id, _ = monthly(api, stack, email)
    state = plan(api, token, plan_id)
    invoice = "in_new_year_" + plan_id
    december = int(datetime(2040, 12, 30, 12, tzinfo=UTC).timestamp())
    january = int(datetime(2041, 1, 3, 12, tzinfo=UTC).timestamp())
    failed = invoice_failed(
        stack.webhook_secret,
        subscription_id=state["subscription_id"],
        invoice_id=invoice,
        recurring_id=plan_id,
        failed_at=december,
        older=True,
    )
    assert deliver(api, failed)["applied"] is True
    assert deliver(api, renewal(stack, state, invoice, january))["applied"] is True
    paid = next(g for g in plan(api, token, plan_id)["installments"] if g["invoice_id"] == invoice)
    assert paid["status"] == "succeeded" and paid["succeeded_at"].startswith("2041-01-03")
    mail = get_gift_mail()
    assert send_statements(2040, repo=repo, mail=mail, email=email).donors == 0  # nothing paid in 2040
    assert send_statements(2041, repo=repo, mail=mail, email=email).sent == 1
    # two receipts (the first installment and January's) and the statement, in any order
    mails = Mailbox(stack).wait_to(email, 3)
    statements = [m for m in mails if "2041 giving statement" in str(m["Subject"])]
    assert len(statements) == 1 and paid["receipt_number"] in plain_text(statements[0])


def test_the_statements_command_runs_and_refuses_a_year_it_cannot_read(stack: Stack) -> None:
    command = str(Path(sys.executable).parent / "steward")
    env = {**os.environ, **stack.app_env()}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, "statements", *args], env=env, capture_output=True, text=True, timeout=120
        )

    done = run("--year", "2039", "--email", f"nobody-{time.time_ns()}@example.org")
    assert done.returncode == 0, done.stderr
    assert "Giving statements 2039" in done.stdout
    for year in ("0", "-1", "99999"):
        refused = run("--year", year)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert "--year" in refused.stderr


def test_a_deeply_nested_body_on_the_card_routes_is_refused_not_a_500(api: Api, stack: Stack) -> None:
    plan_id = started(api, stack, f"nested-{time.time_ns()}@example.org")
    nested = b"[" * 2000 + b"]" * 2000  # under the size cap, past the JSON parser's depth
    for path in (f"/donor/recurring/{plan_id}/card/intent", f"/donor/recurring/{plan_id}/card"):
        answer = api.post(path, raw=nested)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] == "body"


def at_once(count: int, call: Callable[[], requests.Response]) -> list[requests.Response]:
    """The answers to `count` copies of one request sent at the same moment."""
    answers: list[requests.Response] = []
    threads = [threading.Thread(target=lambda: answers.append(call())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def stripe_refunds(stack: Stack, payment_intent_id: str) -> list[dict[str, Any]]:
    listed = requests.get(
        f"{stack.config.stripe_url}/v1/refunds",
        params={"payment_intent": payment_intent_id, "limit": 100},
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()["data"]
    return [r for r in listed if r.get("payment_intent") == payment_intent_id]


def test_a_refund_sent_again_and_again_at_once_refunds_once(api: Api, stack: Stack, token: Any) -> None:
    staff = token()
    for round_ in range(4):  # the race needs two requests between one's lookup and its create
        gift_id, paid = give(api, stack, email=f"double-refund-{time.time_ns()}@example.org")
        assert paid.json()["status"] == "succeeded"
        headers = {
            "Authorization": f"Bearer {staff}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"hurried-{gift_id}",
        }
        answers = at_once(
            8,
            partial(
                requests.post,
                f"{stack.config.api_url}/staff/donations/{gift_id}/refunds",
                data=b'{"reason": "duplicate", "amount": 1000}',
                headers=headers,
                timeout=60,
            ),
        )
        assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
        assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
        gift = api.get(f"/staff/donations/{gift_id}", staff).json()
        at_stripe = stripe_refunds(stack, gift["payment_intent_id"])
        assert [r["amount"] for r in at_stripe] == [1000], (round_, at_stripe)
        assert gift["refunded"] == 1000 and [r["status"] for r in gift["refunds"]] == ["succeeded"]


def test_a_refund_stalled_at_stripe_is_sent_once_by_the_retry(api: Api, stack: Stack, token: Any) -> None:
    staff = token()
    gift_id, _ = give(api, stack, email=f"stalled-refund-{time.time_ns()}@example.org")
    url = f"{stack.config.api_url}/staff/donations/{gift_id}/refunds"
    headers = {
        "Authorization": f"Bearer {staff}",
        "Content-Type": "application/json",
        "Idempotency-Key": "k1",
    }
    body = b'{"reason": "requested_by_customer", "amount": 700}'
    with paused(stack, "localstripe"):
        stalled = requests.post(url, data=body, headers=headers, timeout=LAMBDA_TIMEOUT)
    assert stalled.status_code == 503, stalled.text
    retried = requests.post(url, data=body, headers=headers, timeout=LAMBDA_TIMEOUT)
    assert retried.status_code == 201 and retried.json()["status"] == "succeeded", retried.text
    gift = api.get(f"/staff/donations/{gift_id}", staff).json()
    assert [r["amount"] for r in stripe_refunds(stack, gift["payment_intent_id"])] == [700]
    assert gift["refunded"] == 700


def test_a_monthly_confirm_stalled_at_stripe_starts_one_subscription_on_retry(
    api: Api, stack: Stack, token: Any
) -> None:
    plan_id = started(api, stack, f"stalled-start-{time.time_ns()}@example.org")
    url = f"{stack.config.api_url}/donations/{plan_id}/confirm"
    with paused(stack, "localstripe"):
        stalled = requests.post(url, json={}, timeout=LAMBDA_TIMEOUT)
    assert stalled.status_code == 503, stalled.text
    retried = requests.post(url, json={}, timeout=LAMBDA_TIMEOUT)
    assert retried.status_code == 200 and retried.json()["status"] == "succeeded", retried.text
    subscriptions = subscriptions_of(stack, plan_id)
    assert [s["status"] for s in subscriptions] == ["active"]
    assert api.get(f"/staff/recurring/{plan_id}", token()).json()["subscription_id"] == subscriptions[0]["id"]


def test_a_gift_under_dispute_or_lost_to_one_cannot_be_refunded_on_top(
    api: Api, stack: Stack, token: Any
) -> None:
    staff = token()
    gift_id, _ = give(api, stack, email=f"disputed-{time.time_ns()}@example.org")
    gift = api.get(f"/staff/donations/{gift_id}", staff).json()
    ids = {"charge_id": gift["charge_id"], "payment_intent_id": gift["payment_intent_id"]}
    dispute_id = f"dp_{gift_id}"
    url = f"/staff/donations/{gift_id}/refunds"
    auth = {"Authorization": f"Bearer {staff}"}
    for action in ("created", "closed"):  # open, then lost: the bank has given the money back
        deliver(api, dispute(stack.webhook_secret, action, dispute_id=dispute_id, **ids))
        refused = api.post(url, {"reason": "requested_by_customer"}, headers=auth)
        assert refused.status_code == 409, refused.text
    assert stripe_refunds(stack, gift["payment_intent_id"]) == []
    gift = api.get(f"/staff/donations/{gift_id}", staff).json()
    assert gift["refunded"] == 0 and gift["display_status"] == "dispute_lost"


def test_one_renewal_announced_by_many_events_at_once_is_one_installment(
    api: Api, stack: Stack, token: Any
) -> None:
    email = f"renewal-storm-{time.time_ns()}@example.org"
    plan_id, _ = monthly(api, stack, email)
    state = plan(api, token, plan_id)
    invoice = "in_storm_" + plan_id
    payment, charge = real_charge(stack)
    when = int(time.time()) + 30 * 86400
    events = [
        invoice_paid(
            stack.webhook_secret,
            subscription_id=state["subscription_id"],
            invoice_id=invoice,
            customer_id=state["customer_id"],
            recurring_id=plan_id,
            paid_at=when,
            period_start=when,
            period_end=when + 30 * 86400,
            payment_intent_id=payment,
            charge_id=charge,
            older=True,
        )
        for _ in range(6)  # Stripe's retries and its sibling events: six ids, one invoice
    ]
    answers = []
    threads = [
        threading.Thread(
            target=lambda signed=signed: answers.append(
                requests.post(
                    f"{stack.config.api_url}/webhooks/stripe",
                    data=signed.payload,
                    headers={"Content-Type": "application/json", **signed.headers},
                    timeout=60,
                )
            )
        )
        for signed in events * 2  # and each one twice
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.status_code in (200, 409, 503) for a in answers), [a.text for a in answers]
    for signed in events:  # what Stripe retries after a non-2xx answer
        deliver(api, signed)
    installments = [g for g in plan(api, token, plan_id)["installments"] if g["invoice_id"] == invoice]
    assert len(installments) == 1 and installments[0]["status"] == "succeeded"
    Mailbox(stack).wait_to(email, 2)  # the first gift's receipt and this installment's
    time.sleep(1.5)
    assert len(Mailbox(stack).to(email)) == 2


def test_refunds_made_at_stripe_total_the_same_under_any_order_and_duplicates(
    api: Api, stack: Stack, token: Any
) -> None:
    staff = token()
    gift_id, _ = give(api, stack, email=f"dashboard-refunds-{time.time_ns()}@example.org")
    gift = api.get(f"/staff/donations/{gift_id}", staff).json()
    ids = {"charge_id": gift["charge_id"], "payment_intent_id": gift["payment_intent_id"]}
    first, second = f"re_a_{gift_id}", f"re_b_{gift_id}"
    secret = stack.webhook_secret
    now = int(time.time())
    events = [
        refund_event(secret, refund_id=first, amount=1000, status="pending", created=now, **ids),
        refund_event(secret, refund_id=first, amount=1000, event_type="refund.updated", created=now, **ids),
        refund_event(secret, refund_id=second, amount=500, created=now + 1, **ids),
        charge_refunded(
            secret,
            amount_refunded=1500,
            older=True,
            refunds=[
                refund_object(refund_id=first, amount=1000, created=now, older=True, **ids),
                refund_object(refund_id=second, amount=500, created=now + 1, older=True, **ids),
            ],
            **ids,
        ),
    ]
    for signed in [*reversed(events), *events, *reversed(events)]:
        deliver(api, signed)
    gift = api.get(f"/staff/donations/{gift_id}", staff).json()
    assert gift["refunded"] == 1500 and gift["display_status"] == "partially_refunded"
    assert sorted((r["stripe_refund_id"], r["amount"], r["status"]) for r in gift["refunds"]) == [
        (first, 1000, "succeeded"),
        (second, 500, "succeeded"),
    ]
    too_much = api.post(
        f"/staff/donations/{gift_id}/refunds",
        {"reason": "other", "amount": 1001},
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert too_much.status_code == 409, too_much.text  # 1000 is left


def test_a_refund_whose_process_died_after_stripe_took_it_is_recorded_once_later(
    api: Api, stack: Stack, token: Any, repo: Repository, payments: Payments
) -> None:
    from chalicelib.bootstrap import get_gift_mail
    from chalicelib.domain.gift_requests import RefundRequest
    from chalicelib.services.clock import seconds_after, utc_now
    from chalicelib.services.donations import Money
    from chalicelib.services.refunds import RESUME_AFTER_SECONDS, refund_gift

    gift_id, _ = give(api, stack, email=f"refund-crash-{time.time_ns()}@example.org")
    request = RefundRequest(amount=600, reason="requested_by_customer")
    dying = Money(repo, Crashing(payments, "create_refund", 1, after=True), get_gift_mail())
    with pytest.raises(ProcessDied):
        refund_gift(gift_id, request, "clerk", "key-1", dying)
    soon = api.post(
        f"/staff/donations/{gift_id}/refunds",
        {"amount": 600, "reason": "requested_by_customer"},
        headers={"Authorization": f"Bearer {token()}", "Idempotency-Key": "key-1"},
    )
    assert soon.status_code == 409, soon.text  # it may still be on its way to Stripe
    later = Money(repo, payments, get_gift_mail(), lambda: seconds_after(utc_now(), RESUME_AFTER_SECONDS + 1))
    assert refund_gift(gift_id, request, "clerk", "key-1", later).status == "succeeded"
    gift = api.get(f"/staff/donations/{gift_id}", token()).json()
    assert [r["amount"] for r in stripe_refunds(stack, gift["payment_intent_id"])] == [600]
    assert gift["refunded"] == 600 and [r["status"] for r in gift["refunds"]] == ["succeeded"]
