"""Stripe JSON stays in the adapter: services dispatch on fact types and read no event payload."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, get_args

from chalicelib.adapters.stripe_facts import TRANSLATORS, to_fact
from chalicelib.services.facts import Fact, Unknown
from chalicelib.services.webhooks import HANDLERS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "chalicelib" / "services"
# Keys of Stripe events and of the objects they carry (PaymentIntent, Charge, Dispute, Invoice).
STRIPE_KEYS = {
    "id",
    "type",
    "data",
    "object",
    "metadata",
    "donation_id",
    "status",
    "latest_charge",
    "charges",
    "last_payment_error",
    "payment_intent",
    "charge",
    "amount",
    "amount_refunded",
    "invoice",
    "parent",
    "subscription_details",
    "subscription",
    "balance_transaction",
}


def _readme_event_types() -> set[str]:
    """The event types the README tells operators to register the endpoint for."""
    text = (ROOT / "README.md").read_text()
    sentence = text[text.index("<api>webhooks/stripe`") :].split("\n\n")[0]
    return set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", sentence))


def test_every_fact_type_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(get_args(Fact))


def test_the_translator_covers_every_event_type_the_readme_registers() -> None:
    registered = _readme_event_types()
    assert registered == set(TRANSLATORS)
    shaped: dict[str, dict[str, Any]] = {
        "payment_intent.succeeded": {"id": "pi_1", "status": "succeeded", "metadata": {"donation_id": "x"}},
        "payment_intent.payment_failed": {"id": "pi_1", "status": "x", "metadata": {"donation_id": "x"}},
        "charge.succeeded": {"id": "ch_1", "payment_intent": "pi_1"},
        "charge.updated": {"id": "ch_1", "payment_intent": "pi_1"},
        "charge.refunded": {"id": "ch_1", "amount": 500, "amount_refunded": 500, "payment_intent": "pi_1"},
        "invoice.paid": {"id": "in_1", "subscription": "sub_1", "amount_paid": 500, "currency": "usd"},
        "invoice.payment_succeeded": {
            "id": "in_1",
            "subscription": "sub_1",
            "amount_paid": 5,
            "currency": "usd",
        },
        "invoice.payment_failed": {"id": "in_1", "subscription": "sub_1", "amount_due": 5, "currency": "usd"},
    }
    refund = {"id": "re_1", "amount": 500, "currency": "usd", "status": "succeeded", "charge": "ch_1"}
    dispute = {
        "id": "du_1",
        "charge": "ch_1",
        "status": "lost",
        "amount": 5,
        "currency": "usd",
        "reason": "x",
    }
    for name in ("refund.created", "refund.updated", "charge.refund.updated"):
        shaped[name] = refund
    for name in ("created", "updated", "closed", "funds_withdrawn", "funds_reinstated"):
        shaped[f"charge.dispute.{name}"] = dispute
    for name in ("created", "updated", "deleted"):
        shaped[f"customer.subscription.{name}"] = {"id": "sub_1", "status": "active"}
    for event_type in registered:
        fact = to_fact(event_type, shaped[event_type], 1764300000)
        assert not isinstance(fact, Unknown), event_type
        assert type(fact) in HANDLERS


def _reads_stripe_json(node: ast.AST) -> bool:
    if isinstance(node, ast.Subscript):
        key = node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"get", "pop", "setdefault"}
        and node.args
    ):
        key = node.args[0]
    else:
        return False
    return isinstance(key, ast.Constant) and key.value in STRIPE_KEYS


def test_no_service_module_reads_stripe_json() -> None:
    offences = []
    for path in sorted(SERVICES.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if _reads_stripe_json(node):
                offences.append(f"{where} reads a Stripe key: {ast.unparse(node)}")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                for name in names:
                    if name in {"json", "stripe"} or name.startswith(("stripe.", "chalicelib.adapters")):
                        offences.append(f"{where} imports {name}")
    assert offences == []


def test_the_check_catches_a_service_that_reads_an_event() -> None:
    sample = ast.parse('obj = event["data"]["object"]\nmeta = obj.get("metadata")')
    assert sum(_reads_stripe_json(node) for node in ast.walk(sample)) == 3
