"""Any text in a token field answers 4xx naming the field, never a 500."""

from __future__ import annotations

import uuid

import requests

from devstack.stack import Stack
from tests.helpers import Api

NON_ASCII_FORM_TOKEN = "1795831529512.é"


def test_a_non_ascii_form_token_is_a_422_naming_it(api: Api) -> None:
    email = f"odd-{uuid.uuid4().hex[:10]}@example.org"
    bodies = {
        "/signups": {"email": email, "form_token": NON_ASCII_FORM_TOKEN},
        "/contact": {
            "name": "Amara",
            "email": email,
            "topic": "other",
            "subject": "Hi",
            "message": "Hello",
            "form_token": NON_ASCII_FORM_TOKEN,
        },
    }
    for path, body in bodies.items():
        answer = api.post(path, body)
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] == "form_token"


def test_a_non_ascii_unsubscribe_token_is_a_404(stack: Stack) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for token in ("a" * 64 + ".é", "é", "k1.é.é", "ü" * 64 + ".x"):
        answer = requests.post(
            f"{stack.config.api_url}/unsubscribe",
            params={"token": token},
            data="List-Unsubscribe=One-Click",
            headers=form,
            timeout=10,
        )
        assert answer.status_code == 404, (token, answer.status_code, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] == "token"


def test_a_non_ascii_confirmation_token_is_a_404(stack: Stack) -> None:
    for token in ("é", "a" * 32 + "é"):
        answer = requests.post(f"{stack.config.api_url}/signups/confirm", data={"token": token}, timeout=10)
        assert answer.status_code == 404, (token, answer.status_code, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] == "token"
