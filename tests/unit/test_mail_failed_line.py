"""Every email that ends failed writes one `mail_failed` line, the one the deploy template's
metric filter counts for its alarm (infra/resources.json, a JSON pattern on the `event` field),
naming no address or reason."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.errors import PermanentMailError
from chalicelib.logs import JsonFormatter
from chalicelib.metrics import emf_line
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
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "mail_failed"]
    formatted = json.loads(JsonFormatter().format(record))
    assert formatted["outbox_id"] == "m1" and "example.org" not in json.dumps(formatted)
    for name in ("OutboxStreamMailFailedMetric", "OutboxSweepMailFailedMetric"):
        pattern = json.loads(RESOURCES.read_text())["Resources"][name]["Properties"]["FilterPattern"]
        assert _matches(pattern, formatted)  # the alarm counts the line
        assert not _matches(pattern, emf_line("mail_failed"))  # and not its metric line again


def _matches(pattern: str, line: dict[str, Any]) -> bool:
    """CloudWatch's JSON filter pattern `{ ($.a = "x") && ($.b = "y") }`, as it applies to a line."""
    terms = re.findall(r'\$\.(\w+) = "([^"]*)"', pattern)
    assert terms and pattern.startswith("{") and "||" not in pattern, pattern
    return all(line.get(key) == value for key, value in terms)


def test_a_retried_email_writes_no_mail_failed_line(caplog: pytest.LogCaptureFixture) -> None:
    store = Store(
        OutboxMessage(id="m2", template="contact_ack", to="b@example.org", context={}, created_at=NOW)
    )
    repo: Any = store
    with caplog.at_level(logging.INFO, logger="steward"):
        outbox.deliver("m2", repo=repo, mailer=FlakyMailer(failures=1), now=lambda: NOW)
    assert store.message.status == "pending" and _failed_lines(caplog) == []
