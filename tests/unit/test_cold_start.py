"""A cold start pays only for what its route uses: importing `app` registers every route,
and each route loads its models, services and libraries when it first runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What importing `app` (every route registered, none run) must not load.
NOT_AT_IMPORT = (
    "stripe",  # the money routes' SDK
    "jwt",  # the staff routes' token check
    "fpdf",  # the receipt PDF
    "chalicelib.adapters.receipt_pdf",
    "jinja2",
    "chalicelib.adapters.mailer",  # the email templates
    "email_validator",  # only where an address is checked
    "chalicelib.api.schemas",  # the staff routes' request and response shapes
    "chalicelib.api.finding",
    "chalicelib.api.openapi",
    "chalicelib.domain.exports",
    "chalicelib.services.reconcile",
    "chalicelib.services.exports",
    "chalicelib.services.recurring",
)


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_app_loads_no_route_s_libraries_or_models() -> None:
    names = list(NOT_AT_IMPORT)
    code = f"import sys, json, app; print(json.dumps([m for m in {names!r} if m in sys.modules]))"
    assert json.loads(_fresh(code)) == []


def test_importing_the_app_builds_no_pydantic_model() -> None:
    code = (
        "import json, app\n"
        "from pydantic import BaseModel\n"
        "seen, built = list(BaseModel.__subclasses__()), []\n"
        "while seen:\n"
        "    m = seen.pop(); seen.extend(m.__subclasses__())\n"
        "    if m.__module__.startswith('chalicelib.') and m.__pydantic_complete__:\n"
        "        built.append(m.__name__)\n"
        "print(json.dumps(built))"
    )
    assert json.loads(_fresh(code)) == []


def test_the_contact_model_is_built_on_first_use() -> None:
    code = (
        "import json, sys, app\n"
        "from chalicelib.domain.outreach import ContactRequest\n"
        "before = ContactRequest.__pydantic_complete__, 'email_validator' in sys.modules\n"
        "ContactRequest.model_fields  # reading the fields builds nothing\n"
        "try:\n"
        "    ContactRequest.model_validate({'email': 'not an address'})\n"
        "except Exception:\n"
        "    pass\n"
        "after = ContactRequest.__pydantic_complete__, 'email_validator' in sys.modules\n"
        "print(json.dumps([before, after]))"
    )
    assert json.loads(_fresh(code)) == [[False, False], [True, True]]


def _app_env(**extra: str) -> dict[str, str]:
    """Settings enough to serve GET /config, which reads no table and no secret store."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "AWS_LAMBDA"))},
        "STEWARD_TABLE_NAME": "steward",
        "STEWARD_JWT_ISSUER": "iss",
        "STEWARD_JWT_AUDIENCE": "aud",
        "STEWARD_JWKS_URL": "http://127.0.0.1:9/jwks",
        "STEWARD_STRIPE_SECRET_KEY": "sk_test_none",
        "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk_test_none",
        "STEWARD_STRIPE_WEBHOOK_SECRET": "whsec_none",
        "STEWARD_SIGNING_KEY": "k" * 64,
        "STEWARD_SIGNING_KEY_ID": "k1",
        "STEWARD_IDENTITY_KEY": "i" * 64,
        "AWS_DEFAULT_REGION": "us-east-1",
        **extra,
    }


def test_serving_get_config_loads_no_model_and_no_other_route_s_modules() -> None:
    """GET /config needs no DynamoDB: served in a fresh interpreter, it loads neither pydantic
    nor any module of the money, staff or form routes."""
    env = _app_env()
    names = [*NOT_AT_IMPORT, "pydantic", "chalicelib.domain.donation", "chalicelib.services.ports"]
    code = (
        "import json, sys\n"
        "from chalice.test import Client\n"
        "from app import app\n"
        "with Client(app) as client:\n"
        "    answer = client.http.get('/config')\n"
        f"print(json.dumps([answer.status_code, [m for m in {names!r} if m in sys.modules]]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(out.stdout) == [200, []]


def test_a_plain_address_loads_no_email_validator() -> None:
    """The forms check a plain address themselves (chalicelib/domain/addresses.py); any other
    address still goes to email-validator."""
    code = (
        "import json, sys, app\n"
        "from chalicelib.domain.outreach import ContactRequest, SignupRequest\n"
        "from chalicelib.domain.gift_requests import DonationRequest\n"
        "body = {'email': 'Ada.Lovelace@Example.org', 'form_token': 't'}\n"
        "SignupRequest.model_validate(body)\n"
        "ContactRequest.model_validate({**body, 'name': 'A', 'topic': 't', 'subject': 'S', 'message': 'M'})\n"
        "DonationRequest.model_validate({**body, 'amount': 100, 'currency': 'usd', 'first_name': 'A',\n"
        "    'last_name': 'L', 'fund': 'f', 'tribute': {'kind': 'honor', 'name': 'G',\n"
        "    'notify_email': 'grace@example.org'}})\n"
        "plain = 'email_validator' in sys.modules\n"
        "SignupRequest.model_validate({**body, 'email': 'ada@b\u00fccher.example'})\n"
        "print(json.dumps([plain, 'email_validator' in sys.modules]))"
    )
    assert json.loads(_fresh(code)) == [False, True]


def test_building_a_model_looks_for_no_pydantic_plugin() -> None:
    """Scanning every installed package's entry points for pydantic plugins is skipped."""
    code = (
        "import json, app\n"
        "from chalicelib.domain.outreach import SignupRequest\n"
        "from pydantic.plugin import _loader\n"
        "SignupRequest.model_validate({'email': 'ada@example.org', 'form_token': 't'})\n"
        "print(json.dumps(_loader._plugins is None))"
    )
    assert json.loads(_fresh(code)) is True


def test_the_stripe_gateway_loads_the_webhook_facts_only_to_read_a_payment() -> None:
    """POST /donations creates a SetupIntent: the gateway it builds loads no webhook facts."""
    code = (
        "import json, sys\n"
        "import chalicelib.adapters.stripe_gateway\n"
        "print(json.dumps([m for m in ('chalicelib.services.facts', 'chalicelib.adapters.stripe_facts')"
        " if m in sys.modules]))"
    )
    assert json.loads(_fresh(code)) == []


def _collector_around_first_event(first: str = "client.http.get('/config')", **extra: str) -> list[bool]:
    code = (
        "import gc, json\n"
        "from chalice.test import Client\n"
        "from app import app\n"
        "paused = not gc.isenabled()\n"
        "with Client(app) as client:\n"
        f"    ok = {first}.status_code < 500\n"
        "print(json.dumps([paused, ok, gc.isenabled(), gc.get_freeze_count() > 0]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=_app_env(**extra),
    )
    return list(json.loads(out.stdout))


def test_an_on_demand_cold_start_collects_no_garbage_until_its_first_event_is_answered() -> None:
    """chalicelib/collector.py: paused from the import to the first answer, then on again with
    everything alive set aside (gc.freeze)."""
    assert _collector_around_first_event(AWS_LAMBDA_INITIALIZATION_TYPE="on-demand") == [
        True,
        True,
        True,
        True,
    ]


@pytest.mark.parametrize(
    "first",
    [
        "client.http.post('/contact', headers={'Content-Type': 'text/plain'}, body=b'x')",
        "client.http.post('/contact', headers={'Content-Type': 'application/json'}, body=b' ' * 100_000)",
    ],
    ids=["unsupported-media-type", "body-too-large"],
)
def test_a_first_event_answered_before_any_view_still_resumes_the_collector(first: str) -> None:
    """A first request refused by the body checks (415, 413) is answered too: a container whose
    first requests are all refused must not run on with the collector off."""
    assert _collector_around_first_event(first, AWS_LAMBDA_INITIALIZATION_TYPE="on-demand") == [
        True,
        True,
        True,
        True,
    ]


def test_the_collector_is_left_alone_off_lambda_and_for_an_init_made_ahead() -> None:
    assert _collector_around_first_event() == [False, True, True, False]
    assert _collector_around_first_event(AWS_LAMBDA_INITIALIZATION_TYPE="provisioned-concurrency") == [
        False,
        True,
        True,
        False,
    ]


def test_the_form_routes_load_only_their_own_ports() -> None:
    """The contact and signup services and their repository load the outreach ports, not the
    money ports (services/ports.py: the gift, Stripe and ledger ports)."""
    code = (
        "import json, sys, app\n"
        "import chalicelib.services.contact, chalicelib.services.signups\n"
        "import chalicelib.adapters.dynamo_outreach\n"
        "print(json.dumps('chalicelib.services.ports' in sys.modules))"
    )
    assert json.loads(_fresh(code)) is False
