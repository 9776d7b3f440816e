"""The Stripe webhook on a cold start, as Lambda runs it: a fresh Python that imports `app` and
answers one signed `payment_intent.succeeded` against DynamoDB Local and localstripe. Its whole
path (read the gift, fetch the fee and net, one transaction) loads no pydantic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devstack.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SERVE = """
import json, sys
sys.path.insert(0, "bench")
from api_events import LambdaContext, webhook_event
import os, app
event = webhook_event(sys.stdin.buffer.read(), os.environ["STEWARD_STRIPE_WEBHOOK_SECRET"])
answer = app.app(event, LambdaContext())
loaded = [m for m in ("pydantic", "email_validator", "chalicelib.api.schemas") if m in sys.modules]
print(json.dumps([answer["statusCode"], loaded]))
"""


def test_a_paid_gift_s_webhook_is_answered_without_loading_pydantic(stack: Stack) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from api_events import PaidGifts

    from app import app
    from chalicelib.bootstrap import get_repository

    payload = PaidGifts(app, stack).make()
    gift_id = json.loads(payload)["data"]["object"]["metadata"]["donation_id"]
    env = {**stack.app_env(), "PATH": "/usr/bin:/bin", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}
    done = subprocess.run(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, input=payload, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [200, []]
    gift = get_repository().get_donation(gift_id)
    assert gift is not None and gift.status == "succeeded" and gift.fee is not None
