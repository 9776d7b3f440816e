"""Email signups: double opt-in, confirmation, one-click unsubscribe."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.config import MissingSettingError
from chalicelib.domain.errors import ConcurrentUpdateError, ConflictError, NotFoundError, UpstreamError
from chalicelib.domain.ids import new_id
from chalicelib.domain.outreach_forms import SignupForm
from chalicelib.domain.outreach_records import PendingSignup
from chalicelib.domain.tokens import (
    email_id,
    hash_ip,
    new_secret_token,
    subscriber_from_unsubscribe_token,
    token_digest,
    unsubscribe_token,
)
from chalicelib.metrics import business_event
from chalicelib.services.clock import Clock, epoch_seconds, seconds_after, seconds_before, utc_now
from chalicelib.services.forms import FormRules, now_ms, screen_form
from chalicelib.services.outbox import backoff_seconds
from chalicelib.services.outreach_ports import ConfirmTarget, OutboxMessage, OutreachRepository, SignupMove

if TYPE_CHECKING:  # a pydantic model: POST /signups, which only stores the request, loads no pydantic
    from chalicelib.domain.outreach import Subscriber

CONFIRM_TOKEN_DAYS = 7
ATTEMPTS = 3
SWEEP_AFTER_SECONDS = 60  # leave a fresh request to the stream
SWEEP_ATTEMPTS = 10  # as for outbox email: about 20 hours of trying, then `failed`
log = logging.getLogger("steward")


@dataclass(frozen=True)
class SignupRules:
    """The signup settings: the form checks, the links' base and the daily sends."""

    form: FormRules
    public_url: str | None
    confirm_sends_per_day: int

    def link(self, path: str) -> str:
        """An absolute link for an email. Only the functions that write links have the API's URL:
        on AWS the API's own function cannot be given it (a circular dependency)."""
        if not self.public_url:
            raise MissingSettingError("STEWARD_PUBLIC_URL must be set where emails with links are written")
        return self.public_url + path

    def unsubscribe_url(self, subscriber_id: str) -> str:
        return self.link(f"/unsubscribe?token={unsubscribe_token(self.form.keys, subscriber_id)}")


def subscribe(
    request: SignupForm,
    source_ip: str,
    *,
    repo: OutreachRepository,
    rules: SignupRules,
    now: Clock = utc_now,
) -> None:
    """Store the request as its own pending consent, the same way whatever the address: the
    lookup, the consent record and the email happen behind the answer (process_signup)."""
    screening = screen_form(
        "signup", request.email, request.form_token, request.honeypot, source_ip, rules=rules.form
    )
    if not screening.accepted:  # a bot's: its counts only
        repo.take_rate_hits(screening.hits)
        return
    keys = rules.form.keys
    signup = PendingSignup(
        id=new_id(),
        subscriber_id=email_id(keys, request.email),
        email=request.email,
        name=request.name,
        postal_code=request.postal_code,
        interests=request.interests,
        consent_version=request.consent_version,
        source_page=request.source_page,
        ip_hmac=hash_ip(keys, source_ip),
        created_at=now(),
    )
    try:
        repo.create_pending_signup(signup, hits=screening.hits)  # one round trip with its counts
    except ConflictError:
        return  # the id is new: only our own write, retried after its answer was lost, holds it


def process_signup(
    signup_id: str, *, repo: OutreachRepository, rules: SignupRules, now: Clock = utc_now
) -> bool:
    """Send the confirmation email of one signup request (from the table's stream). True when
    an email was queued; False when the address is on the list, enough emails went today, or
    the request was handled already, or it was sent before the address unsubscribed. Safe to
    run twice."""
    from chalicelib.domain.outreach import Subscriber

    for _ in range(ATTEMPTS):
        signup = repo.get_pending_signup(signup_id)
        if signup is None or signup.status != "received":
            return False
        current = repo.get_subscriber(signup.subscriber_id)
        timestamp = now()
        day = timestamp[:10]
        sends = current.sends_count if current and current.sends_day == day else 0
        if current and (
            current.status == "confirmed"
            or sends >= rules.confirm_sends_per_day
            or _asked_before_unsubscribe(signup, current)
        ):
            repo.move_pending_signup(SignupMove(signup_id, "received", "skipped"))
            return False
        token, digest = new_secret_token()
        # A new subscriber holds no consent: it stays on the request until its token confirms it.
        base = current or Subscriber(
            id=signup.subscriber_id, email=signup.email, created_at=timestamp, updated_at=""
        )
        update = {"status": "pending", "updated_at": timestamp, "sends_day": day, "sends_count": sends + 1}
        subscriber = base.model_copy(update={**update, "version": current.version + 1 if current else 0})
        email = OutboxMessage(
            id=new_id(),
            template="signup_confirm",
            to=signup.email,
            created_at=timestamp,
            context={
                "greeting": signup.name or "friend",
                "confirm_url": rules.link(f"/signups/confirm?token={token}"),
            },
            unsubscribe_url=rules.unsubscribe_url(signup.subscriber_id),
        )
        try:
            repo.save_subscriber(
                subscriber,
                current.version if current else None,
                event="signup",
                token_hash=digest,
                token_expires_at=epoch_seconds(timestamp) + CONFIRM_TOKEN_DAYS * 86400,
                outbox=email,
                signup_move=SignupMove(signup_id, "received", "sent"),
            )
        except ConcurrentUpdateError:
            continue
        return True
    raise UpstreamError("the signup kept changing underneath; retry")


def process_received(
    *, repo: OutreachRepository, rules: SignupRules, now: Clock = utc_now, limit: int = 50
) -> int:
    """The sweep: handle the signup requests the stream could not (a failure, a lost record).
    A request that fails waits longer each time, as outbox email does, and after
    SWEEP_ATTEMPTS it ends `failed` with its last error: never retried forever."""
    handled = 0
    for signup_id in repo.received_signups(seconds_before(now(), SWEEP_AFTER_SECONDS), limit):
        try:
            handled += process_signup(signup_id, repo=repo, rules=rules, now=now)
        except Exception as exc:  # one bad request never holds up the others
            log.exception("signup request %s failed", signup_id)
            _retry_later(signup_id, repo, now(), f"{type(exc).__name__}: {str(exc)[:200]}")
    return handled


def _retry_later(signup_id: str, repo: OutreachRepository, timestamp: str, error: str) -> None:
    try:
        attempts = repo.record_signup_failure(signup_id, error)
        if attempts >= SWEEP_ATTEMPTS:
            repo.move_pending_signup(SignupMove(signup_id, "received", "failed"))
        elif attempts:
            repo.delay_signup(signup_id, seconds_after(timestamp, backoff_seconds(attempts)))
    except Exception:  # the table is failing too: the request waits as it is
        log.exception("signup request %s: attempt not recorded", signup_id)


def _consent(signup: PendingSignup) -> dict[str, Any]:
    """What the confirming person gave, exactly as their own request carried it."""
    return {
        "email": signup.email,
        "name": signup.name,
        "postal_code": signup.postal_code,
        "interests": signup.interests,
        "consent_version": signup.consent_version,
        "consent_source_page": signup.source_page,
        "consent_ip_hmac": signup.ip_hmac,
        "consent_at": signup.created_at,
        "consent_signup_id": signup.id,
    }


def _asked_before_unsubscribe(signup: PendingSignup, current: Subscriber) -> bool:
    """A request sent before the address last unsubscribed, applied late by the stream, does not
    reopen it, nor mail a link for it once a later request reopened it: the later decision
    stands. A request sent after it is a new decision."""
    return current.unsubscribed_at is not None and signup.created_at <= current.unsubscribed_at


def _sent_before_unsubscribe(target: ConfirmTarget | None, current: Subscriber) -> bool:
    """A link mailed before the address unsubscribed never confirms a later signup: only the
    email sent for that signup does. A token that does not say when it was issued is old."""
    if target is None or current.unsubscribed_at is None:
        return False
    return target.issued_at is None or target.issued_at < current.unsubscribed_at


def confirm(token: str, *, repo: OutreachRepository, now: Clock = utc_now) -> Subscriber:
    """Confirm exactly the request this token was sent for. Another request of the same
    address handled meanwhile (a version bump) is read again, not answered with a 409."""
    digest = token_digest(token)
    target = repo.confirm_token_target(digest)
    signup = repo.get_pending_signup(target.signup_id) if target and target.signup_id else None
    for _ in range(ATTEMPTS):
        current = repo.get_subscriber(target.subscriber_id) if target else None
        try:
            return _confirm(digest, target, current, signup, repo=repo, now=now)
        except ConcurrentUpdateError:
            continue
    raise UpstreamError("the subscriber kept changing underneath; retry")


def _confirm(
    digest: str,
    target: ConfirmTarget | None,
    current: Subscriber | None,
    signup: PendingSignup | None,
    *,
    repo: OutreachRepository,
    now: Clock,
) -> Subscriber:
    if current is None:
        raise NotFoundError(
            "this confirmation link is not valid", fields=[{"field": "token", "message": "unknown"}]
        )
    if current.status == "confirmed":
        return current
    if current.status == "unsubscribed" or _sent_before_unsubscribe(target, current):
        raise ConflictError("this address unsubscribed since; sign up again to get a new link")
    timestamp = now()
    if target and target.expires_at is not None and target.expires_at <= epoch_seconds(timestamp):
        raise ConflictError("this confirmation link expired; sign up again to get a new one")
    confirmed = current.model_copy(
        update={
            **(_consent(signup) if signup else {}),
            "status": "confirmed",
            "confirmed_at": timestamp,
            "updated_at": timestamp,
            "version": current.version + 1,
        }
    )
    repo.save_subscriber(
        confirmed,
        current.version,
        event="confirmed",
        used_token_hash=digest,
        now_epoch=epoch_seconds(timestamp),
        signup_move=SignupMove(signup.id, "sent", "confirmed") if signup else None,
    )
    business_event("signup_confirmed", "signup confirmed", subscriber_id=confirmed.id)
    return confirmed


def unsubscribe(token: str, *, repo: OutreachRepository, rules: SignupRules, now: Clock = utc_now) -> None:
    """Idempotent: a second call, or one for an address we no longer hold, changes nothing."""
    subscriber_id = subscriber_from_unsubscribe_token(rules.form.keys, token, now_ms())
    if subscriber_id is None:
        raise NotFoundError(
            "this unsubscribe link is not valid", fields=[{"field": "token", "message": "unknown"}]
        )
    for _ in range(ATTEMPTS):
        current = repo.get_subscriber(subscriber_id)
        if current is None or current.status == "unsubscribed":
            return
        timestamp = now()
        update = {
            "status": "unsubscribed",
            "unsubscribed_at": timestamp,
            "updated_at": timestamp,
            "version": current.version + 1,
        }
        try:
            repo.save_subscriber(current.model_copy(update=update), current.version, event="unsubscribed")
        except ConcurrentUpdateError:
            continue
        return
    raise UpstreamError("the subscriber kept changing underneath; retry")
