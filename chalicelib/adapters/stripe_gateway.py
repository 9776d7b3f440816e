"""The Stripe gateway: one StripeClient instance, idempotency keys from our own ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import stripe

from chalicelib.adapters.stripe_billing import Billing
from chalicelib.domain.errors import (
    InvalidSignatureError,
    NotFoundError,
    PaymentDeclinedError,
    UpstreamError,
)
from chalicelib.services.ports import (
    PaymentIntentInfo,
    Payments,
    RefundInfo,
    Settlement,
    SetupIntentInfo,
    SubscriptionInfo,
)

if TYPE_CHECKING:  # the reading of webhook events loads where a payment is read, not with the client
    from chalicelib.domain.donation import Donation
    from chalicelib.services.facts import StripeEvent

# Pinned, as Stripe recommends: parameters and webhook payloads follow this version.
# Set the webhook endpoint in the Stripe dashboard to the same version.
API_VERSION = "2025-03-31.basil"
WEBHOOK_TOLERANCE_SECONDS = 300
# One call that gets no answer gives up in about 2 x 6 s plus the client's short backoff,
# well inside the 25 s Lambda timeout with the table calls around it: the donor gets our 503
# and retries, instead of API Gateway's bare 504 after the function is killed mid-call.
TIMEOUT_SECONDS = 6
NETWORK_RETRIES = 1
# Stripe answers 429 past its rate limit (live mode: 100 reads and 100 writes a second by
# default). stripe-python retries connection errors, 409 and 5xx, never a 429: this client
# tries a 429 again twice with the library's own backoff (0.5 s, then 0.5-1 s, with jitter),
# then the call fails as UpstreamError (503, retry). Writes carry idempotency keys from our ids.
RATE_LIMIT_RETRIES = 2


class RateLimitBackoff(stripe.RequestsClient):
    """stripe's requests client, retrying a 429 with backoff (README "A telethon peak")."""

    def _should_retry(
        self,
        response: Any,
        api_connection_error: Any,
        num_retries: int,
        max_network_retries: int | None,
    ) -> bool:
        if response is not None and response[1] == 429:
            headers = response[2] or {}
            return num_retries < RATE_LIMIT_RETRIES and headers.get("stripe-should-retry") != "false"
        return bool(super()._should_retry(response, api_connection_error, num_retries, max_network_retries))


def _plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return data


def _intent_info(intent: Any) -> PaymentIntentInfo:
    from chalicelib.adapters.stripe_facts import payment_intent_info  # with the webhook's facts

    return payment_intent_info(_plain(intent))


def read_event(event: dict[str, Any], raw: str) -> StripeEvent:
    """adapters/stripe_facts.read_event, loaded with the webhook's facts where an event is read."""
    from chalicelib.adapters import stripe_facts

    return stripe_facts.read_event(event, raw)


def _setup_info(intent: Any) -> SetupIntentInfo:
    method = intent.get("payment_method")
    return SetupIntentInfo(
        id=intent["id"],
        client_secret=intent["client_secret"],
        status=intent["status"],
        payment_method=method.get("id") if isinstance(method, dict) else method,
        customer=_id_of(intent.get("customer")),
    )


def _id_of(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


class StripePayments(Payments):
    def __init__(
        self,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        api_version: str = API_VERSION,
        client: stripe.StripeClient | None = None,
    ) -> None:
        self.publishable_key = publishable_key
        self._webhook_secret = webhook_secret
        self._client = client or stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=RateLimitBackoff(timeout=TIMEOUT_SECONDS),
            max_network_retries=NETWORK_RETRIES,
            stripe_version=api_version,
        )
        self._billing = Billing(self._client)

    @property
    def client(self) -> stripe.StripeClient:
        """The one StripeClient, for the ledger's read-only calls."""
        return self._client

    def create_setup_intent(self, donation: Donation, customer_id: str | None = None) -> SetupIntentInfo:
        params: dict[str, Any] = {
            "usage": "on_session",
            "payment_method_types": ["card"],
            "metadata": {"donation_id": donation.id},
        }
        if customer_id:  # a recurring gift: the card is kept for the customer's installments
            params.update(usage="off_session", customer=customer_id)
        intent = self._call(
            self._client.v1.setup_intents.create, params, {"idempotency_key": f"steward-setup-{donation.id}"}
        )
        return _setup_info(_plain(intent))

    def create_card_update_intent(
        self, recurring_id: str, customer_id: str, update_id: str | None = None
    ) -> SetupIntentInfo:
        """With `update_id` (Steward's id for this update), retries make one SetupIntent;
        without, each call makes a new one (it charges nothing)."""
        options = {"idempotency_key": f"steward-card-{recurring_id}-{update_id}"} if update_id else {}
        intent = self._call(
            self._client.v1.setup_intents.create,
            {
                "usage": "off_session",
                "customer": customer_id,
                "payment_method_types": ["card"],
                "metadata": {"recurring_id": recurring_id},
            },
            options,
        )
        return _setup_info(_plain(intent))

    def create_customer(self, recurring_id: str, email: str, name: str) -> str:
        return self._billing.create_customer(recurring_id, email, name)

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
        return self._billing.create_subscription(
            recurring_id, customer_id, payment_method, amount, currency, interval, metadata
        )

    def find_subscription(self, customer_id: str, recurring_id: str) -> SubscriptionInfo | None:
        return self._billing.find_subscription(customer_id, recurring_id)

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionInfo:
        return self._billing.retrieve_subscription(subscription_id)

    def cancel_subscription(self, subscription_id: str) -> SubscriptionInfo:
        return self._billing.cancel_subscription(subscription_id)

    def set_default_payment_method(self, subscription_id: str, customer_id: str, payment_method: str) -> None:
        self._billing.use_card(customer_id, payment_method)

    def invoice_payment(self, invoice_id: str) -> tuple[str | None, str | None]:
        return self._billing.invoice_payment(invoice_id)

    def create_refund(
        self, refund_id: str, payment_intent_id: str, amount: int, reason: str, metadata: dict[str, str]
    ) -> RefundInfo:
        return self._billing.create_refund(refund_id, payment_intent_id, amount, reason, metadata)

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        try:
            intent = self._client.v1.setup_intents.retrieve(setup_intent_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise NotFoundError("Stripe has no such SetupIntent") from exc
            raise UpstreamError("the payment service did not answer; retry") from exc
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
        return _setup_info(_plain(intent))

    def create_payment_intent(self, donation: Donation, payment_method: str) -> PaymentIntentInfo:
        metadata = {"donation_id": donation.id, "fund": donation.fund}
        if donation.campaign:
            metadata["campaign"] = donation.campaign
        intent = self._call(
            self._client.v1.payment_intents.create,
            {
                "amount": donation.amount,
                "currency": donation.currency,
                "payment_method": payment_method,
                "payment_method_types": ["card"],
                "confirm": False,
                "metadata": metadata,
            },
            {"idempotency_key": f"steward-payment-{donation.id}"},
        )
        return _intent_info(intent)

    def confirm_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        try:
            intent = self._client.v1.payment_intents.confirm(
                payment_intent_id, None, {"idempotency_key": f"steward-confirm-{payment_intent_id}"}
            )
        except stripe.CardError as exc:
            raise PaymentDeclinedError(exc.user_message or "Your card was declined.") from exc
        except stripe.InvalidRequestError as exc:  # confirmed already (by a concurrent request)
            current = self.retrieve_payment_intent(payment_intent_id)
            if current.status == "requires_confirmation":
                raise UpstreamError("the payment service refused the confirmation; retry") from exc
            return current
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
        return _intent_info(intent)

    def cancel_payment_intent(self, payment_intent_id: str) -> None:
        self._call(
            self._client.v1.payment_intents.cancel,
            payment_intent_id,
            None,
            {"idempotency_key": f"steward-cancel-{payment_intent_id}"},
        )

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        try:
            intent = self._client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise NotFoundError("Stripe has no such PaymentIntent") from exc
            raise UpstreamError("the payment service did not answer; retry") from exc
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
        return _intent_info(intent)

    def settlement(self, charge_id: str) -> Settlement | None:
        charge = _plain(
            self._call(self._client.v1.charges.retrieve, charge_id, {"expand": ["balance_transaction"]})
        )
        txn = charge.get("balance_transaction")
        if not isinstance(txn, dict):
            return None
        return Settlement(fee=int(txn["fee"]), net=int(txn["net"]), currency=str(txn["currency"]))

    def verify_event(self, payload: bytes, signature: str | None) -> StripeEvent:
        if not (signature or "").isascii():  # stripe compares it with hmac, which raises on non-ASCII
            raise InvalidSignatureError("the Stripe-Signature does not verify")
        try:
            text = payload.decode("utf-8")
            event = self._client.construct_event(
                text, signature or "", self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        # A body that verifies but is no JSON object fails in the SDK's parse (ValueError, or
        # RecursionError when nested past the parser's depth) or its event construction
        # (AttributeError, TypeError, KeyError).
        except (
            stripe.SignatureVerificationError,
            ValueError,
            RecursionError,
            AttributeError,
            TypeError,
            KeyError,
        ) as exc:
            refused = InvalidSignatureError("the Stripe-Signature does not verify")
            refused.reason = _refusal(exc)
            raise refused from exc
        try:
            return read_event(_plain(event), text)
        except InvalidSignatureError as exc:
            exc.reason = "unparseable"
            raise

    @staticmethod
    def _call(method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc


def _refusal(exc: Exception) -> str:
    """Why a webhook was refused, from the SDK's own words: stale, bad_signature or unparseable."""
    if not isinstance(exc, stripe.SignatureVerificationError):
        return "unparseable"  # it verified, but is no JSON event
    return "stale" if "tolerance" in str(exc) else "bad_signature"
