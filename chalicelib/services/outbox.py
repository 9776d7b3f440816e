"""The email outbox consumer: claim, send, mark sent. Every item ends `sent`, or `failed`
with its reason: a permanent error fails it at once; a transient one waits longer each time
and fails it after MAX_ATTEMPTS (about a day of trying)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalicelib.domain.errors import PermanentMailError, UpstreamError
from chalicelib.metrics import business_event
from chalicelib.services.clock import Clock, seconds_after, utc_now
from chalicelib.services.outreach_ports import Mailer, OutboxMessage, OutreachRepository, Page

log = logging.getLogger("steward")

LEASE_SECONDS = 60
MAX_ATTEMPTS = 10
FIRST_BACKOFF_SECONDS = 5
BACKOFF_FACTOR = 4
MAX_BACKOFF_SECONDS = 6 * 3600


def backoff_seconds(attempts: int) -> int:
    """The wait after the given number of failed attempts: 5 s, 20 s, 80 s, ... up to 6 h."""
    return int(min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * BACKOFF_FACTOR ** min(attempts - 1, 16)))


def deliver(message_id: str, *, repo: OutreachRepository, mailer: Mailer, now: Clock = utc_now) -> bool:
    """Send one outbox email unless it was sent or another worker holds it. True when sent now.
    Never raises for the email itself; only the table's own failures escape."""
    timestamp = now()
    message = repo.claim_outbox(message_id, timestamp, seconds_after(timestamp, LEASE_SECONDS))
    if message is None:
        return False
    if message.attempts > MAX_ATTEMPTS:  # claimed again after workers died holding it
        _fail(repo, message_id, timestamp, f"gave up after {MAX_ATTEMPTS} attempts")
        return False
    try:
        mailer.send(message)
    except PermanentMailError as exc:
        _fail(repo, message_id, now(), exc.message)
        return False
    except UpstreamError as exc:
        _retry_later(message, repo, timestamp, exc.message)
        return False
    except Exception as exc:  # an unforeseen error: retried within the cap, never forever
        log.exception("outbox %s: unexpected send error", message_id)
        _retry_later(message, repo, timestamp, f"{type(exc).__name__}: {str(exc)[:200]}")
        return False
    repo.mark_outbox_sent(message_id, now())
    return True


def _fail(repo: OutreachRepository, message_id: str, timestamp: str, reason: str) -> None:
    """The email ends failed. The line is what the deploy template's alarm counts
    (infra/resources.json, MailFailed); the reason stays on the item, where it may name an address."""
    repo.fail_outbox(message_id, timestamp, reason)
    business_event("mail_failed", f"mail_failed outbox={message_id}", logging.WARNING, outbox_id=message_id)


def _retry_later(message: OutboxMessage, repo: OutreachRepository, timestamp: str, error: str) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        _fail(repo, message.id, timestamp, f"gave up after {MAX_ATTEMPTS} attempts: {error}")
    else:
        repo.release_outbox(message.id, seconds_after(timestamp, backoff_seconds(message.attempts)), error)


def deliver_due(
    *,
    repo: OutreachRepository,
    mailer: Mailer,
    now: Clock = utc_now,
    limit: int = 50,
    keep_going: Callable[[], bool] = lambda: True,
) -> int:
    """The sweep: retry every email whose wait is over. Returns how many were sent. An item the
    table fails on is logged and left for the next run; it never holds up the others. Stops
    starting sends once `keep_going` says no (the invocation's time is running out)."""
    sent = 0
    for message_id in repo.due_outbox(now(), limit):
        if not keep_going():
            break
        try:
            sent += deliver(message_id, repo=repo, mailer=mailer, now=now)
        except Exception:
            log.exception("outbox %s: left for the next sweep", message_id)
    return sent


def list_outbox(status: str, limit: int, cursor: str | None, *, repo: OutreachRepository) -> Page:
    """What staff see: failed emails with their reasons, or those still waiting."""
    return repo.list_outbox(status, limit, cursor)
