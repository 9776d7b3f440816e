"""Staff refunds against the local stack: the API, Stripe (localstripe) and the donor's
corrected notice; races, crashes at each step, and Stripe's own word on each refund later."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from chalicelib.domain.errors import ConflictError, StewardError
from chalicelib.domain.gift_requests import RefundRequest
from chalicelib.services.clock import seconds_after, utc_now
from chalicelib.services.donations import Money
from chalicelib.services.ports import Payments, Repository
from chalicelib.services.refunds import RESUME_AFTER_SECONDS, refund_gift
from devstack.stack import Stack
from tests.faults import Crashing, ProcessDied
from tests.helpers import GIFT, Api, Mailbox, give, plain_text, wait_for
from tests.stripe_events import Signed, charge_refunded, refund_object
from tests.stripe_events import refund as refund_event

SECRET_KEY = "sk_test_steward_local"
NOTICE = "Corrected receipt"


def paid_gift(api: Api, stack: Stack, amount: int = 2500) -> tuple[str, str]:
    """A one-time gift paid through localstripe; (donation id, donor email)."""
    email = f"refund-{time.time_ns()}@example.org"
    donation_id, answer = give(api, stack, email=email, amount=amount)
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded", answer.text
    return donation_id, email


def post_refund(
    api: Api, token: Any, donation_id: str, body: Any, key: str | None = None, role: str = "finance"
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token(role)}"}
    if key:
        headers["Idempotency-Key"] = key
    return api.post(f"/staff/donations/{donation_id}/refunds", body, headers)


def staff_view(api: Api, token: Any, donation_id: str) -> dict[str, Any]:
    answer = api.get(f"/staff/donations/{donation_id}", token("finance"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def at_stripe(stack: Stack, payment_intent: str) -> list[dict[str, Any]]:
    listed = requests.get(
        f"{stack.config.stripe_url}/v1/refunds",
        params={"payment_intent": payment_intent, "limit": 100},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert listed.status_code == 200, listed.text
    return list(listed.json()["data"])


def notices(stack: Stack, email: str) -> list[Any]:
    return [m for m in Mailbox(stack).to(email) if str(m["Subject"]).startswith(NOTICE)]


def settled_notices(stack: Stack, email: str, count: int) -> list[Any]:
    """The corrected notices once `count` arrived, checked again after a pause for any extra."""
    wait_for(lambda: len(notices(stack, email)) >= count, timeout=20)
    time.sleep(1.5)
    return notices(stack, email)


def deliver(api: Api, signed: Signed) -> dict[str, Any]:
    answer = api.post("/webhooks/stripe", raw=signed.payload, headers=signed.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def audit_of(repo: Repository, donation_id: str) -> list[dict[str, Any]]:
    items = repo.client.query(  # type: ignore[attr-defined]
        TableName=repo.table,  # type: ignore[attr-defined]
        KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
        ExpressionAttributeValues={":pk": {"S": f"DONATION#{donation_id}"}, ":a": {"S": "AUDIT#"}},
    )["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def money(repo: Any, payments: Any, now: Any = utc_now) -> Money:
    from chalicelib.bootstrap import get_gift_mail

    return Money(repo, payments, get_gift_mail(), now)


def test_a_partial_refund_then_the_rest(api: Api, stack: Stack, token: Any, repo: Repository) -> None:
    donation_id, email = paid_gift(api, stack)
    first = post_refund(api, token, donation_id, {"amount": 1000, "reason": "requested_by_customer"})
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == 1000 and first.json()["status"] == "succeeded"
    gift = staff_view(api, token, donation_id)
    assert gift["display_status"] == "partially_refunded" and gift["refunded"] == 1000
    rest = post_refund(api, token, donation_id, {"reason": "duplicate", "note": "second half\nby phone"})
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == 1500
    gift = staff_view(api, token, donation_id)
    assert gift["display_status"] == "refunded" and gift["refunded"] == gift["amount"] == 2500
    assert gift["status"] == "succeeded"  # the payment itself stays paid
    assert sorted(r["amount"] for r in gift["refunds"]) == [1000, 1500]
    assert {r["actor"] for r in gift["refunds"]} == {"local-staff"}
    stripe_refunds = at_stripe(stack, gift["payment_intent_id"])
    assert len(stripe_refunds) == 2
    assert {r["metadata"]["refund_id"] for r in stripe_refunds} == {r["id"] for r in gift["refunds"]}
    assert {r["stripe_refund_id"] for r in gift["refunds"]} == {r["id"] for r in stripe_refunds}
    mails = settled_notices(stack, email, 2)
    assert len(mails) == 2
    texts = [plain_text(m) for m in mails]
    assert any("$10.00" in t and "Refunded in all" in t for t in texts)
    assert any("$15.00" in t and "$25.00" in t for t in texts)
    assert all(gift["receipt_number"] in t for t in texts)

    third = post_refund(api, token, donation_id, {"amount": 1, "reason": "other"})
    assert third.status_code == 409, third.text
    assert len(at_stripe(stack, gift["payment_intent_id"])) == 2
    assert len(staff_view(api, token, donation_id)["refunds"]) == 2


def test_the_gift_shows_its_history_with_who_refunded_it(api: Api, stack: Stack, token: Any) -> None:
    donation_id, _ = paid_gift(api, stack)
    assert (
        post_refund(api, token, donation_id, {"amount": 500, "reason": "requested_by_customer"}).status_code
        == 201
    )
    history = staff_view(api, token, donation_id)["history"]
    assert [entry["at"] for entry in history] == sorted(entry["at"] for entry in history)
    assert history[0]["actor"] == "donor" and history[0]["details"]["to_status"] == "pending"
    assert any(entry["details"].get("to_status") == "succeeded" for entry in history)
    last = history[-1]
    assert last["actor"] == "local-staff", last
    assert last["details"]["to_status"] == "partially_refunded"


def test_a_refund_over_what_is_left_is_409_naming_amount(api: Api, stack: Stack, token: Any) -> None:
    donation_id, _ = paid_gift(api, stack)
    assert post_refund(api, token, donation_id, {"amount": 2000, "reason": "other"}).status_code == 201
    over = post_refund(api, token, donation_id, {"amount": 501, "reason": "other"})
    assert over.status_code == 409, over.text
    assert [f["field"] for f in over.json()["error"]["fields"]] == ["amount"]
    gift = staff_view(api, token, donation_id)
    assert gift["refunded"] == 2000 and len(at_stripe(stack, gift["payment_intent_id"])) == 1


def test_a_gift_not_paid_cannot_be_refunded(api: Api, stack: Stack, token: Any) -> None:
    created = api.post("/donations", {**GIFT, "email": f"unpaid-{time.time_ns()}@example.org"})
    assert created.status_code == 201, created.text
    donation_id = created.json()["donation_id"]
    answer = post_refund(api, token, donation_id, {"reason": "other"})
    assert answer.status_code == 409, answer.text
    assert staff_view(api, token, donation_id)["refunds"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "100", "reason": "other"}, "amount"),
        ({"amount": 1.5, "reason": "other"}, "amount"),
        ({"amount": True, "reason": "other"}, "amount"),
        ({"amount": 0, "reason": "other"}, "amount"),
        ({"amount": -100, "reason": "other"}, "amount"),
        ({"reason": "because"}, "reason"),
        ({"reason": 3}, "reason"),
        ({}, "reason"),
        ({"reason": "other", "refund_all": True}, "refund_all"),
        ({"reason": "other", "note": "tab\tok but \x1b[31m not"}, "note"),
        ({"reason": "other", "note": "nul\x00"}, "note"),
        ({"reason": "other", "note": "c1\x85c1"}, "note"),
        ({"reason": "other", "note": "x" * 501}, "note"),
        ({"reason": "other", "note": 5}, "note"),
    ],
)
def test_bad_refund_bodies_are_422_naming_the_field(
    api: Api, stack: Stack, token: Any, body: dict[str, Any], field: str, refundable: str
) -> None:
    answer = post_refund(api, token, refundable, body)
    assert answer.status_code == 422, answer.text
    assert field in [f["field"] for f in answer.json()["error"]["fields"]], answer.text


@pytest.fixture(scope="module")
def refundable(api: Api, stack: Stack) -> str:
    return paid_gift(api, stack)[0]


def test_refunds_need_the_finance_or_admin_role(api: Api, stack: Stack, token: Any, refundable: str) -> None:
    body = {"amount": 100, "reason": "other"}
    for role in ("program:peace-programs", "communications"):
        assert post_refund(api, token, refundable, body, role=role).status_code == 403
    anonymous = api.post(f"/staff/donations/{refundable}/refunds", body)
    assert anonymous.status_code == 401
    gift = staff_view(api, token, refundable)
    assert gift["refunds"] == [] and at_stripe(stack, gift["payment_intent_id"]) == []


def test_the_same_idempotency_key_answers_the_same_refund(api: Api, stack: Stack, token: Any) -> None:
    donation_id, email = paid_gift(api, stack)
    body = {"amount": 700, "reason": "requested_by_customer"}
    first = post_refund(api, token, donation_id, body, key="refund-key-1")
    again = post_refund(api, token, donation_id, body, key="refund-key-1")
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    other = post_refund(api, token, donation_id, {**body, "amount": 800}, key="refund-key-1")
    assert other.status_code == 422, other.text
    assert [f["field"] for f in other.json()["error"]["fields"]] == ["Idempotency-Key"]
    other_reason = post_refund(api, token, donation_id, {**body, "reason": "duplicate"}, key="refund-key-1")
    assert other_reason.status_code == 422, other_reason.text
    other_note = post_refund(api, token, donation_id, {**body, "note": "another"}, key="refund-key-1")
    assert other_note.status_code == 422, other_note.text
    gift = staff_view(api, token, donation_id)
    assert len(gift["refunds"]) == 1 and gift["refunded"] == 700
    assert len(at_stripe(stack, gift["payment_intent_id"])) == 1
    assert len(settled_notices(stack, email, 1)) == 1


@pytest.mark.parametrize("racers", [2, 8])
def test_refunds_racing_never_take_more_than_was_paid(
    api: Api, stack: Stack, token: Any, repo: Repository, payments: Payments, racers: int
) -> None:
    donation_id, _ = paid_gift(api, stack)
    answers: list[object] = []
    start = threading.Barrier(racers)

    def one(index: int) -> None:
        start.wait()
        try:
            if index % 2:  # half through the API, half straight into the service
                answers.append(post_refund(api, token, donation_id, {"amount": 1500, "reason": "other"}))
            else:
                request = RefundRequest(amount=1500, reason="other")
                answers.append(refund_gift(donation_id, request, "racer", None, money(repo, payments)))
        except StewardError as exc:
            answers.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == racers
    gift = staff_view(api, token, donation_id)
    taken = [r for r in gift["refunds"] if r["status"] in ("requested", "pending", "succeeded")]
    assert len(taken) == 1 and gift["refunded"] == 1500 <= gift["amount"]
    stripe_refunds = at_stripe(stack, gift["payment_intent_id"])
    assert sum(r["amount"] for r in stripe_refunds) == 1500 and len(stripe_refunds) == 1
    for answer in answers:
        if isinstance(answer, requests.Response):
            assert answer.status_code in (201, 409, 503), answer.text


# Each step of a refund: the reservation's commit, the Stripe call, the record's commit.
CRASHES = [
    ("repo", "unit_of_work().commit", 1, False),
    ("repo", "unit_of_work().commit", 1, True),
    ("payments", "create_refund", 1, False),
    ("payments", "create_refund", 1, True),
    ("repo", "unit_of_work().commit", 2, False),
    ("repo", "unit_of_work().commit", 2, True),
]


@pytest.mark.parametrize(("port", "method", "nth", "after"), CRASHES)
@pytest.mark.parametrize("retry_key", [True, False], ids=["same-key", "no-key"])
def test_a_refund_that_crashed_at_any_step_ends_as_one_refund(
    api: Api,
    stack: Stack,
    token: Any,
    repo: Repository,
    payments: Payments,
    port: str,
    method: str,
    nth: int,
    after: bool,
    retry_key: bool,
) -> None:
    donation_id, email = paid_gift(api, stack)
    key = f"crash-{time.time_ns()}"
    request = RefundRequest(reason="requested_by_customer")
    crashing_repo = Crashing(repo, method, nth, after=after) if port == "repo" else repo
    crashing_payments = Crashing(payments, method, nth, after=after) if port == "payments" else payments
    with pytest.raises(ProcessDied):
        refund_gift(donation_id, request, "finance-ann", key, money(crashing_repo, crashing_payments))
    later = seconds_after(utc_now(), RESUME_AFTER_SECONDS + 5)
    if retry_key:
        # at once: a refund reserved by the request that died is not sent again while that
        # request holds its send (it may still be sending it): a 409; a minute later the
        # retry takes it over and sends it
        try:
            at_once = refund_gift(donation_id, request, "finance-ann", key, money(repo, payments))
            assert at_once.status == "succeeded"
        except ConflictError:
            assert len(at_stripe(stack, staff_view(api, token, donation_id)["payment_intent_id"])) <= 1
        done = refund_gift(donation_id, request, "finance-ann", key, money(repo, payments, lambda: later))
        assert done.status == "succeeded" and done.amount == 2500
    else:
        try:  # resumes the refund left `requested`, then finds nothing left for itself
            refund_gift(donation_id, request, "finance-ann", None, money(repo, payments, lambda: later))
        except ConflictError:
            pass
    gift = staff_view(api, token, donation_id)
    assert len(gift["refunds"]) == 1, gift["refunds"]
    assert gift["refunds"][0]["status"] == "succeeded" and gift["refunds"][0]["actor"] == "finance-ann"
    assert gift["refunded"] == 2500 and gift["display_status"] == "refunded"
    stripe_refunds = at_stripe(stack, gift["payment_intent_id"])
    assert len(stripe_refunds) == 1 and stripe_refunds[0]["amount"] == 2500
    assert stripe_refunds[0]["metadata"]["refund_id"] == gift["refunds"][0]["id"]
    assert len(settled_notices(stack, email, 1)) == 1


def test_stripe_confirming_a_refund_changes_nothing_more(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    donation_id, email = paid_gift(api, stack)
    made = post_refund(api, token, donation_id, {"amount": 900, "reason": "duplicate"}, key="confirm-1")
    assert made.status_code == 201, made.text
    refund = made.json()
    before = staff_view(api, token, donation_id)
    common = {
        "charge_id": before["charge_id"],
        "payment_intent_id": before["payment_intent_id"],
        "refund_id": refund["stripe_refund_id"],
        "amount": 900,
        "reason": "duplicate",
        "metadata": {"donation_id": donation_id, "refund_id": refund["id"]},
    }
    for event_type in ("refund.created", "refund.updated", "charge.refund.updated"):
        signed = refund_event(stack.webhook_secret, event_type=event_type, **common)  # type: ignore[arg-type]
        assert deliver(api, signed)["applied"] is False
        assert deliver(api, signed).get("duplicate") is True
    older = refund_event(stack.webhook_secret, event_type="charge.refund.updated", older=True, **common)
    assert deliver(api, older)["applied"] is False
    listed = refund_object(
        refund_id=refund["stripe_refund_id"],
        charge_id=before["charge_id"],
        payment_intent_id=before["payment_intent_id"],
        amount=900,
        reason="duplicate",
        metadata={"donation_id": donation_id, "refund_id": refund["id"]},
        older=True,
    )
    totals = charge_refunded(
        stack.webhook_secret,
        charge_id=before["charge_id"],
        payment_intent_id=before["payment_intent_id"],
        amount_refunded=900,
        refunds=[listed],
        older=True,
    )
    assert deliver(api, totals)["applied"] is False
    after = staff_view(api, token, donation_id)
    assert after["refunds"] == before["refunds"] and after["version"] == before["version"]
    assert len(settled_notices(stack, email, 1)) == 1


def test_a_refund_made_in_the_stripe_dashboard_gets_its_own_record(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    donation_id, email = paid_gift(api, stack)
    gift = staff_view(api, token, donation_id)
    made = requests.post(
        f"{stack.config.stripe_url}/v1/refunds",
        data={"payment_intent": gift["payment_intent_id"], "amount": 600},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert made.status_code == 200, made.text
    stripe_refund = made.json()
    signed = refund_event(
        stack.webhook_secret,
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        refund_id=stripe_refund["id"],
        amount=600,
        reason=None,
    )
    assert deliver(api, signed)["applied"] is True
    updated = refund_event(
        stack.webhook_secret,
        event_type="refund.updated",
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        refund_id=stripe_refund["id"],
        amount=600,
        reason=None,
    )
    assert deliver(api, updated)["applied"] is False
    gift = staff_view(api, token, donation_id)
    assert len(gift["refunds"]) == 1
    record = gift["refunds"][0]
    assert record["actor"] == "stripe" and record["stripe_refund_id"] == stripe_refund["id"]
    assert record["amount"] == 600 and record["status"] == "succeeded"
    assert gift["display_status"] == "partially_refunded" and gift["refunded"] == 600
    assert len(settled_notices(stack, email, 1)) == 1
    # staff may refund the rest; Stripe then holds both
    rest = post_refund(api, token, donation_id, {"reason": "other"})
    assert rest.status_code == 201 and rest.json()["amount"] == 1900, rest.text
    assert len(at_stripe(stack, gift["payment_intent_id"])) == 2
    assert staff_view(api, token, donation_id)["display_status"] == "refunded"


def test_a_refund_that_fails_later_at_stripe_gives_the_amount_back(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    donation_id, email = paid_gift(api, stack)
    made = post_refund(api, token, donation_id, {"amount": 1000, "reason": "requested_by_customer"})
    assert made.status_code == 201, made.text
    refund = made.json()
    gift = staff_view(api, token, donation_id)
    assert gift["display_status"] == "partially_refunded"
    failed = refund_event(
        stack.webhook_secret,
        event_type="refund.updated",
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        refund_id=refund["stripe_refund_id"],
        amount=1000,
        status="failed",
        failure_reason="expired_or_canceled_card",
        metadata={"donation_id": donation_id, "refund_id": refund["id"]},
    )
    assert deliver(api, failed)["applied"] is True
    gift = staff_view(api, token, donation_id)
    assert gift["display_status"] == "succeeded" and gift["refunded"] == 0
    assert gift["refunds"][0]["status"] == "failed"
    assert gift["refunds"][0]["failure_reason"] == "expired_or_canceled_card"
    # a late "succeeded" for the same refund does not bring it back
    late = refund_event(
        stack.webhook_secret,
        event_type="refund.updated",
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        refund_id=refund["stripe_refund_id"],
        amount=1000,
        metadata={"donation_id": donation_id, "refund_id": refund["id"]},
    )
    assert deliver(api, late)["applied"] is False
    assert staff_view(api, token, donation_id)["refunded"] == 0
    assert len(settled_notices(stack, email, 1)) == 1  # no second notice for the failure

    def alerts() -> list[Any]:
        return [m for m in Mailbox(stack).to("finance@example.org") if donation_id in str(m["Subject"])]

    alert = wait_for(lambda: alerts())  # finance hears the money did not go back
    assert len(alert) == 1 and "A refund failed" in str(alert[0]["Subject"])
    assert refund["id"] in plain_text(alert[0]) and "expired_or_canceled_card" in plain_text(alert[0])


def test_every_refund_audit_entry_names_its_actor(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    donation_id, _ = paid_gift(api, stack)
    headers = {"Authorization": f"Bearer {token('finance', subject='finance-bo')}"}
    made = api.post(f"/staff/donations/{donation_id}/refunds", {"amount": 500, "reason": "other"}, headers)
    assert made.status_code == 201, made.text
    gift = staff_view(api, token, donation_id)
    dashboard = refund_event(
        stack.webhook_secret,
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        amount=300,
    )
    assert deliver(api, dashboard)["applied"] is True
    entries = audit_of(repo, donation_id)
    assert all(e.get("actor") for e in entries), entries
    by_refund = {(e.get("refund_id"), e["actor"]) for e in entries if e.get("refund_id")}
    assert (made.json()["id"], "finance-bo") in by_refund
    staff_entries = [e for e in entries if e.get("refund_id") == made.json()["id"]]
    assert {e["actor"] for e in staff_entries} == {"finance-bo"}
    stripe_entries = [e for e in entries if e.get("refund_id") and e["refund_id"] != made.json()["id"]]
    assert stripe_entries and {e["actor"] for e in stripe_entries} == {"stripe"}


@pytest.mark.parametrize("racers", [2, 6])
def test_the_same_key_racing_sends_one_refund_to_stripe(
    api: Api, stack: Stack, token: Any, repo: Repository, payments: Payments, racers: int
) -> None:
    donation_id, email = paid_gift(api, stack)
    key = f"same-key-{time.time_ns()}"
    start = threading.Barrier(racers)
    answers: list[object] = []

    def one() -> None:
        start.wait()
        try:
            request = RefundRequest(amount=1000, reason="other")
            answers.append(refund_gift(donation_id, request, "racer", key, money(repo, payments)))
        except StewardError as exc:
            answers.append(exc)

    threads = [threading.Thread(target=one) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    gift = staff_view(api, token, donation_id)
    assert len(gift["refunds"]) == 1 and gift["refunded"] == 1000
    stripe_refunds = at_stripe(stack, gift["payment_intent_id"])
    assert [r["amount"] for r in stripe_refunds] == [1000], stripe_refunds
    assert len(settled_notices(stack, email, 1)) == 1


def test_refunds_racing_to_resume_a_stale_one_send_it_once(
    api: Api, stack: Stack, token: Any, repo: Repository, payments: Payments
) -> None:
    donation_id, _ = paid_gift(api, stack)
    request = RefundRequest(amount=1000, reason="other")
    dying = Crashing(payments, "create_refund", after=False)
    with pytest.raises(ProcessDied):
        refund_gift(donation_id, request, "finance-ann", "stale-one", money(repo, dying))
    stale_id = staff_view(api, token, donation_id)["refunds"][0]["id"]
    later = seconds_after(utc_now(), RESUME_AFTER_SECONDS + 5)
    start = threading.Barrier(4)

    def one() -> None:
        start.wait()
        try:
            small = RefundRequest(amount=300, reason="other")
            refund_gift(donation_id, small, "finance-bo", None, money(repo, payments, lambda: later))
        except StewardError:
            pass

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    gift = staff_view(api, token, donation_id)
    stripe_refunds = at_stripe(stack, gift["payment_intent_id"])
    assert [r["metadata"]["refund_id"] for r in stripe_refunds].count(stale_id) == 1
    assert sum(r["amount"] for r in stripe_refunds) == gift["refunded"] <= gift["amount"]
    stale = next(r for r in gift["refunds"] if r["id"] == stale_id)
    assert stale["status"] == "succeeded" and stale["actor"] == "finance-ann"
    entries = audit_of(repo, donation_id)
    assert all(e.get("actor") for e in entries)
    # asked for by finance-ann; taken over and sent by the request of finance-bo that resumed it
    assert [e["actor"] for e in entries if e.get("refund_id") == stale_id] == [
        "finance-ann",
        "finance-bo",
        "finance-bo",
    ]


def test_a_refund_stripe_refuses_is_409_and_counts_nothing(
    api: Api, stack: Stack, token: Any, repo: Repository
) -> None:
    donation_id, email = paid_gift(api, stack)
    gift = staff_view(api, token, donation_id)
    elsewhere = requests.post(  # refunded in the dashboard; its event has not arrived yet
        f"{stack.config.stripe_url}/v1/refunds",
        data={"payment_intent": gift["payment_intent_id"]},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert elsewhere.status_code == 200, elsewhere.text
    refused = post_refund(api, token, donation_id, {"amount": 500, "reason": "other"})
    assert refused.status_code == 409, refused.text
    gift = staff_view(api, token, donation_id)
    assert [r["status"] for r in gift["refunds"]] == ["failed"] and gift["refunds"][0]["failure_reason"]
    assert gift["refunded"] == 0 and gift["display_status"] == "succeeded"
    signed = refund_event(
        stack.webhook_secret,
        charge_id=gift["charge_id"],
        payment_intent_id=gift["payment_intent_id"],
        refund_id=elsewhere.json()["id"],
        amount=2500,
    )
    assert deliver(api, signed)["applied"] is True
    gift = staff_view(api, token, donation_id)
    assert gift["refunded"] == 2500 and gift["display_status"] == "refunded"
    assert len(at_stripe(stack, gift["payment_intent_id"])) == 1
    assert len(settled_notices(stack, email, 1)) == 1


def test_a_monthly_gifts_installment_is_refunded_like_a_one_time_gift(
    api: Api, stack: Stack, token: Any
) -> None:
    from tests.integration.test_recurring import monthly

    email = f"refund-monthly-{time.time_ns()}@example.org"
    donation_id, confirmed = monthly(api, stack, email)
    assert confirmed["status"] == "succeeded"
    made = post_refund(api, token, donation_id, {"reason": "requested_by_customer"})
    assert made.status_code == 201, made.text
    gift = staff_view(api, token, donation_id)
    assert gift["display_status"] == "refunded" and gift["refunded"] == gift["amount"]
    assert len(at_stripe(stack, gift["payment_intent_id"])) == 1
    assert len(settled_notices(stack, email, 1)) == 1
