"""The ports of the form routes (contact, signups) and of the outbox: what their services and
the outreach repository share. Kept apart from chalicelib/services/ports.py (the gift, Stripe and
ledger ports, which re-exports these) so that a form route's cold start does not build the money
ports' classes."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import RateLimitedError

if TYPE_CHECKING:
    from chalicelib.domain.outreach import Subscriber
    from chalicelib.domain.outreach_records import ContactMessage, PendingSignup, SignupStatus


@dataclass(frozen=True)
class OutboxMessage:
    """An email waiting to be rendered and sent by the outbox consumer."""

    id: str
    template: str
    to: str
    context: dict[str, str]
    created_at: str
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    status: str = "pending"
    attempts: int = 0


@dataclass(frozen=True)
class SignupMove:
    """A signup request's status change, made in the same transaction as its subscriber's."""

    signup_id: str
    from_status: SignupStatus
    to_status: SignupStatus


@dataclass(frozen=True)
class ConfirmTarget:
    """What a confirmation token points at. signup_id is None for tokens issued before
    signup requests were kept apart; issued_at is None for tokens issued before it was kept."""

    subscriber_id: str
    signup_id: str | None
    issued_at: str | None = None
    expires_at: int | None = None


@dataclass(frozen=True)
class RateHit:
    """One count in a form's bucket for the window, taken only while it holds fewer than
    `limit` (an atomic conditional ADD, alone or inside the record's own transaction)."""

    scope: str
    key_hash: str
    window_start: int
    limit: int
    expires_at: int
    retry_after: int

    def refused(self) -> RateLimitedError:
        return RateLimitedError("too many submissions; try again later", retry_after=self.retry_after)


@dataclass(frozen=True)
class Page:
    """One page of records and the cursor of the next."""

    items: list[Any]
    cursor: str | None


class OutreachRepository(abc.ABC):
    @abc.abstractmethod
    def hit_rate_limit(
        self, scope: str, key_hash: str, window_start: int, limit: int, expires_at: int
    ) -> bool:
        """Count one hit; False when the bucket already holds `limit` hits."""

    @abc.abstractmethod
    def take_rate_hits(self, hits: Sequence[RateHit]) -> None:
        """Count all of them or none, in one write; RateLimitedError naming the full bucket."""

    @abc.abstractmethod
    def rate_hits(self, scope: str, key_hash: str, window_start: int) -> int:
        """How many hits the bucket holds."""

    @abc.abstractmethod
    def release_rate_limit(self, scope: str, key_hash: str, window_start: int) -> None:
        """Take one hit back (never below zero)."""

    @abc.abstractmethod
    def alert_once(
        self, scope: str, key_hash: str, window_start: int, expires_at: int, outbox: OutboxMessage
    ) -> bool:
        """One transaction: a marker for this key and window, and the email; False (nothing
        written) when the marker is already there."""

    @abc.abstractmethod
    def get_subscriber(self, subscriber_id: str) -> Subscriber | None: ...

    @abc.abstractmethod
    def save_subscriber(
        self,
        subscriber: Subscriber,
        expected_version: int | None,
        *,
        event: str,
        token_hash: str | None = None,
        token_expires_at: int | None = None,
        outbox: OutboxMessage | None = None,
        used_token_hash: str | None = None,
        now_epoch: int = 0,
        signup_move: SignupMove | None = None,
    ) -> None:
        """One transaction: the subscriber (new, or at the expected version), its event entry,
        a new confirmation token (pointing at the moved signup request), the email to send,
        the token being used up, and the signup request's status change.
        Raises ConcurrentUpdateError; ConflictError when the used token is spent or expired."""

    @abc.abstractmethod
    def confirm_token_target(self, token_hash: str) -> ConfirmTarget | None: ...

    @abc.abstractmethod
    def create_pending_signup(self, signup: PendingSignup, *, hits: Sequence[RateHit] = ()) -> None:
        """One conditional put, the same whatever the address, in one transaction with its
        rate-limit counts. ConflictError when stored already; RateLimitedError naming a full
        bucket (then nothing is written)."""

    @abc.abstractmethod
    def get_pending_signup(self, signup_id: str) -> PendingSignup | None: ...

    @abc.abstractmethod
    def move_pending_signup(self, move: SignupMove) -> bool:
        """Conditional status change; False when the request had already moved on."""

    @abc.abstractmethod
    def received_signups(self, before: str, limit: int) -> list[str]:
        """Ids of signup requests still waiting for their email, stored (or due again) before
        `before`, the longest waiting first."""

    @abc.abstractmethod
    def record_signup_failure(self, signup_id: str, error: str) -> int:
        """Count a failed attempt on a request still `received`, with its error; the attempts
        made so far (0 when it had moved on)."""

    @abc.abstractmethod
    def delay_signup(self, signup_id: str, retry_at: str) -> None:
        """Make a request still `received` due again at `retry_at` (its place in the sweep)."""

    @abc.abstractmethod
    def list_subscribers(self, limit: int, cursor: str | None) -> Page: ...

    @abc.abstractmethod
    def create_contact(
        self,
        message: ContactMessage,
        outbox: list[OutboxMessage],
        submission: str,
        expires_at: int,
        *,
        hits: Sequence[RateHit] = (),
    ) -> None:
        """One transaction with its rate-limit counts; ConflictError when this submission was
        already stored, RateLimitedError naming a full bucket (either way nothing is written)."""

    @abc.abstractmethod
    def get_contact(self, contact_id: str) -> ContactMessage | None: ...

    @abc.abstractmethod
    def save_contact(self, message: ContactMessage, expected_updated_at: str) -> None: ...

    @abc.abstractmethod
    def list_contacts(self, topic: str, status: str, limit: int, cursor: str | None) -> Page: ...

    @abc.abstractmethod
    def claim_outbox(self, message_id: str, now: str, lease_until: str) -> OutboxMessage | None:
        """Take a pending email whose lease expired; None when sent or held elsewhere."""

    @abc.abstractmethod
    def mark_outbox_sent(self, message_id: str, now: str) -> None: ...

    @abc.abstractmethod
    def release_outbox(self, message_id: str, retry_at: str, error: str) -> None: ...

    @abc.abstractmethod
    def fail_outbox(self, message_id: str, now: str, reason: str) -> None:
        """Mark a pending email failed for good, with its reason; it is never tried again."""

    @abc.abstractmethod
    def due_outbox(self, now: str, limit: int) -> list[str]: ...

    @abc.abstractmethod
    def list_outbox(self, status: str, limit: int, cursor: str | None) -> Page:
        """Failed emails newest first, or pending ones by when they are due (OutboxRecord)."""


class Mailer(abc.ABC):
    @abc.abstractmethod
    def send(self, message: OutboxMessage) -> None:
        """Render and send; raises UpstreamError when the transport fails."""
