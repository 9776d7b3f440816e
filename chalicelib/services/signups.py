"""Email signups: double opt-in, confirmation, one-click unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import ConcurrentUpdateError, ConflictError, NotFoundError, UpstreamError
from chalicelib.domain.ids import new_id
from chalicelib.domain.outreach import SignupRequest, Subscriber
from chalicelib.domain.tokens import (
    email_id,
    hash_ip,
    new_secret_token,
    subscriber_from_unsubscribe_token,
    token_digest,
    unsubscribe_token,
)
from chalicelib.services.clock import epoch_seconds, utc_now
from chalicelib.services.donations import Clock
from chalicelib.services.forms import FormRules, now_ms, screen
from chalicelib.services.ports import OutboxMessage, OutreachRepository

CONFIRM_TOKEN_DAYS = 7
ATTEMPTS = 3


@dataclass(frozen=True)
class SignupRules:
    form: FormRules
    public_url: str
    confirm_sends_per_day: int

    def unsubscribe_url(self, subscriber_id: str) -> str:
        return f"{self.public_url}/unsubscribe?token={unsubscribe_token(self.form.keys, subscriber_id)}"


def subscribe(
    request: SignupRequest,
    source_ip: str,
    *,
    repo: OutreachRepository,
    rules: SignupRules,
    now: Clock = utc_now,
) -> None:
    """Record consent and send the confirmation; the answer never says what was there before."""
    if not screen(
        "signup", request.email, request.form_token, request.honeypot, source_ip, repo=repo, rules=rules.form
    ):
        return
    keys = rules.form.keys
    subscriber_id = email_id(keys, request.email)
    for _ in range(ATTEMPTS):
        current = repo.get_subscriber(subscriber_id)
        timestamp = now()
        day = timestamp[:10]
        sends = current.sends_count if current and current.sends_day == day else 0
        if current and (current.status == "confirmed" or sends >= rules.confirm_sends_per_day):
            return  # already on the list, or enough confirmations sent today
        token, digest = new_secret_token()
        subscriber = Subscriber(
            id=subscriber_id,
            email=request.email,
            name=request.name,
            postal_code=request.postal_code,
            interests=request.interests,
            status="pending",
            consent_version=request.consent_version,
            consent_source_page=request.source_page,
            consent_ip_hmac=hash_ip(keys, source_ip),
            consent_at=timestamp,
            created_at=current.created_at if current else timestamp,
            updated_at=timestamp,
            unsubscribed_at=current.unsubscribed_at if current else None,
            sends_day=day,
            sends_count=sends + 1,
            version=current.version + 1 if current else 0,
        )
        email = OutboxMessage(
            id=new_id(),
            template="signup_confirm",
            to=request.email,
            created_at=timestamp,
            context={
                "greeting": request.name or "friend",
                "confirm_url": f"{rules.public_url}/signups/confirm?token={token}",
            },
            unsubscribe_url=rules.unsubscribe_url(subscriber_id),
        )
        try:
            repo.save_subscriber(
                subscriber,
                current.version if current else None,
                event="signup",
                token_hash=digest,
                token_expires_at=epoch_seconds(timestamp) + CONFIRM_TOKEN_DAYS * 86400,
                outbox=email,
            )
        except ConcurrentUpdateError:
            continue
        return
    raise UpstreamError("the signup kept changing underneath; retry")


def confirm(token: str, *, repo: OutreachRepository, now: Clock = utc_now) -> Subscriber:
    digest = token_digest(token)
    subscriber_id = repo.confirm_token_subscriber(digest)
    current = repo.get_subscriber(subscriber_id) if subscriber_id else None
    if current is None:
        raise NotFoundError(
            "this confirmation link is not valid", fields=[{"field": "token", "message": "unknown"}]
        )
    if current.status == "confirmed":
        return current
    if current.status == "unsubscribed":
        raise ConflictError("this address unsubscribed since; sign up again to get a new link")
    timestamp = now()
    confirmed = current.model_copy(
        update={
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
    )
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
