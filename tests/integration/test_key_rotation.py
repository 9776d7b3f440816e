"""Rotating the signing key: links and form tokens already out keep working through the grace
period, and a subscriber keeps its identity."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.domain.tokens import email_id
from devstack.stack import Stack
from tests.helpers import Api, Mailbox

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@contextmanager
def rotated_app(stack: Stack, grace_until: str) -> Iterator[Client]:
    """The app as it runs after a rotation: a new master key, the old one kept until `grace_until`."""
    env = stack.app_env()
    saved = dict(os.environ)
    os.environ.update(
        {
            "STEWARD_SIGNING_KEY": secrets.token_hex(32),
            "STEWARD_SIGNING_KEY_ID": "local2",
            "STEWARD_PREVIOUS_SIGNING_KEYS": (
                f"{env['STEWARD_SIGNING_KEY_ID']}={env['STEWARD_SIGNING_KEY']}={grace_until}"
            ),
        }
    )
    bootstrap.reset()
    from app import app

    try:
        with Client(app) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(saved)
        bootstrap.reset()


def subscribe(api: Api, mailbox: Mailbox, form_token: str) -> tuple[str, str]:
    email = f"rotate-{uuid.uuid4().hex[:10]}@example.org"
    assert api.post("/signups", {"email": email, "form_token": form_token}).status_code == 202
    link = mailbox.wait_to(email)[0]["List-Unsubscribe"].strip("<>")
    return email, link.split("token=")[1]


def test_links_and_form_tokens_survive_a_rotation_until_the_grace_ends(
    api: Api, stack: Stack, mailbox: Mailbox, outreach: Any, form_token: str
) -> None:
    email, old_link = subscribe(api, mailbox, form_token)
    subscriber_id = email_id(bootstrap.get_settings().keys, email)
    with rotated_app(stack, "2999-01-01T00:00:00Z") as client:
        assert email_id(bootstrap.get_settings().keys, email) == subscriber_id  # same identity
        new_token = json.loads(client.http.get("/config").body)["form_token"]
        assert new_token.startswith("local2.") and not form_token.startswith("local2.")
        signup = client.http.post(
            "/signups",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"email": email, "form_token": form_token}),  # issued before the rotation
        )
        assert signup.status_code == 202, signup.body
        answer = client.http.post(
            f"/unsubscribe?token={old_link}", headers=ONE_CLICK, body="List-Unsubscribe=One-Click"
        )
        assert answer.status_code == 200, answer.body
    assert outreach.get_subscriber(subscriber_id).status == "unsubscribed"


def test_the_old_key_stops_verifying_after_its_grace(
    api: Api, stack: Stack, mailbox: Mailbox, form_token: str
) -> None:
    _, old_link = subscribe(api, mailbox, form_token)
    with rotated_app(stack, "2001-01-01T00:00:00Z") as client:
        answer = client.http.post(
            f"/unsubscribe?token={old_link}", headers=ONE_CLICK, body="List-Unsubscribe=One-Click"
        )
        assert answer.status_code == 404
        signup = client.http.post(
            "/signups",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"email": "late@example.org", "form_token": form_token}),
        )
        assert signup.status_code == 422 and b"form_token" in signup.body
