"""A receipt goes out through the local stack's own settings and mailer to the SMTP sink,
naming the organization's legal name and EIN."""

from __future__ import annotations

import uuid

from chalicelib import bootstrap
from chalicelib.domain.ids import new_id
from chalicelib.domain.receipts import Receipt, ReceiptLinks, receipt_email
from chalicelib.services.clock import utc_now
from chalicelib.services.ports import OutboxMessage
from devstack.stack import Stack
from tests.helpers import Mailbox, plain_text


def test_a_receipt_reaches_the_sink_with_the_ein_from_the_stack_settings(
    stack: Stack, mailbox: Mailbox
) -> None:
    settings = bootstrap.get_settings()
    address = f"donor-{uuid.uuid4().hex[:10]}@example.org"
    receipt = Receipt("2026-01KQ3W9XZT", "Amara Okafor", address, utc_now(), 30000, "usd", "Peace Programs")
    base = f"{settings.public_url}/receipts/r1"
    links = ReceiptLinks(f"{base}/gift?token=t", f"{base}?token=t", f"{base}.pdf?token=t")
    template, context = receipt_email(receipt, settings.organization, links)
    message = OutboxMessage(id=new_id(), template=template, to=address, context=context, created_at=utc_now())
    bootstrap.get_mailer().send(message)
    [email] = mailbox.wait_to(address)
    text = " ".join(plain_text(email).split())
    assert "EIN 12-3456789" in text and settings.org_legal_name in text and "$300.00" in text
    assert "No goods or services were provided in exchange for this contribution." in text
    assert f"{base}.pdf?token=t" in text
