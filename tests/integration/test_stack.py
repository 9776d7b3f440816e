"""What an operator touches: health, the form config, and `steward token`."""

from __future__ import annotations

import os
import subprocess
import sys

from devstack.stack import ROOT, Stack
from tests.helpers import Api


def test_health_and_config(api: Api, stack: Stack) -> None:
    assert api.get("/health").json() == {"status": "ok"}
    config = api.get("/config").json()
    assert config["publishable_key"].startswith("pk_")
    assert config["stripe_js_url"] == f"{stack.config.stripe_url}/js.stripe.com/v3/"
    assert {"id": "peace-programs", "name": "Peace Programs"} in config["funds"]
    assert config["currencies"] == ["usd"] and config["min_amount"] == 100


def test_cors_lets_the_web_page_post_with_an_idempotency_key(api: Api, stack: Stack) -> None:
    answer = api.session.options(
        api.base + "/donations",
        timeout=10,
        headers={
            "Origin": stack.config.web_url,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )
    assert answer.status_code == 200
    assert "Idempotency-Key" in answer.headers["Access-Control-Allow-Headers"]


def test_steward_token_prints_a_working_token_last(api: Api, stack: Stack) -> None:
    env = {**os.environ, "STEWARD_LOCAL_DIR": str(stack.config.local_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "devstack.cli", "token", "--role", "finance"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    answer = api.get("/staff/donations", token, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert answer.status_code == 200, answer.text
