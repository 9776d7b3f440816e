"""What localstripe lacks for the calls Steward makes, shaped as Stripe documents them.

- Refunds take `reason` (duplicate | fraudulent | requested_by_customer) and show it.
- A refund never takes more than the charge has left: Stripe answers 400
  `charge_already_refunded` once nothing is left, and a 400 on `amount` when it asks for more
  than what is left. Without `amount` a refund takes what is left (localstripe took the
  whole charge again).
- An invoice's `parent.subscription_details` carries the snapshot of its subscription's
  `metadata`, as Stripe's does (localstripe named the subscription only).
- `GET /v1/invoice_payments?invoice=in_...` (basil): how an invoice was paid, since basil
  invoices no longer name their PaymentIntent.
- `POST /_config/balance_transactions/<txn id>` (a test hook beside localstripe's own
  `/_config/webhooks`, never called by Steward) sets a balance transaction's `fee`, `amount`,
  `currency` or `exchange_rate`, as Stripe's change when a charge settles in another currency
  or its fee is adjusted; localstripe's are always fee 0 in the charge's currency.
- A SetupIntent that has succeeded or was canceled cannot be confirmed again: Stripe answers 400
  `setup_intent_unexpected_state` (localstripe saved the new card over the old one).
"""

from __future__ import annotations

from typing import Any

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _dollars(amount: int) -> str:
    return f"${amount / 100:.2f}"


def extend() -> None:
    _refunds()
    _invoice_payments()
    _invoice_parent()
    _balance_transactions()
    _payouts()
    _setup_intent_states()


def _setup_intent_states() -> None:
    import re

    from aiohttp import web
    from localstripe import resources, server
    from localstripe.errors import UserError

    confirm_path = re.compile(r"/v1/setup_intents/(seti_\w+)/confirm")

    @web.middleware
    async def confirm_once(request: Any, handler: Any) -> Any:
        # localstripe binds its confirm route when imported, so the check sits in front of it.
        found = confirm_path.fullmatch(request.path)
        if request.method == "POST" and found:
            status = resources.SetupIntent._api_retrieve(found.group(1)).status
            if status in ("succeeded", "canceled"):
                raise UserError(
                    400,
                    f"You cannot confirm this SetupIntent because it has already {status}.",
                    {"code": "setup_intent_unexpected_state"},
                )
        return await handler(request)

    server.app.middlewares.append(confirm_once)


def _balance_transactions() -> None:
    from localstripe import resources, server
    from localstripe.errors import UserError, json_response

    fields: dict[str, Any] = {"fee": int, "amount": int, "currency": str, "exchange_rate": float}

    async def adjust(request: Any) -> Any:
        txn = resources.BalanceTransaction._api_retrieve(request.match_info["id"])
        data = await server.get_post_data(request) or {}
        try:
            changes = {name: fields[name](value) for name, value in data.items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(400, f"Bad request: {exc}") from exc
        for name, value in changes.items():
            setattr(txn, name, value.lower() if name == "currency" else value)
        if "fee" in changes:
            txn.fee_details = [
                {
                    "amount": txn.fee,
                    "application": None,
                    "currency": txn.currency,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
        return json_response(txn._export())

    server.app.router.add_post("/_config/balance_transactions/{id}", adjust)


def _invoice_parent() -> None:
    from localstripe import resources

    def parent(self: Any) -> dict[str, Any] | None:
        if not self.subscription:
            return None
        metadata = dict(resources.Subscription._api_retrieve(self.subscription).metadata or {})
        if self.status != "draft":  # a snapshot taken when the invoice was finalized
            metadata = self.__dict__.setdefault("_parent_metadata", metadata)
        return {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": metadata, "subscription": self.subscription},
        }

    resources.Invoice.parent = property(parent)  # type: ignore[assignment]


def _invoice_payments() -> None:
    from localstripe import resources, server
    from localstripe.errors import UserError, json_response

    def payment_of(invoice: Any) -> dict[str, Any]:
        intent = resources.PaymentIntent._api_retrieve(invoice.payment_intent)
        paid = invoice.status == "paid"
        status = "paid" if paid else "canceled" if intent.status == "canceled" else "open"
        return {
            "id": "inpay_" + invoice.id.removeprefix("in_"),
            "object": "invoice_payment",
            "amount_paid": invoice.amount_paid if paid else None,
            "amount_requested": invoice.amount_due,
            "created": invoice.created,
            "currency": invoice.currency,
            "invoice": invoice.id,
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": intent.id},
            "status": status,
            "status_transitions": {
                "canceled_at": None,
                "paid_at": invoice.status_transitions.get("paid_at") if paid else None,
            },
        }

    async def list_invoice_payments(request: Any) -> Any:
        invoice_id = request.query.get("invoice")
        if not (isinstance(invoice_id, str) and invoice_id.startswith("in_")):
            raise UserError(400, "Missing required param: invoice.", {"param": "invoice"})
        invoice = resources.Invoice._api_retrieve(invoice_id)
        data = [payment_of(invoice)] if invoice.payment_intent else []
        return json_response(
            {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}
        )

    server.app.router.add_get("/v1/invoice_payments", list_invoice_payments)


def _refunds() -> None:
    from localstripe import resources
    from localstripe.errors import UserError

    original = resources.Refund.__init__

    def refund_init(
        self: Any,
        charge: Any = None,
        payment_intent: Any = None,
        amount: Any = None,
        metadata: Any = None,
        reason: Any = None,
        **kwargs: Any,
    ) -> None:
        if reason is not None and reason not in REFUND_REASONS:
            raise UserError(
                400,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                {"param": "reason"},
            )
        charge_obj = None
        if isinstance(charge, str) and charge.startswith("ch_"):
            charge_obj = resources.Charge._api_retrieve(charge)
        elif isinstance(payment_intent, str) and payment_intent.startswith("pi_"):
            latest = resources.PaymentIntent._api_retrieve(payment_intent).latest_charge
            charge_obj = latest if latest is not None and not isinstance(latest, str) else None
        if charge_obj is not None and charge_obj.status == "succeeded":
            left = charge_obj.amount - charge_obj.amount_refunded
            if left <= 0:
                raise UserError(
                    400,
                    f"Charge {charge_obj.id} has already been refunded.",
                    {"code": "charge_already_refunded"},
                )
            asked = resources.try_convert_to_int(amount) if amount is not None else left
            if isinstance(asked, int) and asked > left:
                raise UserError(
                    400,
                    f"Refund amount ({_dollars(asked)}) is greater than unrefunded amount "
                    f"on charge ({_dollars(left)})",
                    {"param": "amount"},
                )
            amount = asked
        original(
            self, charge=charge, payment_intent=payment_intent, amount=amount, metadata=metadata, **kwargs
        )
        self.reason = reason

    resources.Refund.__init__ = refund_init


def _payouts() -> None:
    from localstripe import resources, server
    from localstripe.errors import UserError, json_response

    def in_payout(txn: Any) -> str | None:
        return txn.__dict__.get("_steward_payout")

    async def pay_out(request: Any) -> Any:
        data = await server.get_post_data(request) or {}
        currency = str(data.get("currency", "usd")).lower()
        lines = [
            txn
            for txn in resources.store.values()
            if isinstance(txn, resources.BalanceTransaction)
            and txn.currency == currency
            and txn.type in ("charge", "refund", "adjustment")
            and in_payout(txn) is None
        ]
        total = sum(txn.amount - txn.fee for txn in lines)
        if total <= 0:
            raise UserError(400, "Nothing to pay out in this currency.")
        payout = resources.Payout(amount=total, currency="eur", status="paid")
        payout.currency = currency
        payout.automatic = True
        for txn in lines:
            txn.__dict__["_steward_payout"] = payout.id
        return json_response(payout._export())

    listed_lines = resources.BalanceTransaction._api_list_all.__func__

    def list_lines(cls: Any, url: Any, limit: Any = None, starting_after: Any = None, **kwargs: Any) -> Any:
        payout_id = kwargs.pop("payout", None)
        listed = listed_lines(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        if payout_id:
            listed._list = [t for t in listed._list if in_payout(t) == payout_id]
        return listed

    original = resources.Payout._api_list_all.__func__

    def list_payouts(cls: Any, url: Any, limit: Any = None, starting_after: Any = None, **kwargs: Any) -> Any:
        created = kwargs.pop("created", None) or {}
        listed = original(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        gte, lte = created.get("gte"), created.get("lte")
        listed._list = [
            p
            for p in listed._list
            if (gte is None or p.created >= int(gte)) and (lte is None or p.created <= int(lte))
        ]
        return listed

    resources.Payout._api_list_all = classmethod(list_payouts)
    resources.BalanceTransaction._api_list_all = classmethod(list_lines)
    server.app.router.add_post("/_config/payouts", pay_out)
