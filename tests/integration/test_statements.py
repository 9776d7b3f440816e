"""Year-end giving statements through the local stack: two gifts, part of one refunded by
finance over HTTP, then `steward statements` run as the operator runs it; and the yearly run,
twice, sending each donor one statement only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from chalicelib import bootstrap
from chalicelib.domain.donation import Donation, receipt_number
from chalicelib.domain.ids import new_id
from chalicelib.services.ports import Repository
from chalicelib.services.statements import send_statements
from devstack.stack import Stack
from tests.helpers import Api, Mailbox, give, link, plain_text, store, wait_for
from tests.stripe_events import charge_refunded, refund_object
from tests.stripe_events import refund as refund_event

STEWARD = Path(sys.executable).parent / "steward"


def unique(label: str) -> str:
    return f"{label}-{time.time_ns()}@example.org"


def paid(api: Api, stack: Stack, token: Any, email: str, amount: int) -> dict[str, Any]:
    donation_id, confirmed = give(api, stack, email=email, amount=amount)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded", confirmed.text
    return dict(api.get(f"/staff/donations/{donation_id}", token()).json())


def statements_to(stack: Stack, email: str) -> list[Any]:
    return [m for m in Mailbox(stack).to(email) if "giving statement" in str(m["Subject"])]


def confirm_refund_by_webhooks(api: Api, stack: Stack, gift: dict[str, Any], refund: dict[str, Any]) -> None:
    """What Stripe sends after the refund staff made: refund.created and charge.refunded."""
    metadata = {"refund_id": refund["id"], "donation_id": gift["id"]}
    stripe_refund = refund_object(
        refund_id=refund["stripe_refund_id"],
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        amount=refund["amount"],
        metadata=metadata,
    )
    for signed in (
        refund_event(
            stack.webhook_secret,
            charge_id=gift["charge_id"],
            refund_id=refund["stripe_refund_id"],
            payment_intent_id=gift["payment_intent_id"],
            amount=refund["amount"],
            metadata=metadata,
        ),
        charge_refunded(
            stack.webhook_secret,
            charge_id=gift["charge_id"],
            payment_intent_id=gift["payment_intent_id"],
            amount=gift["amount"],
            amount_refunded=refund["amount"],
            refunds=[stripe_refund],
        ),
    ):
        answer = api.post("/webhooks/stripe", raw=signed.payload, headers=signed.headers)
        assert answer.status_code == 200, answer.text


def test_the_statement_command_sends_both_gifts_with_the_refund_netted_out(
    api: Api, stack: Stack, token: Any
) -> None:
    email = unique("statement")
    first = paid(api, stack, token, email, 3000)
    second = paid(api, stack, token, email, 7000)
    refund = api.session.post(
        f"{api.base}/staff/donations/{second['id']}/refunds",
        json={"amount": 1500, "reason": "requested_by_customer", "note": "half the gala ticket"},
        headers={"Authorization": f"Bearer {token('finance')}", "Idempotency-Key": f"refund-{second['id']}"},
        timeout=30,
    )
    assert refund.status_code == 201, refund.text
    assert api.get(f"/staff/donations/{second['id']}", token()).json()["refunded"] == 1500
    confirm_refund_by_webhooks(api, stack, second, refund.json())
    after = api.get(f"/staff/donations/{second['id']}", token()).json()
    assert after["refunded"] == 1500 and len(after["refunds"]) == 1  # the webhooks confirm, add nothing
    notices = wait_for(lambda: [m for m in Mailbox(stack).to(email) if "refund" in str(m["Subject"]).lower()])
    time.sleep(2)
    assert len([m for m in Mailbox(stack).to(email) if "refund" in str(m["Subject"]).lower()]) == 1
    notice = " ".join(plain_text(notices[0]).split())
    assert (
        second["receipt_number"] in notice and "$15.00" in notice and "Deductible amount now $55.00" in notice
    )
    receipt = next(m for m in Mailbox(stack).to(email) if second["receipt_number"] in str(m["Subject"]))
    page = requests.get(link(receipt, f"/donor/gifts/{second['id']}/receipt"), timeout=10)
    assert page.status_code == 200 and "Deductible after refunds" in page.text and "$55.00" in page.text
    year = first["succeeded_at"][:4]
    run = subprocess.run(
        [str(STEWARD), "statements", "--year", year, "--email", email],
        env={**os.environ, **stack.app_env(), "STEWARD_LOCAL_DIR": str(stack.config.local_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [statement] = wait_for(lambda: statements_to(stack, email))
    text = " ".join(plain_text(statement).split())
    assert year in str(statement["Subject"]) and "EIN 12-3456789" in text
    assert first["receipt_number"] in text and second["receipt_number"] in text
    assert "$30.00" in text and "$70.00" in text and "$15.00" in text and "$55.00" in text
    assert "Total USD $85.00" in text
    time.sleep(2)
    assert len(statements_to(stack, email)) == 1


def test_the_yearly_run_twice_sends_each_donor_one_statement(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    one, two = unique("yearly-one"), unique("yearly-two")
    gift = paid(api, stack, token, one, 2000)
    paid(api, stack, token, one, 2200)
    paid(api, stack, token, two, 4000)
    year = int(gift["succeeded_at"][:4])
    mail = bootstrap.get_gift_mail()
    first = send_statements(year, repo=repo, mail=mail)
    second = send_statements(year, repo=repo, mail=mail)
    assert first.failed == [] and second.failed == []
    assert second.sent == 0 and second.already_sent == second.donors >= first.donors >= 2
    for address in (one, two):
        wait_for(lambda address=address: statements_to(stack, address))  # type: ignore[misc]
    time.sleep(3)
    [statement_one] = statements_to(stack, one)
    assert len(statements_to(stack, two)) == 1
    text = " ".join(plain_text(statement_one).split())
    assert "$20.00" in text and "$22.00" in text and "Total USD $42.00" in text


def test_a_gift_made_on_new_years_eve_and_paid_on_new_years_day_is_in_the_new_years_statement(
    stack: Stack, repo: Repository
) -> None:
    email = unique("new-year")
    year = int(time.strftime("%Y", time.gmtime()))
    gift_id = new_id()
    paid_at = f"{year}-01-01T00:05:00.000Z"
    gift = Donation(
        id=gift_id,
        status="succeeded",
        amount=6100,
        currency="usd",
        fund="peace-programs",
        email=email,
        first_name="Nia",
        last_name="Year",
        created_at=f"{year - 1}-12-31T23:58:00.000Z",  # the form was sent before midnight
        updated_at=paid_at,
        succeeded_at=paid_at,
        receipt_number=receipt_number(gift_id, paid_at),
    )
    store(repo, gift, None)
    mail = bootstrap.get_gift_mail()
    earlier = send_statements(year - 1, repo=repo, mail=mail, email=email)
    assert earlier.donors == 0  # paid in the new year: not in last year's statement
    run = send_statements(year, repo=repo, mail=mail, email=email)
    assert run.sent == 1
    [statement] = wait_for(lambda: statements_to(stack, email))
    text = " ".join(plain_text(statement).split())
    assert gift.receipt_number and gift.receipt_number in text and "Total USD $61.00" in text
