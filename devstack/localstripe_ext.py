"""What localstripe lacks for the calls Steward makes, shaped as Stripe documents them.

- Refunds take `reason` (duplicate | fraudulent | requested_by_customer) and show it.
- A refund never takes more than the charge has left: Stripe answers 400
  `charge_already_refunded` once nothing is left, and a 400 on `amount` when it asks for more
  than what is left. Without `amount` a refund takes what is left (localstripe took the
  whole charge again).
"""

from __future__ import annotations

from typing import Any

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _dollars(amount: int) -> str:
    return f"${amount / 100:.2f}"


def extend() -> None:
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
