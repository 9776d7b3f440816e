"""The ports services depend on. Adapters implement them; unit tests fake them."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.donation import Donation


@dataclass(frozen=True)
class IdempotencyRecord:
    key_hash: str
    request_hash: str
    donation_id: str


@dataclass(frozen=True)
class StoredEvent:
    id: str
    processed: bool


@dataclass(frozen=True)
class DonationPage:
    items: list[Donation]
    cursor: str | None


@dataclass(frozen=True)
class SetupIntentInfo:
    id: str
    client_secret: str
    status: str
    payment_method: str | None


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    status: str
    client_secret: str
    charge_id: str | None
    failure_reason: str | None
    donation_id: str | None = None

    @classmethod
    def from_stripe(cls, obj: dict[str, Any]) -> PaymentIntentInfo:
        """Read a PaymentIntent as Stripe sends it (latest_charge is an id, or expanded)."""
        charge = obj.get("latest_charge")
        error = obj.get("last_payment_error")
        metadata = obj.get("metadata")
        return cls(
            id=str(obj.get("id")),
            status=str(obj.get("status")),
            client_secret=str(obj.get("client_secret") or ""),
            charge_id=charge.get("id") if isinstance(charge, dict) else charge,
            failure_reason=(error.get("message") or error.get("code")) if isinstance(error, dict) else None,
            donation_id=metadata.get("donation_id") if isinstance(metadata, dict) else None,
        )


class Repository(abc.ABC):
    @abc.abstractmethod
    def ping(self) -> None:
        """Raise UpstreamError unless the table answers."""

    @abc.abstractmethod
    def create_donation(self, donation: Donation, idempotency: IdempotencyRecord | None) -> None:
        """Write a new gift; raises ConflictError when the idempotency key is taken."""

    @abc.abstractmethod
    def get_idempotency(self, key_hash: str) -> IdempotencyRecord | None: ...

    @abc.abstractmethod
    def get_donation(self, donation_id: str) -> Donation | None: ...

    @abc.abstractmethod
    def save_donation(
        self,
        donation: Donation,
        expected_version: int,
        *,
        audit: dict[str, str] | None,
        event_id: str | None = None,
    ) -> None:
        """Conditional on the version; in the same transaction it writes the audit entry,
        the Stripe id lookups and marks the event processed. Raises ConcurrentUpdateError."""

    @abc.abstractmethod
    def claim_payment(self, donation_id: str, now: str, stale_before: str) -> bool:
        """Take the right to create the PaymentIntent; False when another request holds it."""

    @abc.abstractmethod
    def donation_id_for(self, stripe_id: str) -> str | None:
        """The gift behind a PaymentIntent or Charge id."""

    @abc.abstractmethod
    def put_event(self, event_id: str, event_type: str, raw: str, received_at: str) -> StoredEvent:
        """Store a webhook event once by its id; returns what is stored."""

    @abc.abstractmethod
    def mark_event_processed(self, event_id: str, now: str) -> None: ...

    @abc.abstractmethod
    def list_donations(self, start: str, end: str, limit: int, cursor: str | None) -> DonationPage: ...


class Payments(abc.ABC):
    publishable_key: str

    @abc.abstractmethod
    def create_setup_intent(self, donation: Donation) -> SetupIntentInfo: ...

    @abc.abstractmethod
    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo: ...

    @abc.abstractmethod
    def create_payment_intent(self, donation: Donation, payment_method: str) -> PaymentIntentInfo:
        """Create and confirm; raises PaymentDeclinedError when the card is declined."""

    @abc.abstractmethod
    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo: ...

    @abc.abstractmethod
    def charge_fee_and_net(self, charge_id: str) -> tuple[int, int] | None: ...

    @abc.abstractmethod
    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """Verify Stripe-Signature on the raw body; raises InvalidSignatureError."""
