"""The Stripe gateway's recurring, refund and settlement calls, against localstripe."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from chalicelib.adapters.stripe_facts import read_event
from chalicelib.domain.errors import ConflictError, NotFoundError
from chalicelib.domain.ids import new_id
from chalicelib.services.facts import InvoicePaid, SubscriptionChanged
from chalicelib.services.ports import Payments, SubscriptionInfo
from devstack.stack import Stack
from tests import stripe_events
from tests.helpers import CARD_DECLINED_AT_CHARGE, CARD_OK, confirm_card_setup, wait_for
from tests.unit.factories import donation


def _saved_card(stack: Stack, payments: Payments, customer_id: str, card: str = CARD_OK) -> str:
    """A card saved for the customer the way Stripe.js does it: confirmCardSetup."""
    gift = donation(amount=2500)
    setup = payments.create_setup_intent(gift, customer_id)
    answer = confirm_card_setup(stack, setup.client_secret, card)
    assert answer.status_code == 200, answer.text
    saved = payments.retrieve_setup_intent(setup.id)
    assert saved.status == "succeeded" and saved.payment_method
    return saved.payment_method


def _monthly(stack: Stack, payments: Payments, card: str = CARD_OK, amount: int = 2500) -> SubscriptionInfo:
    recurring_id = new_id()
    customer = payments.create_customer(recurring_id, "monthly@example.org", "Ada Lovelace")
    method = _saved_card(stack, payments, customer, card)
    return payments.create_subscription(
        recurring_id,
        customer,
        method,
        amount,
        "usd",
        "month",
        {"recurring_id": recurring_id, "fund": "general"},
    )


def test_a_monthly_subscription_pays_its_first_invoice_and_settles(stack: Stack, payments: Payments) -> None:
    plan = _monthly(stack, payments)
    assert plan.id.startswith("sub_") and plan.customer_id.startswith("cus_")
    assert plan.status == "active" and plan.invoice_paid
    assert plan.latest_invoice_id and plan.latest_invoice_id.startswith("in_")
    assert plan.current_period_end is not None and plan.current_period_end.endswith("Z")
    assert plan.failure_reason is None and plan.client_secret is None
    assert plan.payment_id and plan.payment_id.startswith("pi_")
    assert plan.charge_id and plan.charge_id.startswith("ch_")
    assert payments.invoice_payment(plan.latest_invoice_id) == (plan.payment_id, plan.charge_id)
    settled = payments.settlement(plan.charge_id)
    assert settled is not None and settled.currency == "usd"
    assert settled.fee >= 0 and settled.fee + settled.net == 2500
    assert payments.retrieve_subscription(plan.id) == plan


def test_the_same_recurring_gift_makes_one_customer_and_one_subscription(
    stack: Stack, payments: Payments
) -> None:
    recurring_id = new_id()
    customer = payments.create_customer(recurring_id, "once@example.org", "Ada Lovelace")
    assert payments.create_customer(recurring_id, "once@example.org", "Ada Lovelace") == customer
    method = _saved_card(stack, payments, customer)
    metadata = {"recurring_id": recurring_id}
    first = payments.create_subscription(recurring_id, customer, method, 1500, "usd", "year", metadata)
    again = payments.create_subscription(recurring_id, customer, method, 1500, "usd", "year", metadata)
    assert again.id == first.id and again.invoice_paid  # a retried request charges once


def test_cancel_is_immediate_and_idempotent(stack: Stack, payments: Payments) -> None:
    plan = _monthly(stack, payments)
    canceled = payments.cancel_subscription(plan.id)
    assert canceled.id == plan.id and canceled.status == "canceled"
    assert payments.cancel_subscription(plan.id).status == "canceled"
    assert payments.retrieve_subscription(plan.id).status == "canceled"
    with pytest.raises(NotFoundError):
        payments.retrieve_subscription("sub_never_made")


def test_a_declined_first_installment(stack: Stack, payments: Payments) -> None:
    plan = _monthly(stack, payments, card=CARD_DECLINED_AT_CHARGE)
    assert plan.status == "incomplete" and not plan.invoice_paid
    assert plan.failure_reason == "Your card was declined."
    assert plan.payment_id and plan.payment_id.startswith("pi_")
    assert plan.client_secret is None  # declined, not waiting for 3-D Secure
    # the donor saves another card: it becomes the default for the next attempt
    method = _saved_card(stack, payments, plan.customer_id)
    payments.set_default_payment_method(plan.id, plan.customer_id, method)
    assert _default_method(stack, plan.customer_id) == method


def _default_method(stack: Stack, customer_id: str) -> Any:
    import stripe

    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    customer = client.v1.customers.retrieve(customer_id).to_dict()
    return customer["invoice_settings"]["default_payment_method"]


def test_a_card_update_intent_saves_a_card_for_the_customer(stack: Stack, payments: Payments) -> None:
    plan = _monthly(stack, payments)
    update = payments.create_card_update_intent(new_id(), plan.customer_id)
    assert update.id.startswith("seti_") and update.status == "requires_payment_method"
    assert confirm_card_setup(stack, update.client_secret, CARD_OK).status_code == 200
    saved = payments.retrieve_setup_intent(update.id)
    assert saved.status == "succeeded" and saved.payment_method
    payments.set_default_payment_method(plan.id, plan.customer_id, saved.payment_method)
    assert _default_method(stack, plan.customer_id) == saved.payment_method


def test_refunds_partial_then_the_rest_then_none(stack: Stack, payments: Payments) -> None:
    plan = _monthly(stack, payments, amount=3000)
    assert plan.payment_id
    gift_id = new_id()
    first_id, rest_id = new_id(), new_id()
    first = payments.create_refund(
        first_id, plan.payment_id, 1000, "requested_by_customer", {"donation_id": gift_id}
    )
    assert first.id.startswith("re_") and first.amount == 1000 and first.currency == "usd"
    assert first.status == "succeeded" and first.failure_reason is None
    # the same refund asked for twice (a retried request) is one refund
    assert payments.create_refund(first_id, plan.payment_id, 1000, "requested_by_customer", {}) == first
    rest = payments.create_refund(rest_id, plan.payment_id, 2000, "other", {"donation_id": gift_id})
    assert rest.id != first.id and rest.amount == 2000
    with pytest.raises(ConflictError):
        payments.create_refund(new_id(), plan.payment_id, 1, "duplicate", {})
    assert plan.charge_id
    refunded = _refunds_of(stack, plan.charge_id)
    assert sorted(r["amount"] for r in refunded) == [1000, 2000]
    reasons = {r["metadata"]["refund_id"]: r.get("reason") for r in refunded}
    assert reasons == {first_id: "requested_by_customer", rest_id: None}  # "other" sends no reason


def test_a_refund_beyond_what_is_left_is_refused(stack: Stack, payments: Payments) -> None:
    plan = _monthly(stack, payments)
    assert plan.payment_id
    with pytest.raises(ConflictError):
        payments.create_refund(new_id(), plan.payment_id, 2501, "fraudulent", {})
    assert payments.create_refund(new_id(), plan.payment_id, 2500, "fraudulent", {}).amount == 2500


def _refunds_of(stack: Stack, charge_id: str) -> list[dict[str, Any]]:
    import stripe

    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    return [r.to_dict() for r in client.v1.refunds.list({"charge": charge_id}).data]


def _events_about(stack: Stack, object_ids: set[str]) -> list[dict[str, Any]]:
    """localstripe lists events oldest first and pages after filtering: ask per type."""
    found = []
    for event_type in ("invoice.payment_succeeded", "customer.subscription.created"):
        listing = requests.get(
            f"{stack.config.stripe_url}/v1/events",
            params={"type": event_type, "limit": 10000},
            auth=("sk_test_steward_local", ""),
            timeout=10,
        ).json()["data"]
        found += [e for e in listing if e["data"]["object"].get("id") in object_ids]
    return found


def test_the_events_localstripe_sends_for_a_subscription_read_as_facts(
    stack: Stack, payments: Payments
) -> None:
    plan = _monthly(stack, payments)
    assert plan.latest_invoice_id
    sent = wait_for(
        lambda: (
            (found := _events_about(stack, {plan.id, plan.latest_invoice_id}))
            and {"invoice.payment_succeeded", "customer.subscription.created"} <= {e["type"] for e in found}
            and found
        )
    )
    facts = {e["type"]: read_event(e, json.dumps(e)).fact for e in sent}
    paid = facts["invoice.payment_succeeded"]
    assert isinstance(paid, InvoicePaid)
    assert (paid.invoice_id, paid.subscription_id) == (plan.latest_invoice_id, plan.id)
    assert (paid.payment_id, paid.charge_id) == (plan.payment_id, plan.charge_id)
    assert paid.amount == 2500 and paid.currency == "usd" and paid.period_end == plan.current_period_end
    assert paid.recurring_id is not None  # the invoice's snapshot of the subscription's metadata
    created = facts["customer.subscription.created"]
    assert isinstance(created, SubscriptionChanged) and created.subscription_id == plan.id
    assert created.recurring_id is not None and created.current_period_end == plan.current_period_end


@pytest.mark.parametrize("older", [False, True])
def test_the_signed_event_builders_verify_at_the_webhook_endpoint(stack: Stack, older: bool) -> None:
    secret = stack.webhook_secret
    built = [
        stripe_events.invoice_paid(secret, subscription_id="sub_builder", older=older),
        stripe_events.invoice_failed(secret, subscription_id="sub_builder", older=older),
        stripe_events.subscription_changed(secret, subscription_id="sub_builder", deleted=True, older=older),
        stripe_events.refund(secret, charge_id="ch_builder", older=older),
        stripe_events.charge_refunded(secret, charge_id="ch_builder", older=older),
        stripe_events.charge_updated(secret, charge_id="ch_builder", older=older),
        stripe_events.dispute(secret, "updated", charge_id="ch_builder", older=older),
    ]
    for signed in built:
        answer = requests.post(
            f"{stack.config.api_url}/webhooks/stripe",
            data=signed.payload,
            headers={"Content-Type": "application/json", **signed.headers},
            timeout=30,
        )
        assert answer.status_code == 200, (signed.type, answer.text)
        assert answer.json()["received"] is True
