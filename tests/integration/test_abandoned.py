"""The scheduled sweep: gifts left pending are marked abandoned, left out of lists by default,
and a late payment on one still records the money."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.domain.donation import Donation
from chalicelib.domain.ids import new_id
from chalicelib.services.clock import format_time
from chalicelib.services.donations import confirm_donation
from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from devstack.stream_poller import scheduled_event
from tests.faults import Crashing, ProcessDied
from tests.helpers import GIFT, Api, confirm_card_setup, event, sign, store


def ago(**delta: float) -> str:
    return format_time(datetime.now(UTC) - timedelta(**delta))


def stored_gift(repo: Repository, created_at: str, **values: Any) -> str:
    gift = Donation(
        id=new_id(),
        amount=2500,
        currency="usd",
        fund="peace-programs",
        email="late@example.org",
        first_name="Late",
        last_name="Donor",
        created_at=created_at,
        updated_at=created_at,
        **values,
    )
    repo.create_donation(gift, None)
    return gift.id


def run_sweep() -> dict[str, Any]:
    from app import app

    with Client(app) as client:
        answer = client.lambda_.invoke("donation_sweep", scheduled_event())
    payload: dict[str, Any] = answer.payload
    return payload


def status(repo: Repository, donation_id: str) -> str:
    gift = repo.get_donation(donation_id)
    assert gift is not None
    return gift.status


def audit_of(repo: Repository, donation_id: str) -> list[dict[str, Any]]:
    return repo.client.query(  # type: ignore[attr-defined,no-any-return]
        TableName=repo.table,  # type: ignore[attr-defined]
        KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
        ExpressionAttributeValues={":pk": {"S": f"DONATION#{donation_id}"}, ":a": {"S": "AUDIT#"}},
    )["Items"]


@pytest.fixture(scope="module")
def swept(repo: Repository) -> dict[str, str]:
    gifts = {
        "day_old": stored_gift(repo, ago(hours=25), setup_intent_id="seti_day_old"),
        "no_setup_hour_old": stored_gift(repo, ago(minutes=61)),
        "hours_old_with_setup": stored_gift(repo, ago(hours=2), setup_intent_id="seti_waiting"),
        "fresh_no_setup": stored_gift(repo, ago(minutes=10)),
        "paid_day_old": stored_gift(
            repo, ago(hours=26), setup_intent_id="seti_paid", status="succeeded", succeeded_at=ago(hours=26)
        ),
    }
    result = run_sweep()
    assert result["abandoned"] >= 0
    return gifts


def test_the_sweep_marks_gifts_left_pending_abandoned(repo: Repository, swept: dict[str, str]) -> None:
    assert status(repo, swept["day_old"]) == "abandoned"
    assert status(repo, swept["no_setup_hour_old"]) == "abandoned"
    assert status(repo, swept["hours_old_with_setup"]) == "pending"
    assert status(repo, swept["fresh_no_setup"]) == "pending"
    assert status(repo, swept["paid_day_old"]) == "succeeded"
    entries = audit_of(repo, swept["day_old"])
    marks = [a for a in entries if a["to_status"]["S"] == "abandoned"]
    assert len(marks) == 1 and marks[0]["actor"]["S"] == "system"
    run_sweep()  # a second run changes nothing
    assert len(audit_of(repo, swept["day_old"])) == len(entries)


def test_lists_leave_abandoned_gifts_out_unless_asked(api: Api, swept: dict[str, str], token) -> None:
    start = ago(hours=27)[:19] + "Z"
    end = ago(seconds=0)[:19] + "Z"
    listed = api.get("/staff/donations", token(), **{"from": start, "to": end, "limit": 200})
    assert listed.status_code == 200, listed.text
    ids = _all_ids(api, token(), start, end)
    assert swept["day_old"] not in ids and swept["no_setup_hour_old"] not in ids
    assert swept["hours_old_with_setup"] in ids and swept["paid_day_old"] in ids
    everything = _all_ids(api, token(), start, end, include_abandoned="true")
    assert swept["day_old"] in everything and swept["no_setup_hour_old"] in everything
    bad = api.get("/staff/donations", token(), **{"from": start, "to": end, "include_abandoned": "maybe"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "include_abandoned"


def _all_ids(api: Api, bearer: str, start: str, end: str, **extra: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params = {"from": start, "to": end, "limit": 200, **extra, **({"cursor": cursor} if cursor else {})}
        page = api.get("/staff/donations", bearer, **params).json()
        ids.extend(item["id"] for item in page["items"])
        cursor = page["cursor"]
        if not cursor:
            return ids


def _backdate(repo: Repository, donation_id: str, hours: int) -> None:
    gift = repo.get_donation(donation_id)
    assert gift is not None
    old = gift.model_copy(update={"created_at": ago(hours=hours), "version": gift.version + 1})
    store(repo, old, gift.version)


def test_a_gift_whose_payment_went_through_is_recorded_not_abandoned(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    created = api.post("/donations", GIFT).json()
    assert confirm_card_setup(stack, created["client_secret"], "4242424242424242").status_code == 200
    crashing = Crashing(payments, "confirm_payment_intent")
    with pytest.raises(ProcessDied):  # charged, but the process died before saving it
        confirm_donation(created["donation_id"], repo=repo, payments=crashing)  # type: ignore[arg-type]
    _backdate(repo, created["donation_id"], 25)
    run_sweep()
    gift = repo.get_donation(created["donation_id"])
    assert gift is not None and gift.status == "succeeded" and gift.charge_id


def test_a_late_payment_on_an_abandoned_gift_still_records_the_money(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    created = api.post("/donations", GIFT).json()
    assert confirm_card_setup(stack, created["client_secret"], "4242424242424242").status_code == 200
    donation_id = created["donation_id"]
    _backdate(repo, donation_id, 25)
    run_sweep()
    assert status(repo, donation_id) == "abandoned"
    assert api.post(f"/donations/{donation_id}/confirm", {}).json()["status"] == "abandoned"
    # a PaymentIntent for this gift that was confirmed elsewhere (e.g. a request still in flight)
    gift = repo.get_donation(donation_id)
    assert gift is not None and gift.setup_intent_id
    setup = payments.retrieve_setup_intent(gift.setup_intent_id)
    assert setup.payment_method
    intent = payments.create_payment_intent(gift, setup.payment_method)
    payments.confirm_payment_intent(intent.id)
    obj = requests.get(
        f"{stack.config.stripe_url}/v1/payment_intents/{intent.id}",
        auth=("sk_test_steward_local", ""),
        timeout=10,
    ).json()
    payload = event("payment_intent.succeeded", obj)
    answer = api.post(
        "/webhooks/stripe", raw=payload, headers={"Stripe-Signature": sign(payload, stack.webhook_secret)}
    )
    assert answer.status_code == 200 and answer.json()["applied"] is True
    paid = repo.get_donation(donation_id)
    assert paid is not None and paid.status == "succeeded" and paid.succeeded_at


class CountingClient:
    """A boto3 client that counts the queries made through it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != "query":
            return attribute

        def query(**kwargs: Any) -> Any:
            self.queries += 1
            return attribute(**kwargs)

        return query


def test_a_list_page_over_many_abandoned_gifts_makes_a_bounded_number_of_queries(
    repo: Repository,
) -> None:
    import random

    from chalicelib.adapters.dynamo import DynamoRepository
    from chalicelib.adapters.dynamo_find import QUERIES_PER_PAGE

    month = f"20{random.randint(10, 19)}-{random.randint(1, 12):02d}"  # a month no other test uses
    left = [stored_gift(repo, f"{month}-02T00:00:{n:02d}.000Z", status="abandoned") for n in range(40)]
    paid = stored_gift(repo, f"{month}-03T00:00:00.000Z", status="succeeded")
    client = CountingClient(repo.client)  # type: ignore[attr-defined]
    counted = DynamoRepository(repo.table, client)  # type: ignore[attr-defined]
    start, end = f"{month}-01T00:00:00.000Z", f"{month}-28T23:59:59.999Z"
    found: list[str] = []
    cursor, pages = None, 0
    while pages < 100:
        client.queries = 0
        page = counted.list_donations(start, end, 1, cursor)
        assert client.queries <= QUERIES_PER_PAGE, client.queries  # never the whole month
        found += [d.id for d in page.items]
        cursor, pages = page.cursor, pages + 1
        if cursor is None:
            break
    assert found == [paid]
    assert not set(left) & set(found)


def test_a_donor_who_finishes_3d_secure_after_the_sweep_is_told_the_gift_went_through(
    api: Api, stack: Stack, repo: Repository
) -> None:
    created = api.post("/donations", GIFT).json()
    secret, donation_id = created["client_secret"], created["donation_id"]
    assert confirm_card_setup(stack, secret, "4000002500003155").json()["status"] == "requires_action"
    requests.post(  # Stripe.js's confirmCardSetup, after the 3-D Secure challenge
        f"{stack.config.stripe_url}/v1/setup_intents/{secret.split('_secret_')[0]}/confirm",
        json={"key": "pk_test_steward_local", "use_stripe_sdk": True, "client_secret": secret},
        timeout=10,
    ).raise_for_status()
    first = api.post(f"/donations/{donation_id}/confirm", {}).json()
    assert first["status"] == "requires_action"
    _backdate(repo, donation_id, 25)  # the donor left the 3-D Secure step open for a day
    run_sweep()
    assert status(repo, donation_id) == "abandoned"
    lost = urllib.parse.urlencode({"url": "http://127.0.0.1:9/lost", "secret": stack.webhook_secret})
    requests.post(f"{stack.config.stripe_url}/_config/webhooks/steward", data=lost, timeout=10)
    try:  # the webhook does not arrive: only the donor's page asks
        intent = first["client_secret"].split("_secret_")[0]
        requests.post(  # Stripe.js's confirmCardPayment, after the challenge
            f"{stack.config.stripe_url}/v1/payment_intents/{intent}/_authenticate?success=true",
            json={"key": "pk_test_steward_local", "client_secret": first["client_secret"]},
            timeout=10,
        ).raise_for_status()
        answer = api.post(f"/donations/{donation_id}/confirm", {})
    finally:
        stack.register_webhook()
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded"
    paid = repo.get_donation(donation_id)
    assert paid is not None and paid.status == "succeeded" and paid.charge_id and paid.succeeded_at


def test_a_gift_whose_payment_intent_stripe_does_not_know_is_abandoned(repo: Repository) -> None:
    """Stripe has no such PaymentIntent (another account, a test key): no money can come
    through it, so the gift is given up instead of blocking the head of the sweep forever."""
    unknown = stored_gift(repo, ago(hours=30), setup_intent_id="seti_gone", payment_intent_id="pi_unknown_x")
    run_sweep()
    assert status(repo, unknown) == "abandoned"


def test_a_replayed_create_of_an_abandoned_gift_hands_out_no_setup_intent(
    stack: Stack, repo: Repository, payments: Payments
) -> None:
    """The first POST /donations stored the gift but Stripe failed before its SetupIntent; the
    sweep gave it up after an hour. A retry with the same Idempotency-Key must not hand out a
    SetupIntent for it: the donor would save a card for a gift that can never be charged."""
    import hashlib
    import uuid

    from chalicelib.domain.errors import ConflictError, UpstreamError
    from chalicelib.services.donations import create_donation
    from tests.faults import Failing
    from tests.integration.test_card_testing import gift_request

    request, key = gift_request(stack), f"replay-{uuid.uuid4()}"
    down = Failing(payments, "create_setup_intent", UpstreamError("injected: Stripe unavailable"))
    with pytest.raises(UpstreamError):
        create_donation(request, key, repo=repo, payments=down)  # type: ignore[arg-type]
    record = repo.get_idempotency(hashlib.sha256(key.encode()).hexdigest())
    gift = repo.get_donation(record.donation_id) if record else None
    assert gift is not None and gift.setup_intent_id is None
    abandoned = gift.model_copy(update={"status": "abandoned", "version": gift.version + 1})
    store(repo, abandoned, gift.version)  # the sweep, an hour later
    with pytest.raises(ConflictError):
        create_donation(request, key, repo=repo, payments=payments)
    stored = repo.get_donation(gift.id)
    assert stored is not None and stored.status == "abandoned" and stored.setup_intent_id is None


def test_a_monthly_gift_left_pending_ends_its_plan(api: Api, repo: Repository, token) -> None:
    """A monthly gift whose card was never saved is given up, and its plan with it: the plan
    never waits for ever as `incomplete`."""
    created = api.post("/donations", {**GIFT, "frequency": "monthly"}).json()
    plan_id = created["donation_id"]
    assert repo.get_plan(plan_id).status == "incomplete"  # type: ignore[union-attr]
    _backdate(repo, plan_id, 30)
    run_sweep()
    assert status(repo, plan_id) == "abandoned"
    state = api.get(f"/staff/recurring/{plan_id}", token()).json()
    assert state["status"] == "canceled" and state["canceled_at"]


def test_a_pending_gift_stored_in_another_shape_holds_up_no_other_gift(repo: Repository) -> None:
    """A gift item edited by hand (a boolean saved as a number) is refused where it is read;
    the sweep leaves it, and abandons the gifts behind it as ever."""
    odd = stored_gift(repo, ago(hours=40), setup_intent_id="seti_odd")
    behind = stored_gift(repo, ago(hours=39), setup_intent_id="seti_behind")
    client: Any = repo.client  # type: ignore[attr-defined]
    key = {"pk": {"S": f"DONATION#{odd}"}, "sk": {"S": "DONATION"}}
    table = repo.table  # type: ignore[attr-defined]

    def edit(value: dict[str, Any]) -> None:
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET anonymous = :value",
            ExpressionAttributeValues={":value": value},
        )

    edit({"N": "1"})
    try:
        result = run_sweep()
        assert result["abandoned"] >= 1
        assert status(repo, behind) == "abandoned"
    finally:
        edit({"BOOL": True})  # the rest of the session lists this month
    assert status(repo, odd) == "pending"
