"""Monthly gifts against the local stack: the plan, its installments and receipts, a failed
installment, and the donor's cancel link. localstripe bills only the first cycle; later ones
are real charges at localstripe announced by invoice events signed as Stripe signs them."""

from __future__ import annotations

import time
from typing import Any

import requests
import stripe

from devstack.stack import Stack
from tests.helpers import CARD_OK, GIFT, Api, Mailbox, confirm_card_setup, link, plain_text, wait_for
from tests.stripe_events import Signed, invoice_failed, invoice_paid


def monthly(
    api: Api, stack: Stack, email: str, amount: int = 2500, **extra: Any
) -> tuple[str, dict[str, Any]]:
    """Start a monthly gift as the donate page does; returns (plan id, confirm answer)."""
    body = {**GIFT, "amount": amount, "email": email, "frequency": "monthly", **extra}
    created = api.post("/donations", body)
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    assert secret.startswith("seti_")
    assert confirm_card_setup(stack, secret, CARD_OK).status_code == 200
    donation_id = created.json()["donation_id"]
    confirmed = api.post(f"/donations/{donation_id}/confirm", {})
    assert confirmed.status_code == 200, confirmed.text
    return donation_id, confirmed.json()


def plan(api: Api, token: Any, plan_id: str) -> dict[str, Any]:
    answer = api.get(f"/staff/recurring/{plan_id}", token())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def deliver(api: Api, signed: Signed) -> dict[str, Any]:
    answer = api.post("/webhooks/stripe", raw=signed.payload, headers=signed.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def real_charge(stack: Stack, amount: int = 2500) -> tuple[str, str]:
    """A PaymentIntent paid at localstripe, as Stripe makes for a renewal; (pi, ch)."""
    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    card = {"number": CARD_OK, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})  # type: ignore[typeddict-item]
    intent = client.v1.payment_intents.create(
        {"amount": amount, "currency": "usd", "payment_method": method.id, "payment_method_types": ["card"]}
    )
    paid = client.v1.payment_intents.confirm(intent.id).to_dict()
    charge = paid["latest_charge"]
    return intent.id, charge["id"] if isinstance(charge, dict) else charge


def renewal(stack: Stack, state: dict[str, Any], invoice_id: str, when: int) -> Signed:
    payment, charge = real_charge(stack)
    return invoice_paid(
        stack.webhook_secret,
        subscription_id=state["subscription_id"],
        invoice_id=invoice_id,
        customer_id=state["customer_id"],
        recurring_id=state["id"],
        paid_at=when,
        period_start=when,
        period_end=when + 30 * 86400,
        payment_intent_id=payment,
        charge_id=charge,
        older=True,
    )


def test_a_monthly_gift_over_three_cycles_gives_three_gifts_and_three_receipts(
    api: Api, stack: Stack, token: Any
) -> None:
    email = f"monthly-{time.time_ns()}@example.org"
    plan_id, first = monthly(api, stack, email)
    assert first["status"] == "succeeded"
    state = plan(api, token, plan_id)
    assert state["status"] == "active" and state["frequency"] == "monthly"
    assert state["subscription_id"].startswith("sub_") and state["next_payment_at"]
    assert [g["id"] for g in state["installments"]] == [plan_id]
    now = int(time.time())
    for cycle, invoice in enumerate(("in_cycle_two_" + plan_id, "in_cycle_three_" + plan_id), start=1):
        signed = renewal(stack, state, invoice, now + cycle * 30 * 86400)
        assert deliver(api, signed)["applied"] is True
        assert deliver(api, signed)["duplicate"] is True  # the same event again changes nothing
    state = plan(api, token, plan_id)
    gifts = state["installments"]
    assert len(gifts) == 3 and {g["status"] for g in gifts} == {"succeeded"}
    assert {g["recurring_id"] for g in gifts} == {plan_id}
    assert len({g["invoice_id"] for g in gifts}) == 3 and len({g["receipt_number"] for g in gifts}) == 3
    assert all(g["fee"] is not None and g["net"] is not None for g in gifts)
    receipts = Mailbox(stack).wait_to(email, 3)
    assert len(receipts) == 3
    assert all("Monthly" in plain_text(m) for m in receipts)
    numbers = {g["receipt_number"] for g in gifts}
    assert {n for n in numbers if any(n in plain_text(m) for m in receipts)} == numbers


def test_a_failed_installment_makes_the_plan_past_due_and_a_later_success_active(
    api: Api, stack: Stack, token: Any
) -> None:
    plan_id, _ = monthly(api, stack, f"past-due-{time.time_ns()}@example.org")
    state = plan(api, token, plan_id)
    invoice = "in_retried_" + plan_id
    failed = invoice_failed(
        stack.webhook_secret,
        subscription_id=state["subscription_id"],
        invoice_id=invoice,
        recurring_id=plan_id,
        older=True,
    )
    assert deliver(api, failed)["applied"] is True
    state = plan(api, token, plan_id)
    assert state["status"] == "past_due"
    missed = [g for g in state["installments"] if g["invoice_id"] == invoice]
    assert len(missed) == 1 and missed[0]["status"] == "failed" and missed[0]["failure_reason"]
    assert deliver(api, renewal(stack, state, invoice, int(time.time()) + 86400))["applied"] is True
    state = plan(api, token, plan_id)
    assert state["status"] == "active"
    retried = [g for g in state["installments"] if g["invoice_id"] == invoice]
    assert len(retried) == 1 and retried[0]["status"] == "succeeded"  # the same gift, now paid


def test_cancelling_from_the_donor_link_ends_the_subscription_and_confirms_by_email(
    api: Api, stack: Stack, token: Any
) -> None:
    email = f"cancel-{time.time_ns()}@example.org"
    plan_id, _ = monthly(api, stack, email)
    receipt = Mailbox(stack).wait_to(email)[0]
    cancel_url = link(receipt, f"/donor/recurring/{plan_id}/cancel")
    page = requests.get(cancel_url, timeout=10)
    assert page.status_code == 200 and "Cancel my monthly gift" in page.text
    assert plan(api, token, plan_id)["status"] == "active"  # a GET changes nothing
    token_value = cancel_url.split("token=", 1)[1]
    tampered = token_value[:-2] + ("AA" if not token_value.endswith("AA") else "BB")
    refused = requests.post(cancel_url.split("?")[0], data={"token": tampered, "cancel": "yes"}, timeout=10)
    assert refused.status_code == 403
    assert plan(api, token, plan_id)["status"] == "active"
    done = requests.post(cancel_url, data={"cancel": "yes"}, timeout=30)
    assert done.status_code == 200, done.text
    state = plan(api, token, plan_id)
    assert state["status"] == "canceled" and state["canceled_at"]
    at_stripe = requests.get(
        f"{stack.config.stripe_url}/v1/subscriptions/{state['subscription_id']}",
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()
    assert at_stripe["status"] == "canceled"
    mails = Mailbox(stack).wait_to(email, 2)
    assert any("cancel" in str(m["Subject"]).lower() for m in mails)
    again = requests.post(cancel_url, data={"cancel": "yes"}, timeout=30)  # twice: nothing more
    assert again.status_code == 200
    time.sleep(1)
    assert len(Mailbox(stack).to(email)) == 2
    wait_for(lambda: plan(api, token, plan_id)["status"] == "canceled")
