"""The webhook dies at each step (a test hook stops it, as kill -9 would), so Stripe gets no
2xx and delivers the event again: the fact is applied once, and the event is stored with it.
An event that fails is stored with its reason; one for no gift of ours, or of a type Steward
ignores, is stored with why nothing was applied."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from chalicelib.domain.errors import UpstreamError
from chalicelib.domain.ids import new_id
from chalicelib.services.ports import Payments, Repository
from chalicelib.services.webhooks import handle_stripe_event
from devstack.stack import Stack
from tests.faults import Crashing, Failing, ProcessDied
from tests.helpers import CARD_OK, GIFT, Api, confirm_card_setup, event, sign
from tests.integration.test_webhooks import deliver, stored_event


def _paid_elsewhere(api: Api, stack: Stack, payments: Payments) -> tuple[str, dict[str, Any]]:
    """A pending gift, and a PaymentIntent paid at Stripe that names no gift (so Stripe's own
    delivery of it is not ours): only the event built from it here can pay the gift."""
    created = api.post("/donations", GIFT).json()
    assert confirm_card_setup(stack, created["client_secret"], CARD_OK).status_code == 200
    setup = payments.retrieve_setup_intent(created["client_secret"].split("_secret_")[0])
    client = stripe.StripeClient(
        stack.app_env()["STEWARD_STRIPE_SECRET_KEY"], base_addresses={"api": stack.config.stripe_url}
    )
    intent = client.v1.payment_intents.create(
        {
            "amount": GIFT["amount"],
            "currency": GIFT["currency"],
            "payment_method": setup.payment_method,
            "payment_method_types": ["card"],
        }
    )
    paid = client.v1.payment_intents.confirm(intent.id).to_dict()
    assert paid["status"] == "succeeded" and paid["latest_charge"]
    return created["donation_id"], {**paid, "metadata": {"donation_id": created["donation_id"]}}


def _succeeded(intent: dict[str, Any], event_id: str) -> bytes:
    return event("payment_intent.succeeded", intent, event_id, api_version="2025-03-31.basil")


def _applied_once(repo: Repository, donation_id: str, event_id: str) -> None:
    record = repo.get_gift(donation_id, with_history=True)
    assert record is not None
    gift = record.donation
    assert gift.status == "succeeded" and gift.fee is not None and gift.net is not None
    assert gift.version == 2  # created, then paid once
    assert [e.source for e in record.history].count("payment_intent.succeeded") == 1
    stored = stored_event(repo, event_id)
    assert stored is not None and stored["processed"] is True
    assert json.loads(stored["payload"])["id"] == event_id


# (port, method, dies after the call answered): each call of the success path in turn
CRASH_POINTS = {
    "before the gift is read": ("repo", "get_gift", False),
    "after the gift is read": ("repo", "get_gift", True),
    "after the fee is fetched from Stripe": ("payments", "settlement", True),
    "before the transaction": ("repo", "unit_of_work().commit", False),
    "after the transaction": ("repo", "unit_of_work().commit", True),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_delivery_that_dies_at_any_step_is_applied_once_when_stripe_retries(
    api: Api, stack: Stack, repo: Repository, payments: Payments, point: str
) -> None:
    port, method, after = CRASH_POINTS[point]
    donation_id, intent = _paid_elsewhere(api, stack, payments)
    event_id = f"evt_crash_{time.time_ns()}"
    payload = _succeeded(intent, event_id)
    ports: dict[str, Any] = {"repo": repo, "payments": payments}
    ports[port] = Crashing(ports[port], method, 1, after=after)
    with pytest.raises(ProcessDied):
        handle_stripe_event(payload, sign(payload, stack.webhook_secret), **ports)
    committed = point == "after the transaction"
    assert (stored_event(repo, event_id) is not None) is committed  # written only with the fact
    again = deliver(api, stack, payload)
    assert again.status_code == 200
    assert again.json() == (
        {"received": True, "duplicate": True} if committed else {"received": True, "applied": True}
    )
    assert deliver(api, stack, payload).json() == {"received": True, "duplicate": True}
    _applied_once(repo, donation_id, event_id)


def test_an_event_that_changes_nothing_and_dies_after_its_write_is_a_duplicate_next_time(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    donation_id, intent = _paid_elsewhere(api, stack, payments)
    first = _succeeded(intent, f"evt_first_{time.time_ns()}")
    assert deliver(api, stack, first).json() == {"received": True, "applied": True}
    later_id = f"evt_same_{time.time_ns()}"  # Stripe states the same again, as a new event
    later = _succeeded(intent, later_id)
    dying = Crashing(repo, "mark_event_processed", 1, after=True)
    with pytest.raises(ProcessDied):
        handle_stripe_event(later, sign(later, stack.webhook_secret), repo=dying, payments=payments)
    assert stored_event(repo, later_id)["processed"] is True
    assert deliver(api, stack, later).json() == {"received": True, "duplicate": True}
    record = repo.get_gift(donation_id)
    assert record is not None and record.donation.version == 2


def test_a_failed_event_is_kept_with_its_reason_and_applied_when_it_comes_again(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    donation_id, intent = _paid_elsewhere(api, stack, payments)
    event_id = f"evt_outage_{time.time_ns()}"
    payload = _succeeded(intent, event_id)
    stripe_down = Failing(payments, "settlement", UpstreamError("the payment service did not answer"))
    for attempt in (1, 2):
        with pytest.raises(UpstreamError):
            handle_stripe_event(payload, sign(payload, stack.webhook_secret), repo=repo, payments=stripe_down)
        kept = stored_event(repo, event_id)
        assert kept is not None and kept["processed"] is False and kept["attempts"] == attempt
        assert kept["failure"] == "UpstreamError: the payment service did not answer"
        assert json.loads(kept["payload"])["id"] == event_id
    assert repo.get_donation(donation_id).status == "pending"
    assert deliver(api, stack, payload).json() == {"received": True, "applied": True}
    _applied_once(repo, donation_id, event_id)
    assert stored_event(repo, event_id)["failure"]  # the failure stays on record


def test_a_failure_that_dies_before_it_is_stored_leaves_it_to_stripes_retry(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    donation_id, intent = _paid_elsewhere(api, stack, payments)
    event_id = f"evt_lost_{time.time_ns()}"
    payload = _succeeded(intent, event_id)
    stripe_down = Failing(payments, "settlement", UpstreamError("the payment service did not answer"))
    dying = Crashing(repo, "keep_failed_event", 1, after=False)
    with pytest.raises(ProcessDied):
        handle_stripe_event(payload, sign(payload, stack.webhook_secret), repo=dying, payments=stripe_down)
    assert stored_event(repo, event_id) is None
    assert deliver(api, stack, payload).json() == {"received": True, "applied": True}
    _applied_once(repo, donation_id, event_id)


def test_events_not_ours_or_ignored_are_stored_with_why(api: Api, stack: Stack, repo: Repository) -> None:
    stamp = time.time_ns()
    unknown_gift = new_id()  # a well-formed id no gift has
    intent = {"id": f"pi_none_{stamp}", "object": "payment_intent", "status": "succeeded"}
    not_ours = _succeeded({**intent, "metadata": {"donation_id": unknown_gift}}, f"evt_none_{stamp}")
    ignored = event("customer.created", {"id": f"cus_{stamp}", "object": "customer"}, f"evt_cus_{stamp}")
    for payload, note in ((not_ours, "not ours"), (ignored, "ignored")):
        assert deliver(api, stack, payload).json() == {"received": True, "applied": False}
        stored = stored_event(repo, json.loads(payload)["id"])
        assert stored is not None and stored["processed"] is True and stored["note"] == note
        assert stored["payload"] == payload.decode()
        assert deliver(api, stack, payload).json() == {"received": True, "duplicate": True}


class _DeliveredMeanwhile:
    """Wraps the repository: right before the first transaction commits, `meanwhile` runs
    (another delivery of the same event, served by another container)."""

    def __init__(self, inner: Repository, meanwhile: Any) -> None:
        self._inner, self._meanwhile = inner, meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def unit_of_work(self) -> Any:
        work = self._inner.unit_of_work()
        commit, meanwhile = work.commit, self._meanwhile
        self._meanwhile = lambda: None

        def commit_after() -> None:
            meanwhile()
            commit()

        work.commit = commit_after  # type: ignore[method-assign]
        return work


def test_two_deliveries_at_once_apply_the_event_once(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    donation_id, intent = _paid_elsewhere(api, stack, payments)
    event_id = f"evt_twice_{time.time_ns()}"
    payload = _succeeded(intent, event_id)
    other: list[dict[str, Any]] = []
    racing = _DeliveredMeanwhile(repo, lambda: other.append(deliver(api, stack, payload).json()))
    first = handle_stripe_event(payload, sign(payload, stack.webhook_secret), repo=racing, payments=payments)  # type: ignore[arg-type]
    assert other == [{"received": True, "applied": True}]
    assert first == {"received": True, "duplicate": True}  # its transaction wrote nothing
    _applied_once(repo, donation_id, event_id)


def test_a_failed_event_is_listed_until_it_is_processed_whatever_its_age(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    # Stripe retries an event for 3 days and lists it for 30; after that only Steward's own
    # record of the failure can tell anyone it was never applied.
    from chalicelib.bootstrap import get_ledger
    from chalicelib.services.clock import utc_now
    from chalicelib.services.donations import Money
    from chalicelib.services.reconcile import replay_events

    donation_id, intent = _paid_elsewhere(api, stack, payments)
    event_id = f"evt_listed_{time.time_ns()}"
    payload = _succeeded(intent, event_id)
    stripe_down = Failing(payments, "settlement", UpstreamError("the payment service did not answer"))
    with pytest.raises(UpstreamError):
        handle_stripe_event(payload, sign(payload, stack.webhook_secret), repo=repo, payments=stripe_down)
    run = replay_events(utc_now(), Money(repo, payments), get_ledger())  # Stripe lists it no more
    listed = {kept.id: kept for kept in run.still_failed}
    assert event_id in listed, listed
    assert listed[event_id].type == "payment_intent.succeeded" and listed[event_id].attempts == 1
    assert listed[event_id].failure == "UpstreamError: the payment service did not answer"
    assert deliver(api, stack, payload).json() == {"received": True, "applied": True}
    assert event_id not in {kept.id for kept in repo.failed_events(100)}
    _applied_once(repo, donation_id, event_id)


def test_a_transaction_throttled_by_dynamodb_answers_503_and_keeps_the_event(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    # DynamoDB Local never throttles: the app's client gets DynamoDB's answer for a transaction
    # over its partition's rate once, as Stubber would give it; every other call is real.
    from botocore.awsrequest import AWSResponse

    from chalicelib.bootstrap import _dynamodb_client

    donation_id, intent = _paid_elsewhere(api, stack, payments)
    event_id = f"evt_throttled_{time.time_ns()}"
    payload = _succeeded(intent, event_id)
    answers = [
        (
            AWSResponse("http://127.0.0.1/", 400, {}, None),
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}],
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
        )
    ]

    def throttled(**_: Any) -> Any:
        return answers.pop() if answers else None

    events = _dynamodb_client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", throttled, unique_id="test-throttled")
    try:
        with pytest.raises(UpstreamError):
            handle_stripe_event(payload, sign(payload, stack.webhook_secret), repo=repo, payments=payments)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="test-throttled")
    kept = stored_event(repo, event_id)
    assert kept is not None and kept["processed"] is False
    assert kept["failure"].startswith("UpstreamError")
    assert deliver(api, stack, payload).json() == {"received": True, "applied": True}
    _applied_once(repo, donation_id, event_id)


REFUND_CRASH_POINTS = {
    "before the gift is read": ("get_gift", False),
    "after the gift is read": ("get_gift", True),
    "before the transaction": ("unit_of_work().commit", False),
    "after the transaction": ("unit_of_work().commit", True),
}


@pytest.mark.parametrize("point", list(REFUND_CRASH_POINTS))
def test_an_event_of_a_refund_steward_made_that_dies_at_any_step_is_applied_once(
    api: Api, stack: Stack, repo: Repository, payments: Payments, point: str
) -> None:
    # The refund's metadata names the gift and Steward's refund id: no link is read, so these
    # are all the calls the event makes.
    from chalicelib.bootstrap import get_gift_mail
    from tests.integration.test_refunds import paid_gift, settled_notices
    from tests.stripe_events import refund

    method, after = REFUND_CRASH_POINTS[point]
    donation_id, email = paid_gift(api, stack)
    gift = repo.get_donation(donation_id)
    assert gift is not None
    ours = {"donation_id": donation_id, "refund_id": new_id()}
    made = refund(
        stack.webhook_secret,
        charge_id=str(gift.charge_id),
        payment_intent_id=gift.payment_intent_id,
        amount=700,
        metadata=ours,
        event_id=f"evt_refund_crash_{time.time_ns()}",
    )
    with pytest.raises(ProcessDied):
        handle_stripe_event(
            made.payload,
            made.signature,
            repo=Crashing(repo, method, 1, after=after),
            payments=payments,
            mail=get_gift_mail(),
        )
    committed = point == "after the transaction"
    answer = deliver(api, stack, made.payload).json()
    assert answer == (
        {"received": True, "duplicate": True} if committed else {"received": True, "applied": True}
    )
    record = repo.get_gift(donation_id, with_history=True)
    assert record is not None and record.donation.refunded == 700
    assert [(r.id, r.status) for r in record.refunds] == [(ours["refund_id"], "succeeded")]
    assert [e.source for e in record.history].count("refund.created") == 1
    assert stored_event(repo, json.loads(made.payload)["id"])["processed"] is True
    assert len(settled_notices(stack, email, 1)) == 1
