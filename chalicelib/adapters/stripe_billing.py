"""Stripe Customers, Subscriptions and Refunds for the gateway (chalicelib/adapters/stripe_gateway.py).

Idempotency keys derive from Steward's own ids, and each create first looks for the object
it made before (by the id in its metadata), so a retry after Stripe's 24-hour key window,
or against localstripe (which ignores Idempotency-Key), still makes one object.
Calls are those production makes on the pinned API version; where localstripe lacks one, a
narrow fallback says why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import stripe

from chalicelib.domain.errors import ConflictError, NotFoundError, UpstreamError
from chalicelib.services.ports import RefundInfo, SubscriptionInfo

ENDED = {"canceled", "incomplete_expired"}
# Stripe takes these refund reasons; Steward's "other" is sent without one.
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
PRODUCT_NAME = "Recurring gift"


def plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return data


def call(method: Any, *args: Any) -> Any:
    try:
        return method(*args)
    except stripe.StripeError as exc:
        raise UpstreamError("the payment service did not answer; retry") from exc


def call_raw(method: Any, params: dict[str, Any], idempotency_key: str) -> Any:
    """A create call with parameters built as a plain dict; Stripe's errors pass through."""
    return method(params, {"idempotency_key": idempotency_key})


def iso(seconds: Any) -> str | None:
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


class Billing:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    # Customers and cards

    def create_customer(self, recurring_id: str, email: str, name: str) -> str:
        listed = call(self._client.v1.customers.list, {"email": email, "limit": 100})
        for customer in listed.data:
            if plain(customer).get("metadata", {}).get("recurring_id") == recurring_id:
                return str(customer.id)
        created = call(
            self._client.v1.customers.create,
            {"email": email, "name": name, "metadata": {"recurring_id": recurring_id}},
            {"idempotency_key": f"steward-customer-{recurring_id}"},
        )
        return str(created.id)

    def use_card(self, customer_id: str, payment_method: str) -> None:
        """Make the card the customer's default for invoices (which every subscription of the
        customer charges). A localstripe Subscription refuses `default_payment_method`, and
        real Stripe honours the customer's default just the same."""
        method = plain(call(self._client.v1.payment_methods.retrieve, payment_method))
        if id_of(method.get("customer")) != customer_id:
            # Stripe attaches the card when a SetupIntent with a customer succeeds;
            # localstripe does not, so attach it here (at Stripe this is never reached).
            call(self._client.v1.payment_methods.attach, payment_method, {"customer": customer_id})
        call(
            self._client.v1.customers.update,
            customer_id,
            {"invoice_settings": {"default_payment_method": payment_method}},
        )

    # Subscriptions

    def create_subscription(
        self,
        recurring_id: str,
        customer_id: str,
        payment_method: str,
        amount: int,
        currency: str,
        interval: Literal["month", "year"],
        metadata: dict[str, str],
    ) -> SubscriptionInfo:
        existing = self._subscription_of(customer_id, recurring_id)
        if existing is not None:
            return self._info(existing)
        self.use_card(customer_id, payment_method)
        plan_id = self._plan(amount, currency.lower(), interval)
        created = call(
            self._client.v1.subscriptions.create,
            {
                "customer": customer_id,
                "items": [{"plan": plan_id}],
                "metadata": {**metadata, "recurring_id": recurring_id},
                "payment_behavior": "allow_incomplete",
            },
            {"idempotency_key": f"steward-subscription-{recurring_id}"},
        )
        return self._info(plain(created))

    def find_subscription(self, customer_id: str, recurring_id: str) -> SubscriptionInfo | None:
        found = self._subscription_of(customer_id, recurring_id)
        return None if found is None else self._info(found)

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionInfo:
        try:
            found = self._client.v1.subscriptions.retrieve(subscription_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise NotFoundError("Stripe has no such subscription") from exc
            raise UpstreamError("the payment service did not answer; retry") from exc
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
        return self._info(plain(found))

    def cancel_subscription(self, subscription_id: str) -> SubscriptionInfo:
        try:
            canceled = self._client.v1.subscriptions.cancel(
                subscription_id, None, {"idempotency_key": f"steward-cancel-{subscription_id}"}
            )
        except stripe.InvalidRequestError as exc:  # canceled already, or no such subscription
            current = self.retrieve_subscription(subscription_id)
            if current.status not in ENDED:
                raise UpstreamError("the payment service refused the cancellation; retry") from exc
            return current
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
        return self._info(plain(canceled))

    def invoice_payment(self, invoice_id: str) -> tuple[str | None, str | None]:
        """The PaymentIntent and Charge that paid the invoice, else its latest attempt."""
        intent, charge_id = self._invoice_intent(invoice_id)
        return (id_of(intent), charge_id) if intent else (None, charge_id)

    def _invoice_intent(self, invoice_id: str) -> tuple[dict[str, Any] | None, str | None]:
        listed = call(self._client.v1.invoice_payments.list, {"invoice": invoice_id, "limit": 10})
        payments = [plain(item) for item in listed.data]
        payments.sort(key=lambda item: (item.get("status") == "paid", item.get("created") or 0), reverse=True)
        for item in payments:
            payment = item.get("payment") or {}
            intent_id = id_of(payment.get("payment_intent"))
            if intent_id:
                intent = plain(call(self._client.v1.payment_intents.retrieve, intent_id))
                return intent, id_of(intent.get("latest_charge"))
            if id_of(payment.get("charge")):
                return None, id_of(payment.get("charge"))
        # None listed: an invoice read in an older API version may still name them itself.
        invoice = plain(call(self._client.v1.invoices.retrieve, invoice_id))
        intent_id = id_of(invoice.get("payment_intent"))
        if intent_id is None:
            return None, id_of(invoice.get("charge"))
        return plain(call(self._client.v1.payment_intents.retrieve, intent_id)), id_of(invoice.get("charge"))

    def _subscription_of(self, customer_id: str, recurring_id: str) -> dict[str, Any] | None:
        listed = call(
            self._client.v1.subscriptions.list, {"customer": customer_id, "status": "all", "limit": 100}
        )
        for subscription in listed.data:
            found = plain(subscription)
            if found.get("metadata", {}).get("recurring_id") == recurring_id:
                return found
        return None

    def _plan(self, amount: int, currency: str, interval: str) -> str:
        """A Plan per amount, currency and interval, made on first use. localstripe has Plans
        and no Prices; Stripe still takes `items[0][plan]` with a Plan id."""
        plan_id = f"steward-{interval}-{currency}-{amount}"
        try:
            self._client.v1.plans.create(
                {
                    "id": plan_id,
                    "amount": amount,
                    "currency": currency,
                    "interval": interval,
                    "product": {"name": PRODUCT_NAME},
                }
            )
        except stripe.StripeError as exc:
            # Stripe answers resource_already_exists (400); localstripe a bare 409.
            if exc.code != "resource_already_exists" and exc.http_status != 409:
                raise UpstreamError("the payment service did not answer; retry") from exc
        return plan_id

    def _info(self, subscription: dict[str, Any]) -> SubscriptionInfo:
        items = (subscription.get("items") or {}).get("data") or [{}]
        period_end = items[0].get("current_period_end") or subscription.get("current_period_end")
        invoice_id = id_of(subscription.get("latest_invoice"))
        paid, intent, charge_id, failure, secret = False, None, None, None, None
        if invoice_id:
            invoice = plain(call(self._client.v1.invoices.retrieve, invoice_id))
            paid = invoice.get("status") == "paid"
            intent, charge_id = self._invoice_intent(invoice_id)
        if intent and not paid:
            error = intent.get("last_payment_error")
            if isinstance(error, dict):
                failure = error.get("message") or error.get("code")
            if intent.get("status") == "requires_action":
                secret = intent.get("client_secret")
        return SubscriptionInfo(
            id=str(subscription["id"]),
            customer_id=str(id_of(subscription.get("customer"))),
            status=str(subscription.get("status")),
            current_period_end=iso(period_end),
            latest_invoice_id=invoice_id,
            invoice_paid=paid,
            payment_id=id_of(intent),
            charge_id=charge_id,
            failure_reason=failure,
            client_secret=secret,
        )

    # Refunds

    def create_refund(
        self, refund_id: str, payment_intent_id: str, amount: int, reason: str, metadata: dict[str, str]
    ) -> RefundInfo:
        made = self._refund_of(payment_intent_id, refund_id)
        if made is not None:
            return made
        params: dict[str, Any] = {
            "payment_intent": payment_intent_id,
            "amount": amount,
            "metadata": {**metadata, "refund_id": refund_id},
        }
        if reason in REFUND_REASONS:
            params["reason"] = reason
        try:
            refund = call_raw(self._client.v1.refunds.create, params, f"steward-refund-{refund_id}")
        except stripe.InvalidRequestError as exc:  # e.g. more than the charge has left
            raise ConflictError(f"Stripe refused the refund: {exc.user_message or 'refused'}") from exc
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
        return refund_info(plain(refund))

    def _refund_of(self, payment_intent_id: str, refund_id: str) -> RefundInfo | None:
        listed = call(self._client.v1.refunds.list, {"payment_intent": payment_intent_id, "limit": 100})
        for refund in listed.data:
            found = plain(refund)
            if found.get("metadata", {}).get("refund_id") == refund_id:
                return refund_info(found)
        return None


def refund_info(refund: dict[str, Any]) -> RefundInfo:
    return RefundInfo(
        id=str(refund["id"]),
        amount=int(refund["amount"]),
        currency=str(refund["currency"]).lower(),
        status=str(refund.get("status")),
        failure_reason=refund.get("failure_reason"),
    )
