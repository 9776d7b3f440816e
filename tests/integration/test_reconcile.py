"""Reconciliation against localstripe's payouts and balance transactions: each line matched to
our gift or refund (gross, fee, net), what is unmatched on either side, the CSV, and
`steward reconcile` applying an event the webhook missed (once, however often it runs)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import stripe

from chalicelib.services.facts import StripeEvent
from chalicelib.services.ports import Ledger, Payments, Repository
from devstack.stack import Stack
from tests.helpers import CARD_OK, Api, give

STEWARD = Path(sys.executable).parent / "steward"
AUTH = ("sk_test_steward_local", "")


def stripe_post(stack: Stack, path: str, **data: Any) -> dict[str, Any]:
    answer = requests.post(f"{stack.config.stripe_url}{path}", data=data, auth=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def txn_of(stack: Stack, charge_id: str) -> str:
    charge = requests.get(f"{stack.config.stripe_url}/v1/charges/{charge_id}", auth=AUTH, timeout=10).json()
    return str(charge["balance_transaction"])


def test_a_payout_is_matched_line_by_line_and_mismatches_are_named(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    paid, _ = give(api, stack)
    refunded, _ = give(api, stack)
    changed, _ = give(api, stack)
    staff = token("finance")
    made = api.post(
        f"/staff/donations/{refunded}/refunds",
        {"amount": 500, "reason": "requested_by_customer"},
        {"Authorization": f"Bearer {staff}"},
    )
    assert made.status_code == 201, made.text
    gift_of = {g: api.get(f"/staff/donations/{g}", staff).json() for g in (paid, refunded, changed)}
    # Stripe's fee on one charge changed and no webhook told us: the report must say so
    stripe_post(
        stack, f"/_config/balance_transactions/{txn_of(stack, gift_of[changed]['charge_id'])}", fee=75
    )
    client = stripe.StripeClient(AUTH[0], base_addresses={"api": stack.config.stripe_url})
    card = {"number": CARD_OK, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})  # type: ignore[typeddict-item]
    foreign = client.v1.payment_intents.create(
        {"amount": 777, "currency": "usd", "payment_method": method.id, "payment_method_types": ["card"]}
    )
    foreign_charge = client.v1.payment_intents.confirm(foreign.id).to_dict()["latest_charge"]
    foreign_charge_id = foreign_charge["id"] if isinstance(foreign_charge, dict) else foreign_charge
    payout = stripe_post(stack, "/_config/payouts", currency="usd")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    answer = api.get("/staff/reports/payouts", staff, **{"from": today, "to": today})
    assert answer.status_code == 200, answer.text
    report = next(p for p in answer.json()["payouts"] if p["id"] == payout["id"])
    assert report["net"] == payout["amount"] and report["gross"] - report["fees"] == report["net"]
    lines = {line["source"]: line for line in report["lines"]}
    ok = lines[gift_of[paid]["charge_id"]]
    assert ok["status"] == "matched" and ok["donation_id"] == paid and ok["gross"] == gift_of[paid]["amount"]
    refund_id = gift_of[refunded]["refunds"][0]["stripe_refund_id"]
    assert lines[refund_id]["status"] == "matched" and lines[refund_id]["gross"] == -500
    assert lines[refund_id]["matched_kind"] == "refund" and lines[refund_id]["donation_id"] == refunded
    fee = lines[gift_of[changed]["charge_id"]]
    assert fee["status"] == "unmatched" and "fee: ours 0, Stripe's 75" in fee["problem"]
    stranger = lines[foreign_charge_id]
    assert stranger["status"] == "unmatched" and "no gift of ours" in stranger["problem"]
    assert answer.json()["unmatched"] >= 2
    # the same as a file an accountant opens
    sheet = api.get("/staff/reports/payouts", staff, **{"from": today, "to": today, "format": "csv"})
    assert sheet.status_code == 200 and sheet.headers["Content-Type"].startswith("text/csv")
    rows = [r for r in csv.DictReader(io.StringIO(sheet.text)) if r["payout_id"] == payout["id"]]
    assert {r["source"] for r in rows} >= {gift_of[paid]["charge_id"], refund_id, foreign_charge_id}
    assert next(r for r in rows if r["source"] == refund_id)["gross"] == "'-500"  # never a formula
    # only finance and admin read it, and bad input is a 422 naming the field
    assert (
        api.get("/staff/reports/payouts", token("communications"), **{"from": today, "to": today}).status_code
        == 403
    )
    bad = api.get("/staff/reports/payouts", staff, **{"from": today, "to": today, "format": "xls"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "format"


def _register_webhook(stack: Stack, url: str) -> None:
    data = urllib.parse.urlencode({"url": url, "secret": stack.webhook_secret}).encode()
    request = urllib.request.Request(f"{stack.config.stripe_url}/_config/webhooks/steward", data=data)
    urllib.request.urlopen(request, timeout=10).close()


def test_steward_reconcile_applies_an_event_the_webhook_missed_once(
    api: Api, stack: Stack, payments: Payments, repo: Repository
) -> None:
    from tests.integration.test_webhooks import _unsynced_gift

    _register_webhook(stack, "http://127.0.0.1:9/webhooks/stripe")  # the endpoint is down
    try:
        donation_id, _ = _unsynced_gift(api, stack, payments, repo, CARD_OK)
        time.sleep(1)
    finally:
        _register_webhook(stack, f"{stack.config.api_url}/webhooks/stripe")
    assert repo.get_donation(donation_id).status == "pending"  # type: ignore[union-attr]
    env = {**os.environ, **stack.app_env(), "STEWARD_LOCAL_DIR": str(stack.config.local_dir)}
    today = time.strftime("%Y-%m-%d", time.gmtime())
    first = subprocess.run(
        [str(STEWARD), "reconcile", "--since", today], env=env, capture_output=True, text=True, timeout=300
    )
    assert "Stripe events since" in first.stdout and "Payouts" in first.stdout, first.stdout + first.stderr
    gift = repo.get_donation(donation_id)
    assert gift is not None and gift.status == "succeeded"  # the missed event, applied
    again = subprocess.run(
        [str(STEWARD), "reconcile", "--since", today], env=env, capture_output=True, text=True, timeout=300
    )
    assert "Applied now" in again.stdout
    assert repo.get_donation(donation_id).version == gift.version  # type: ignore[union-attr]
    bad = subprocess.run(
        [str(STEWARD), "reconcile", "--since", "yesterday"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


class ListedEvents(Ledger):
    """Stripe's list of events, as given: the replay's only read of Stripe here."""

    def __init__(self, events: list[StripeEvent]) -> None:
        self.listed = events

    def payouts(self, start: int, end: int) -> list[Any]:
        return []

    def payout_lines(self, payout_id: str) -> list[Any]:
        return []

    def events(self, since: int) -> Iterator[StripeEvent]:
        return iter(self.listed)


def test_one_event_whose_gift_cannot_be_read_holds_up_no_other_in_a_replay(
    stack: Stack, payments: Payments, repo: Repository
) -> None:
    """A gift item edited by hand (a boolean saved as a number) is refused where it is read: its
    event is left failed for the next run, and the events after it are applied."""
    from chalicelib.adapters.stripe_facts import read_event
    from chalicelib.services.donations import Money
    from chalicelib.services.reconcile import replay_events
    from tests.stripe_events import refund
    from tests.unit.factories import donation

    paid = {"status": "succeeded", "succeeded_at": "2026-11-27T00:00:00.000Z"}
    odd, fine = donation(charge_id="ch_odd_x", **paid), donation(charge_id="ch_fine_x", **paid)
    for gift in (odd, fine):
        repo.create_donation(gift, None)
    client: Any = repo.client  # type: ignore[attr-defined]

    def edit(value: dict[str, Any]) -> None:
        client.update_item(
            TableName=repo.table,  # type: ignore[attr-defined]
            Key={"pk": {"S": f"DONATION#{odd.id}"}, "sk": {"S": "DONATION"}},
            UpdateExpression="SET anonymous = :value",
            ExpressionAttributeValues={":value": value},
        )

    listed = []
    for gift in (odd, fine):
        charge, metadata = str(gift.charge_id), {"donation_id": gift.id}
        signed = refund(stack.webhook_secret, charge_id=charge, amount=1000, metadata=metadata)
        listed.append(read_event(json.loads(signed.payload), signed.payload.decode()))
    edit({"N": "1"})
    try:
        run = replay_events("2026-11-27T00:00:00.000Z", Money(repo, payments), ListedEvents(listed))
    finally:
        edit({"BOOL": False})  # the rest of the session lists these days
    assert (run.events, run.applied, len(run.failed)) == (2, 1, 1)
    assert run.failed[0].startswith(listed[0].id)
    assert repo.get_donation(fine.id).refunded == 1000  # type: ignore[union-attr]
