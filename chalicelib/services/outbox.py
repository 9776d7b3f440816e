"""The email outbox consumer: claim, send, mark sent; a failed send waits and is retried."""

from __future__ import annotations

from chalicelib.domain.errors import UpstreamError
from chalicelib.services.clock import seconds_after, utc_now
from chalicelib.services.donations import Clock
from chalicelib.services.ports import Mailer, OutreachRepository

LEASE_SECONDS = 60
MAX_BACKOFF_SECONDS = 300


def deliver(message_id: str, *, repo: OutreachRepository, mailer: Mailer, now: Clock = utc_now) -> bool:
    """Send one outbox email unless it was sent or another worker holds it. True when sent now."""
    timestamp = now()
    message = repo.claim_outbox(message_id, timestamp, seconds_after(timestamp, LEASE_SECONDS))
    if message is None:
        return False
    try:
        mailer.send(message)
    except UpstreamError as exc:
        backoff = min(MAX_BACKOFF_SECONDS, 2 ** min(message.attempts, 16))
        repo.release_outbox(message_id, seconds_after(timestamp, backoff), exc.message)
        return False
    repo.mark_outbox_sent(message_id, now())
    return True


def deliver_due(*, repo: OutreachRepository, mailer: Mailer, now: Clock = utc_now, limit: int = 50) -> int:
    """The sweep: retry every email whose wait is over. Returns how many were sent."""
    return sum(deliver(i, repo=repo, mailer=mailer, now=now) for i in repo.due_outbox(now(), limit))
