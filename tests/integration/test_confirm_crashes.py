"""Confirm dies at each step (a test hook stops it, as kill -9 would), then the donor retries:
one PaymentIntent succeeds, one charge exists, and the gift records that one."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from chalicelib.services.donations import confirm_donation
from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.faults import Crashing, ProcessDied
from tests.helpers import CARD_OK, GIFT, Api, confirm_card_setup


def saved_card(api: Api, stack: Stack, card: str = CARD_OK) -> str:
    created = api.post("/donations", GIFT).json()
    assert confirm_card_setup(stack, created["client_secret"], card).status_code == 200
    return str(created["donation_id"])


def stripe_list(stack: Stack, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = requests.get(
            f"{stack.config.stripe_url}{path}",
            params=params,
            auth=("sk_test_steward_local", ""),
            timeout=10,
        ).json()
        found.extend(page["data"])
        if not page.get("has_more"):
            return found
        params["starting_after"] = page["data"][-1]["id"]


def intents_of(stack: Stack, donation_id: str) -> list[dict[str, Any]]:
    return [
        pi
        for pi in stripe_list(stack, "/v1/payment_intents")
        if pi["metadata"].get("donation_id") == donation_id
    ]


def assert_charged_once(stack: Stack, repo: Repository, donation_id: str) -> None:
    intents = intents_of(stack, donation_id)
    succeeded = [pi for pi in intents if pi["status"] == "succeeded"]
    assert len(succeeded) == 1, [(pi["id"], pi["status"]) for pi in intents]
    assert all(pi["latest_charge"] is None for pi in intents if pi not in succeeded)
    ours = {pi["id"] for pi in intents}
    charges = [c for c in stripe_list(stack, "/v1/charges") if c["payment_intent"] in ours]
    assert len(charges) == 1
    gift = repo.get_donation(donation_id)
    assert gift is not None and gift.status == "succeeded"
    assert gift.payment_intent_id == succeeded[0]["id"] and gift.charge_id == charges[0]["id"]


# (port, method, nth call, dies after the call answered)
CRASH_POINTS = {
    "after the PaymentIntent is created": ("payments", "create_payment_intent", 1, True),
    "after its id is recorded": ("repo", "unit_of_work().commit", 1, True),
    "after it is confirmed": ("payments", "confirm_payment_intent", 1, True),
    "before the final save": ("repo", "unit_of_work().commit", 2, False),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_retry_after_a_crash_charges_once(
    api: Api, stack: Stack, repo: Repository, payments: Payments, point: str
) -> None:
    port, method, nth, after = CRASH_POINTS[point]
    donation_id = saved_card(api, stack)
    ports: dict[str, Any] = {"repo": repo, "payments": payments}
    ports[port] = Crashing(ports[port], method, nth, after=after)
    with pytest.raises(ProcessDied):
        confirm_donation(donation_id, **ports)
    retried = confirm_donation(donation_id, repo=repo, payments=payments)
    assert retried.status == "succeeded"
    assert_charged_once(stack, repo, donation_id)
    # and over HTTP, as the donor's browser retries
    again = api.post(f"/donations/{donation_id}/confirm", {})
    assert again.status_code == 200 and again.json()["status"] == "succeeded"
    assert_charged_once(stack, repo, donation_id)


def test_three_d_secure_confirms_the_recorded_intent_once(api: Api, stack: Stack, repo: Repository) -> None:
    created = api.post("/donations", GIFT).json()
    secret = created["client_secret"]
    assert confirm_card_setup(stack, secret, "4000002500003155").json()["status"] == "requires_action"
    authenticated = requests.post(  # Stripe.js's confirmCardSetup, after the 3-D Secure challenge
        f"{stack.config.stripe_url}/v1/setup_intents/{secret.split('_secret_')[0]}/confirm",
        json={"key": "pk_test_steward_local", "use_stripe_sdk": True, "client_secret": secret},
        timeout=10,
    )
    assert authenticated.json()["status"] == "succeeded"
    donation_id = created["donation_id"]
    first = api.post(f"/donations/{donation_id}/confirm", {}).json()
    assert first["status"] == "requires_action" and first["client_secret"].startswith("pi_")
    assert api.post(f"/donations/{donation_id}/confirm", {}).json() == first  # not confirmed twice
    intent = first["client_secret"].split("_secret_")[0]
    authenticated = requests.post(  # Stripe.js's confirmCardPayment, after the challenge
        f"{stack.config.stripe_url}/v1/payment_intents/{intent}/_authenticate?success=true",
        json={"key": "pk_test_steward_local", "client_secret": first["client_secret"]},
        timeout=10,
    )
    assert authenticated.status_code == 200, authenticated.text
    assert api.post(f"/donations/{donation_id}/confirm", {}).json()["status"] == "succeeded"
    assert_charged_once(stack, repo, donation_id)
