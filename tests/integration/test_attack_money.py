"""What a careless donor, a hurried clerk or an attacker does to the money flows, against the
local stack: double clicks, races and odd input end in one record, one charge, one email."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from devstack.stack import Stack
from tests.helpers import Api
from tests.integration.test_recurring_crashes import started, subscriptions_of


def test_confirms_of_a_monthly_gift_at_once_start_one_subscription(
    api: Api, stack: Stack, token: Any
) -> None:
    plan_id = started(api, stack, f"double-click-{time.time_ns()}@example.org")
    answers: list[requests.Response] = []

    def confirm() -> None:
        answers.append(
            requests.post(
                f"{stack.config.api_url}/donations/{plan_id}/confirm",
                data=b"{}",
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        )

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    assert any(a.status_code == 200 and a.json()["status"] == "succeeded" for a in answers)
    subscriptions = subscriptions_of(stack, plan_id)
    assert [s["status"] for s in subscriptions] == ["active"]  # one charge, none unrecorded
    state = api.get(f"/staff/recurring/{plan_id}", token()).json()
    assert state["subscription_id"] == subscriptions[0]["id"]
    assert api.post(f"/donations/{plan_id}/confirm", {}).json()["status"] == "succeeded"
