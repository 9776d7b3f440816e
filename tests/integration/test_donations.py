"""One-time gifts end to end against DynamoDB Local and localstripe."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from chalicelib.services.ports import Repository
from devstack.stack import Stack
from tests.helpers import (
    CARD_DECLINED_AT_ATTACH,
    CARD_DECLINED_AT_CHARGE,
    GIFT,
    Api,
    confirm_card_setup,
    give,
    wait_for,
)


def _event_processed(stack: Stack, repo: Repository, event_type: str, payment_intent: str) -> bool:
    """Whether localstripe's event of this type for the PaymentIntent is stored, processed
    (its ids from localstripe's event list, then one GetItem each: no Scan)."""
    answer = requests.get(
        f"{stack.config.stripe_url}/v1/events",
        params={"type": event_type, "limit": 100},
        headers={"Authorization": f"Bearer {stack.app_env()['STEWARD_STRIPE_SECRET_KEY']}"},
        timeout=10,
    )
    answer.raise_for_status()
    ids = [e["id"] for e in answer.json()["data"] if e["data"]["object"].get("id") == payment_intent]
    client = repo.client  # type: ignore[attr-defined]
    for event_id in ids:
        key = {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}}
        item = client.get_item(TableName=repo.table, Key=key, ConsistentRead=True).get("Item")  # type: ignore[attr-defined]
        if item and item["processed"]["BOOL"]:
            return True
    return False


def test_full_flow_records_success_with_fee_and_net(api: Api, stack: Stack, repo: Repository, token) -> None:
    donation_id, confirmed = give(api, stack)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "succeeded"

    gift = api.get(f"/staff/donations/{donation_id}", token()).json()
    assert gift["status"] == "succeeded"
    assert gift["payment_intent_id"].startswith("pi_")
    assert gift["charge_id"].startswith("ch_")
    assert gift["fee"] == 0 and gift["net"] == GIFT["amount"]  # localstripe charges no fee
    # localstripe's own signed webhook arrives and is stored once, processed.
    wait_for(lambda: _event_processed(stack, repo, "payment_intent.succeeded", gift["payment_intent_id"]))
    assert api.get(f"/staff/donations/{donation_id}", token()).json()["version"] == gift["version"]


def test_card_declined_at_charge_ends_failed(api: Api, stack: Stack, repo: Repository, token) -> None:
    donation_id, confirmed = give(api, stack, CARD_DECLINED_AT_CHARGE)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "failed"
    assert "declined" in confirmed.json()["failure_reason"]
    gift = api.get(f"/staff/donations/{donation_id}", token()).json()
    assert gift["status"] == "failed"
    assert gift["failure_reason"] == confirmed.json()["failure_reason"]
    again = api.post(f"/donations/{donation_id}/confirm", {})
    assert again.json() == confirmed.json()  # a repeated confirm answers the same


def test_card_declined_at_attach_shows_error_and_records_no_success(api: Api, stack: Stack, token) -> None:
    created = api.post("/donations", GIFT).json()
    setup = confirm_card_setup(stack, created["client_secret"], CARD_DECLINED_AT_ATTACH)
    assert setup.status_code == 402
    assert "declined" in setup.json()["error"]["message"]
    confirmed = api.post(f"/donations/{created['donation_id']}/confirm", {})
    assert confirmed.status_code == 409
    assert api.get(f"/staff/donations/{created['donation_id']}", token()).json()["status"] == "pending"


def test_double_submit_creates_one_gift_and_one_payment_intent(
    api: Api, stack: Stack, repo: Repository
) -> None:
    headers = {"Idempotency-Key": "form-7f3a-double-submit"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: api.post("/donations", GIFT, headers), range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["donation_id"] for a in answers}) == 1
    assert len({a.json()["client_secret"] for a in answers}) == 1
    body = answers[0].json()
    assert confirm_card_setup(stack, body["client_secret"], "4242424242424242").status_code == 200

    path = f"/donations/{body['donation_id']}/confirm"
    with ThreadPoolExecutor(8) as pool:
        confirms = list(pool.map(lambda _: api.post(path, {}), range(8)))
    assert {c.status_code for c in confirms} <= {200, 409}
    assert wait_for(lambda: api.post(path, {}).json().get("status") == "succeeded")

    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    intents = [
        pi.to_dict()
        for pi in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        if pi.to_dict()["metadata"].get("donation_id") == body["donation_id"]
    ]
    # concurrent confirms may each create one, unconfirmed; only the recorded one is confirmed,
    # and the others are canceled (real Stripe answers the same idempotency key with one)
    live = [pi for pi in intents if pi["status"] != "canceled"]
    assert [pi["status"] for pi in live] == ["succeeded"]
    recorded = repo.get_donation(body["donation_id"])
    assert recorded is not None and recorded.payment_intent_id == live[0]["id"]


def test_same_key_with_another_body_is_refused(api: Api) -> None:
    headers = {"Idempotency-Key": "form-reused-key"}
    assert api.post("/donations", GIFT, headers).status_code == 201
    other = api.post("/donations", {**GIFT, "amount": 9900}, headers)
    assert other.status_code == 422
    assert other.json()["error"]["fields"][0]["field"] == "Idempotency-Key"


def test_unknown_gift_and_malformed_id(api: Api, token) -> None:
    assert api.post("/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {}).status_code == 404
    missing = api.get("/donations-nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "not_found",
            "message": "no such route",
            "fields": [{"field": "path", "message": "no route matches this path"}],
        }
    }
    bad = api.get("/staff/donations/not-an-id", token())
    assert bad.status_code == 404
    assert bad.json()["error"]["fields"][0]["field"] == "donation_id"


def test_card_testing_is_braked_after_repeated_declines(api: Api, stack: Stack, repo: Repository) -> None:
    from chalicelib.bootstrap import get_outreach_repository, get_payments, get_settings
    from chalicelib.domain.errors import RateLimitedError
    from chalicelib.services.donations import confirm_donation
    from chalicelib.services.forms import DeclineGuard

    guard = DeclineGuard(
        get_outreach_repository(), get_settings().keys, 3600, 2, f"203.0.113.{uuid.uuid4().int % 250}"
    )

    def saved_card(card: str) -> str:
        created = api.post("/donations", GIFT).json()
        assert confirm_card_setup(stack, created["client_secret"], card).status_code == 200
        return str(created["donation_id"])

    for _ in range(2):
        result = confirm_donation(
            saved_card(CARD_DECLINED_AT_CHARGE), repo=repo, payments=get_payments(), guard=guard
        )
        assert result.status == "failed"
    blocked = saved_card("4242424242424242")
    with pytest.raises(RateLimitedError):
        confirm_donation(blocked, repo=repo, payments=get_payments(), guard=guard)
    assert repo.get_donation(blocked).status == "pending"  # no card was charged
    other_ip = DeclineGuard(get_outreach_repository(), get_settings().keys, 3600, 2, "192.0.2.1")
    assert confirm_donation(blocked, repo=repo, payments=get_payments(), guard=other_ip).status == "succeeded"


def test_a_donor_address_is_one_that_can_be_mailed(api: Api, token) -> None:
    refused = api.post("/donations", {**GIFT, "email": "用户@example.org"})
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["error"]["fields"]] == ["email"]
    created = api.post("/donations", {**GIFT, "email": "Ada@Bücher.example"})
    assert created.status_code == 201, created.text
    gift = api.get(f"/staff/donations/{created.json()['donation_id']}", token()).json()
    assert gift["email"] == "Ada@xn--bcher-kva.example"  # the receipt's To, as SES takes it
