"""The outbox consumer's decisions, with an in-memory repository and a failing mailer."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import PermanentMailError, UpstreamError
from chalicelib.services import outbox
from chalicelib.services.clock import epoch_seconds, seconds_after
from chalicelib.services.ports import Mailer, OutboxMessage

NOW = "2026-11-27T12:00:00.000Z"


class Store:
    """Just enough of OutreachRepository for the outbox: claim, release, fail, mark sent."""

    def __init__(self, message: OutboxMessage) -> None:
        self.message = message
        self.lease_until = ""
        self.released: list[tuple[str, str]] = []
        self.failed: list[str] = []

    def claim_outbox(self, message_id: str, now: str, lease_until: str) -> OutboxMessage | None:
        if self.message.status != "pending" or self.lease_until > now:
            return None
        self.lease_until = lease_until
        self.message = OutboxMessage(**{**self.message.__dict__, "attempts": self.message.attempts + 1})
        return self.message

    def release_outbox(self, message_id: str, retry_at: str, error: str) -> None:
        self.lease_until = retry_at
        self.released.append((retry_at, error))

    def fail_outbox(self, message_id: str, now: str, reason: str) -> None:
        self.message = OutboxMessage(**{**self.message.__dict__, "status": "failed"})
        self.failed.append(reason)

    def mark_outbox_sent(self, message_id: str, now: str) -> None:
        self.message = OutboxMessage(**{**self.message.__dict__, "status": "sent"})

    def due_outbox(self, now: str, limit: int) -> list[str]:
        return [self.message.id] if self.message.status == "pending" and self.lease_until <= now else []


class FlakyMailer(Mailer):
    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures, self.sent, self.calls = failures, 0, 0
        self.error = error or UpstreamError("SMTP send failed: ConnectionRefusedError")

    def send(self, message: OutboxMessage) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent += 1


def _store() -> Store:
    return Store(
        OutboxMessage(id="m1", template="contact_ack", to="a@example.org", context={}, created_at=NOW)
    )


def _sweep_until_done(store: Store, mailer: Mailer, rounds: int = 50) -> list[int]:
    """Run the sweep at each moment the item is due, and check it was not due a second before.
    Returns each wait in seconds."""
    repo: Any = store
    at, waits = NOW, []
    for _ in range(rounds):
        outbox.deliver_due(repo=repo, mailer=mailer, now=lambda at=at: at)
        if store.message.status != "pending":
            return waits
        retry_at = store.released[-1][0]
        waits.append(epoch_seconds(retry_at) - epoch_seconds(at))
        assert outbox.deliver_due(repo=repo, mailer=mailer, now=lambda r=retry_at: seconds_after(r, -1)) == 0
        at = retry_at
    raise AssertionError("the item never ended")


def test_a_failed_send_waits_longer_each_time_then_is_sent_once() -> None:
    store, mailer = _store(), FlakyMailer(failures=3)
    waits = _sweep_until_done(store, mailer)
    assert mailer.sent == 1 and store.message.status == "sent"
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2], waits
    assert all("ConnectionRefused" in error for _, error in store.released)
    repo: Any = store
    assert outbox.deliver("m1", repo=repo, mailer=mailer, now=lambda: "2026-11-27T13:00:00.000Z") is False


def test_a_transient_failure_is_retried_up_to_the_cap_over_about_a_day_then_failed() -> None:
    store, mailer = _store(), FlakyMailer(failures=1000)
    waits = _sweep_until_done(store, mailer)
    assert mailer.calls == outbox.MAX_ATTEMPTS and store.message.status == "failed"
    assert waits == sorted(waits) and max(waits) <= outbox.MAX_BACKOFF_SECONDS
    assert 12 * 3600 <= sum(waits) <= 36 * 3600, sum(waits)
    [reason] = store.failed
    assert "ConnectionRefused" in reason and str(outbox.MAX_ATTEMPTS) in reason


def test_a_permanent_failure_is_failed_at_once_and_never_retried() -> None:
    store = _store()
    mailer = FlakyMailer(failures=1000, error=PermanentMailError("SMTP 550: mailbox unavailable"))
    assert _sweep_until_done(store, mailer) == []
    assert mailer.calls == 1 and store.message.status == "failed" and store.released == []
    assert store.failed == ["SMTP 550: mailbox unavailable"]


def test_an_unexpected_error_is_retried_with_the_cap_and_never_escapes() -> None:
    store, mailer = _store(), FlakyMailer(failures=1000, error=RuntimeError("boom"))
    _sweep_until_done(store, mailer)
    assert mailer.calls == outbox.MAX_ATTEMPTS and store.message.status == "failed"
    assert "RuntimeError" in store.failed[0]


def test_an_item_claimed_past_the_cap_is_failed_without_sending() -> None:
    store = _store()
    store.message = OutboxMessage(**{**store.message.__dict__, "attempts": outbox.MAX_ATTEMPTS})
    mailer = FlakyMailer(failures=0)
    repo: Any = store
    assert outbox.deliver("m1", repo=repo, mailer=mailer, now=lambda: NOW) is False
    assert mailer.calls == 0 and store.message.status == "failed"


def test_a_leased_message_is_not_sent_by_a_second_worker() -> None:
    store, mailer = _store(), FlakyMailer(failures=0)
    repo: Any = store
    assert store.claim_outbox("m1", NOW, "2026-11-27T12:01:00.000Z") is not None  # worker one holds it
    assert outbox.deliver("m1", repo=repo, mailer=mailer, now=lambda: NOW) is False
    assert mailer.sent == 0
