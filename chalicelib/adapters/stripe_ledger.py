"""Stripe's own books: payouts, the balance transactions each pays out, and the events of a
period (for reconciliation). Read-only; Stripe JSON is read here and nowhere else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import stripe

from chalicelib.adapters.stripe_billing import call, id_of, plain
from chalicelib.adapters.stripe_facts import read_event
from chalicelib.services.facts import StripeEvent
from chalicelib.services.ports import BalanceLine, Ledger, PayoutInfo

PAGE = 100


def _time(epoch: Any) -> str | None:
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _pages(method: Any, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Stripe list, page by page (starting_after the last id)."""
    params = {**params, "limit": PAGE}
    while True:
        page = call(method, params)
        items = [plain(item) for item in page.data]
        yield from items
        if not page.has_more or not items:
            return
        params["starting_after"] = items[-1]["id"]


class StripeLedger(Ledger):
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def payouts(self, start: int, end: int) -> list[PayoutInfo]:
        found = []
        for payout in _pages(self._client.v1.payouts.list, {"created": {"gte": start, "lte": end}}):
            found.append(
                PayoutInfo(
                    id=str(payout["id"]),
                    amount=int(payout.get("amount") or 0),
                    currency=str(payout.get("currency") or ""),
                    status=str(payout.get("status") or ""),
                    created=_time(payout.get("created")) or "",
                    arrival_date=_time(payout.get("arrival_date")),
                )
            )
        return sorted(found, key=lambda p: (p.created, p.id))

    def payout_lines(self, payout_id: str) -> list[BalanceLine]:
        lines = []
        for txn in _pages(self._client.v1.balance_transactions.list, {"payout": payout_id}):
            lines.append(
                BalanceLine(
                    id=str(txn["id"]),
                    type=str(txn.get("type") or ""),
                    source=id_of(txn.get("source")),
                    amount=int(txn.get("amount") or 0),
                    fee=int(txn.get("fee") or 0),
                    net=int(txn.get("net") or 0),
                    currency=str(txn.get("currency") or ""),
                )
            )
        return lines

    def events(self, since: int) -> Iterator[StripeEvent]:
        for event in _pages(self._client.v1.events.list, {"created": {"gte": since}}):
            yield read_event(event, stripe_json(event))


def stripe_json(event: dict[str, Any]) -> str:
    import json

    return json.dumps(event, separators=(",", ":"), sort_keys=True)
