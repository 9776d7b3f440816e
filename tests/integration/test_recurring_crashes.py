"""Starting a monthly gift dies at each step (a test hook stops it, as kill -9 would), then the
donor retries: one Customer, one Subscription, one first charge, one plan, one receipt."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.services.donations import confirm_donation, create_donation
from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.faults import Crashing, ProcessDied
from tests.helpers import CARD_DECLINED_AT_CHARGE, CARD_OK, GIFT, Api, confirm_card_setup
from tests.integration.test_confirm_crashes import stripe_list


def subscriptions_of(stack: Stack, plan_id: str) -> list[dict[str, Any]]:
    customers = [
        c for c in stripe_list(stack, "/v1/customers") if c["metadata"].get("recurring_id") == plan_id
    ]
    found = []
    for customer in customers:
        found += [
            s
            for s in stripe_list(stack, f"/v1/subscriptions?customer={customer['id']}&status=all")
            if s["metadata"].get("recurring_id") == plan_id
        ]
    return found


def started(api: Api, stack: Stack, email: str, card: str = CARD_OK) -> str:
    body = {**GIFT, "email": email, "frequency": "monthly"}
    created = api.post("/donations", body)
    assert created.status_code == 201, created.text
    assert confirm_card_setup(stack, created.json()["client_secret"], card).status_code == 200
    return str(created.json()["donation_id"])


CONFIRM_CRASHES = {
    "after the subscription is created": ("payments", "create_subscription", 1, True),
    # commit 1 takes the plan's start (see the next test); commit 2 records the first installment
    "before the plan and first installment are recorded": ("repo", "unit_of_work().commit", 2, False),
    "after they are recorded": ("repo", "unit_of_work().commit", 2, True),
}


@pytest.mark.parametrize("point", list(CONFIRM_CRASHES))
def test_a_retry_after_a_crash_starts_one_subscription(
    api: Api, stack: Stack, repo: Repository, payments: Payments, point: str, token: Any
) -> None:
    port, method, nth, after = CONFIRM_CRASHES[point]
    plan_id = started(api, stack, f"crash-{time.time_ns()}@example.org")
    ports: dict[str, Any] = {"repo": repo, "payments": payments}
    ports[port] = Crashing(ports[port], method, nth, after=after)
    with pytest.raises(ProcessDied):
        confirm_donation(plan_id, **ports)
    retried = api.post(f"/donations/{plan_id}/confirm", {})
    assert retried.status_code == 200 and retried.json()["status"] == "succeeded", retried.text
    assert api.post(f"/donations/{plan_id}/confirm", {}).json()["status"] == "succeeded"
    subscriptions = subscriptions_of(stack, plan_id)
    assert len(subscriptions) == 1 and subscriptions[0]["status"] == "active"
    state = api.get(f"/staff/recurring/{plan_id}", token()).json()
    assert state["status"] == "active" and state["subscription_id"] == subscriptions[0]["id"]
    assert len(state["installments"]) == 1 and state["installments"][0]["status"] == "succeeded"


def test_a_start_left_by_a_dead_confirm_is_taken_again_once_it_is_old(
    api: Api, stack: Stack, repo: Repository, payments: Payments, token: Any
) -> None:
    from chalicelib.services.clock import seconds_after, utc_now
    from chalicelib.services.recurring import STARTING_SECONDS

    plan_id = started(api, stack, f"start-crash-{time.time_ns()}@example.org")
    with pytest.raises(ProcessDied):
        confirm_donation(
            plan_id, repo=Crashing(repo, "unit_of_work().commit", 1, after=True), payments=payments
        )
    soon = api.post(f"/donations/{plan_id}/confirm", {})
    assert soon.status_code == 409, soon.text  # another confirm may still be creating it
    assert subscriptions_of(stack, plan_id) == []
    later = confirm_donation(
        plan_id, repo=repo, payments=payments, now=lambda: seconds_after(utc_now(), STARTING_SECONDS + 1)
    )
    assert later.status == "succeeded"
    assert [s["status"] for s in subscriptions_of(stack, plan_id)] == ["active"]


CREATE_CRASHES = {
    "after the customer is created": ("payments", "create_customer", 1, True),
    "after the SetupIntent is created": ("payments", "create_setup_intent", 1, True),
    "before the plan is recorded": ("repo", "unit_of_work().commit", 1, False),
}


@pytest.mark.parametrize("point", list(CREATE_CRASHES))
def test_a_retried_start_makes_one_customer_and_one_plan(
    api: Api, stack: Stack, repo: Repository, payments: Payments, point: str
) -> None:
    from chalicelib.domain.donation_forms import donation_form
    from chalicelib.domain.gift_requests import DonationRequest

    port, method, nth, after = CREATE_CRASHES[point]
    email = f"create-crash-{time.time_ns()}@example.org"
    request = donation_form(
        DonationRequest.model_validate(
            {**GIFT, "email": email, "frequency": "monthly", "form_token": "x"}
        ).model_dump()
    )
    key = f"key-{time.time_ns()}"
    ports: dict[str, Any] = {"repo": repo, "payments": payments}
    ports[port] = Crashing(ports[port], method, nth, after=after)
    with pytest.raises(ProcessDied):
        create_donation(request, key, **ports)
    created = create_donation(request, key, repo=repo, payments=payments)
    again = create_donation(request, key, repo=repo, payments=payments)
    assert again.donation_id == created.donation_id and again.client_secret == created.client_secret
    plan = repo.get_plan(created.donation_id)
    assert plan is not None and plan.status == "incomplete"
    customers = [
        c for c in stripe_list(stack, "/v1/customers") if c["metadata"].get("recurring_id") == plan.id
    ]
    assert [c["id"] for c in customers] == [plan.customer_id]


def test_a_first_installment_declined_fails_the_gift_and_ends_the_plan(
    api: Api, stack: Stack, token: Any
) -> None:
    plan_id = started(api, stack, f"declined-{time.time_ns()}@example.org", CARD_DECLINED_AT_CHARGE)
    answer = api.post(f"/donations/{plan_id}/confirm", {})
    assert answer.status_code == 200 and answer.json()["status"] == "failed"
    assert answer.json()["failure_reason"]
    state = api.get(f"/staff/recurring/{plan_id}", token()).json()
    assert state["status"] == "canceled"  # an incomplete subscription never charges later
    assert [s["status"] for s in subscriptions_of(stack, plan_id)] == ["canceled"]
    again = api.post(f"/donations/{plan_id}/confirm", {})
    assert again.json()["status"] == "failed"  # settled: nothing more at Stripe
    assert len(subscriptions_of(stack, plan_id)) == 1


@pytest.mark.parametrize(
    ("port", "method", "after"),
    [("payments", "cancel_subscription", True), ("repo", "unit_of_work().commit", False)],
    ids=["after Stripe ended it", "before it is recorded"],
)
def test_a_cancel_that_died_half_way_ends_the_plan_once(
    api: Api,
    stack: Stack,
    repo: Repository,
    payments: Payments,
    port: str,
    method: str,
    after: bool,
    token: Any,
) -> None:
    from chalicelib.bootstrap import get_gift_mail
    from chalicelib.services.donations import Money
    from chalicelib.services.recurring import cancel_plan
    from tests.helpers import Mailbox, wait_for

    email = f"cancel-crash-{time.time_ns()}@example.org"
    plan_id = started(api, stack, email)
    assert api.post(f"/donations/{plan_id}/confirm", {}).json()["status"] == "succeeded"
    ports: dict[str, Any] = {"repo": repo, "payments": payments}
    ports[port] = Crashing(ports[port], method, 1, after=after)
    with pytest.raises(ProcessDied):
        cancel_plan(plan_id, Money(ports["repo"], ports["payments"], get_gift_mail()))
    cancel_plan(plan_id, Money(repo, payments, get_gift_mail()))  # the donor presses again
    cancel_plan(plan_id, Money(repo, payments, get_gift_mail()))
    state = api.get(f"/staff/recurring/{plan_id}", token()).json()
    assert state["status"] == "canceled"
    assert [s["status"] for s in subscriptions_of(stack, plan_id)] == ["canceled"]
    mails = wait_for(lambda: (m := Mailbox(stack).to(email)) and len(m) >= 2 and m)
    time.sleep(1)
    ended = [m for m in Mailbox(stack).to(email) if "cancel" in str(m["Subject"]).lower()]
    assert len(ended) == 1, [str(m["Subject"]) for m in mails]
