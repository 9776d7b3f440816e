"""The Stripe gateway: one StripeClient instance, idempotency keys from our own ids."""

from __future__ import annotations

from typing import Any

import stripe

from chalicelib.adapters.stripe_facts import payment_intent_info, read_event
from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import (
    InvalidSignatureError,
    NotFoundError,
    PaymentDeclinedError,
    UpstreamError,
)
from chalicelib.services.facts import StripeEvent
from chalicelib.services.ports import PaymentIntentInfo, Payments, Settlement, SetupIntentInfo

# Pinned, as Stripe recommends: parameters and webhook payloads follow this version.
# Set the webhook endpoint in the Stripe dashboard to the same version.
API_VERSION = "2025-03-31.basil"
WEBHOOK_TOLERANCE_SECONDS = 300
# One call that gets no answer gives up in about 2 x 6 s plus the client's short backoff,
# well inside the 25 s Lambda timeout with the table calls around it: the donor gets our 503
# and retries, instead of API Gateway's bare 504 after the function is killed mid-call.
TIMEOUT_SECONDS = 6
NETWORK_RETRIES = 1


def _plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return data


def _setup_info(intent: Any) -> SetupIntentInfo:
    method = intent.get("payment_method")
    return SetupIntentInfo(
        id=intent["id"],
        client_secret=intent["client_secret"],
        status=intent["status"],
        payment_method=method.get("id") if isinstance(method, dict) else method,
    )


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
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
            max_network_retries=NETWORK_RETRIES,
            stripe_version=api_version,
        )

    def create_setup_intent(self, donation: Donation) -> SetupIntentInfo:
        intent = self._call(
            self._client.v1.setup_intents.create,
            {
                "usage": "on_session",
                "payment_method_types": ["card"],
                "metadata": {"donation_id": donation.id},
            },
            {"idempotency_key": f"steward-setup-{donation.id}"},
        )
        return _setup_info(_plain(intent))

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        return _setup_info(_plain(self._call(self._client.v1.setup_intents.retrieve, setup_intent_id)))

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
        return payment_intent_info(_plain(intent))

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
        return payment_intent_info(_plain(intent))

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
        return payment_intent_info(_plain(intent))

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
        # A body that verifies but is no JSON object fails in the SDK's parse (ValueError) or
        # its event construction (AttributeError, TypeError, KeyError).
        except (stripe.SignatureVerificationError, ValueError, AttributeError, TypeError, KeyError) as exc:
            raise InvalidSignatureError("the Stripe-Signature does not verify") from exc
        return read_event(_plain(event), text)

    @staticmethod
    def _call(method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except stripe.StripeError as exc:
            raise UpstreamError("the payment service did not answer; retry") from exc
