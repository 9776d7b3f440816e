"""Every email that ends failed writes one `mail_failed` line, the one the deploy template's
metric filter counts for its alarm (infra/resources.json), naming no address or reason."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.errors import PermanentMailError
from chalicelib.services import outbox
from chalicelib.services.ports import OutboxMessage
from tests.unit.test_outbox_service import NOW, FlakyMailer, Store

RESOURCES = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


def _failed_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "mail_failed" in r.getMessage()]


@pytest.mark.parametrize(
    ("error", "attempts"),
    [(PermanentMailError("SMTP 550: a@example.org unknown"), 0), (RuntimeError("a@example.org"), 9)],
)
def test_an_email_that_ends_failed_writes_one_mail_failed_line(
    caplog: pytest.LogCaptureFixture, error: Exception, attempts: int
) -> None:
    store = Store(
        OutboxMessage(
            id="m1", template="contact_ack", to="a@example.org", context={}, created_at=NOW, attempts=attempts
        )
    )
    repo: Any = store
    with caplog.at_level(logging.INFO, logger="steward"):
        outbox.deliver("m1", repo=repo, mailer=FlakyMailer(failures=1, error=error), now=lambda: NOW)
    assert store.message.status == "failed"
    [line] = _failed_lines(caplog)
    assert "m1" in line and "example.org" not in line
    pattern = json.loads(RESOURCES.read_text())["Resources"]["OutboxStreamMailFailedMetric"]["Properties"]
    assert pattern["FilterPattern"].strip('"') in line


def test_a_retried_email_writes_no_mail_failed_line(caplog: pytest.LogCaptureFixture) -> None:
    store = Store(
        OutboxMessage(id="m2", template="contact_ack", to="b@example.org", context={}, created_at=NOW)
    )
    repo: Any = store
    with caplog.at_level(logging.INFO, logger="steward"):
        outbox.deliver("m2", repo=repo, mailer=FlakyMailer(failures=1), now=lambda: NOW)
    assert store.message.status == "pending" and _failed_lines(caplog) == []
