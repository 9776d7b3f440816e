"""The outbox consumer's decisions, with an in-memory repository and a failing mailer."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import UpstreamError
from chalicelib.services import outbox
from chalicelib.services.ports import Mailer, OutboxMessage

NOW = "2026-11-27T12:00:00.000Z"


class Store:
    """Just enough of OutreachRepository for the outbox: claim, release, mark sent."""

    def __init__(self, message: OutboxMessage) -> None:
        self.message = message
        self.lease_until = ""
        self.released: list[tuple[str, str]] = []

    def claim_outbox(self, message_id: str, now: str, lease_until: str) -> OutboxMessage | None:
        if self.message.status != "pending" or self.lease_until > now:
            return None
        self.lease_until = lease_until
        self.message = OutboxMessage(**{**self.message.__dict__, "attempts": self.message.attempts + 1})
        return self.message

    def release_outbox(self, message_id: str, retry_at: str, error: str) -> None:
        self.lease_until = retry_at
        self.released.append((retry_at, error))

    def mark_outbox_sent(self, message_id: str, now: str) -> None:
        self.message = OutboxMessage(**{**self.message.__dict__, "status": "sent"})

    def due_outbox(self, now: str, limit: int) -> list[str]:
        return [self.message.id] if self.message.status == "pending" and self.lease_until <= now else []


class FlakyMailer(Mailer):
    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, 0

    def send(self, message: OutboxMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise UpstreamError("SMTP send failed: ConnectionRefusedError")
        self.sent += 1


def _store() -> Store:
    return Store(
        OutboxMessage(id="m1", template="contact_ack", to="a@example.org", context={}, created_at=NOW)
    )


def test_a_failed_send_waits_longer_each_time_then_is_sent_once() -> None:
    store, mailer = _store(), FlakyMailer(failures=3)
    clock = iter([f"2026-11-27T12:{m:02d}:00.000Z" for m in range(0, 60)])
    repo: Any = store
    sent = [outbox.deliver_due(repo=repo, mailer=mailer, now=lambda: next(clock)) for _ in range(8)]
    assert mailer.sent == 1 and sum(sent) == 1
    waits = [retry for retry, _ in store.released]
    assert waits == sorted(waits) and len(waits) == 3
    assert all("ConnectionRefused" in error for _, error in store.released)
    assert outbox.deliver("m1", repo=repo, mailer=mailer, now=lambda: "2026-11-27T13:00:00.000Z") is False


def test_a_leased_message_is_not_sent_by_a_second_worker() -> None:
    store, mailer = _store(), FlakyMailer(failures=0)
    repo: Any = store
    assert store.claim_outbox("m1", NOW, "2026-11-27T12:01:00.000Z") is not None  # worker one holds it
    assert outbox.deliver("m1", repo=repo, mailer=mailer, now=lambda: NOW) is False
    assert mailer.sent == 0
