"""The contact, signup and donation routes on a cold start, as Lambda runs them: a fresh Python
that imports `app` and answers one API Gateway event against DynamoDB Local (and localstripe,
for a gift). A body as visitors and donors send it loads no pydantic; any other body still gets
the models' 422, word for word."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SERVE = """
import json, sys
sys.path.insert(0, "bench")
from api_events import LambdaContext, api_event, contact_event, donation_event, form_token, signup_event
import os, app
token = form_token(dict(os.environ))
kind, body = sys.argv[1], json.loads(sys.argv[2])
if body is None:
    event = {"contact": contact_event, "signups": signup_event, "donations": donation_event}[kind](token)
else:
    event = api_event("POST", "/" + kind, json.dumps({**body, "form_token": token}))
answer = app.app(event, LambdaContext())
print(json.dumps([answer["statusCode"], json.loads(answer["body"]), "pydantic" in sys.modules]))
"""


def serve(stack: Stack, kind: str, body: dict[str, Any] | None = None) -> list[Any]:
    env = {**stack.app_env(), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", SERVE, kind, json.dumps(body)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("kind", ["contact", "signups"])
def test_a_form_as_visitors_send_it_is_answered_without_loading_pydantic(stack: Stack, kind: str) -> None:
    assert serve(stack, kind) == [202, {"status": "accepted"}, False]


def test_a_gift_as_donors_send_it_is_answered_without_loading_pydantic(stack: Stack) -> None:
    status, answer, loaded = serve(stack, "donations")
    assert (status, loaded) == (201, False), answer
    assert answer["client_secret"].startswith("seti_") and answer["donation_id"]


def test_a_body_the_plain_reading_is_unsure_of_gets_the_model_s_422(stack: Stack) -> None:
    status, answer, loaded = serve(stack, "contact", {"email": "ada@example.org", "name": 5})
    assert (status, loaded) == (422, True)
    fields = {f["field"]: f["message"] for f in answer["error"]["fields"]}
    assert fields == {
        "name": "Input should be a valid string",
        "topic": "Field required",
        "subject": "Field required",
        "message": "Field required",
    }
    status, answer, _ = serve(stack, "signups", {"email": "ada@example.org", "interests": ["sports"]})
    assert status == 422
    assert answer["error"]["fields"] == [
        {"field": "interests", "message": "Value error, unknown interests: sports"}
    ]
    status, answer, loaded = serve(stack, "donations", {"amount": "25", "currency": "usd", "fund": "x"})
    assert (status, loaded) == (422, True)
    fields = {f["field"]: f["message"] for f in answer["error"]["fields"]}
    assert fields == {
        "amount": "Input should be a valid integer",
        "email": "Field required",
        "first_name": "Field required",
        "last_name": "Field required",
        "fund": "Value error, is not a fund listed by GET /config",
    }
