"""Generated gift histories for the totals tests: each gift goes through random facts (paid,
refunds, a refund that fails later, disputes, a settlement), every version of it is a stream
image, and the expected totals are summed straight from the final gift records."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from chalicelib.domain.aftermath import Dispute, Refund, summarize
from chalicelib.domain.donation import Donation, PaymentUpdate, apply_settlement, apply_update

FUNDS = ("peace-programs", "health-programs", "where-needed-most")
CAMPAIGNS = (None, "spring", "gala #2")
STAMP = "T12:00:00.000Z"


@dataclass(frozen=True)
class History:
    images: list[Donation]  # every version, in the order written

    @property
    def final(self) -> Donation:
        return self.images[-1]


facts = st.one_of(
    st.tuples(st.just("paid")),
    st.tuples(st.just("failed")),
    st.tuples(st.just("refund"), st.integers(1, 5000)),
    st.tuples(st.just("refund_fails")),
    st.tuples(st.just("dispute"), st.integers(1, 5000)),
    st.tuples(st.just("dispute_ends"), st.sampled_from(["won", "lost"])),
    st.tuples(st.just("settled"), st.integers(0, 500), st.sampled_from(["same", "cad"])),
    st.tuples(st.just("touched")),  # a change the totals do not see (a new version all the same)
)


@st.composite
def history(draw: Any, year: int, number: int) -> History:
    day = f"{year}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}"
    currency = draw(st.sampled_from(["usd", "eur"]))
    gift = Donation(
        id=f"{year}-{number:04d}",
        amount=draw(st.integers(100, 20000)),
        currency=currency,
        fund=draw(st.sampled_from(FUNDS)),
        campaign=draw(st.sampled_from(CAMPAIGNS)),
        frequency=draw(st.sampled_from(["one_time", "monthly", "annual"])),
        email="donor@example.org",
        first_name="Ada",
        last_name="Lovelace",
        created_at=day + STAMP,
        updated_at=day + STAMP,
    )
    refunds: dict[str, Refund] = {}
    disputes: dict[str, Dispute] = {}
    images = [gift]
    for step, fact in enumerate(draw(st.lists(facts, max_size=7))):
        kind, now = fact[0], f"{day}T13:{step:02d}:00.000Z"
        if kind == "paid":
            gift = apply_update(gift, PaymentUpdate(status="succeeded", paid_at=day + STAMP), now)
        elif kind == "failed":
            gift = apply_update(gift, PaymentUpdate(status="failed", failure_reason="declined"), now)
        elif kind == "refund":  # may come before the payment does
            rid = f"re{step}"
            refunds[rid] = Refund(
                id=rid, donation_id=gift.id, amount=fact[1], currency=currency, reason="other",
                actor="stripe", status="succeeded", created_at=now, updated_at=now,
            )  # fmt: skip
        elif kind == "refund_fails" and refunds:
            first = sorted(refunds)[0]
            refunds[first] = refunds[first].model_copy(update={"status": "failed"})
        elif kind == "dispute":
            did = f"dp{step}"
            disputes[did] = Dispute(
                id=did, donation_id=gift.id, amount=fact[1], currency=currency, reason="fraudulent",
                status="open", created_at=now, updated_at=now,
            )  # fmt: skip
        elif kind == "dispute_ends" and disputes:
            last = sorted(disputes)[-1]
            disputes[last] = disputes[last].model_copy(update={"status": fact[1]})
        elif kind == "settled":
            net_currency = currency if fact[2] == "same" else "cad"
            gift = apply_settlement(gift, fact[1], gift.amount - fact[1], net_currency, now)
        gift = summarize(gift, list(refunds.values()), list(disputes.values()))
        gift = gift.model_copy(update={"version": gift.version + 1, "updated_at": now})
        images.append(gift)
    return History(images)


@st.composite
def stream(draw: Any, year: int) -> tuple[list[Donation], list[Donation]]:
    """(final gift records, the stream: every image, some twice or more, in any order)."""
    histories = [draw(history(year, n)) for n in range(draw(st.integers(1, 6)))]
    images = [image for h in histories for image in h.images]
    replays = draw(st.lists(st.sampled_from(images), max_size=len(images)))
    shuffled = draw(st.permutations(images + replays))
    return [h.final for h in histories], shuffled


FIELDS = ("count", "gross", "fees", "net", "refunded", "disputed")


def expected_rows(gifts: list[Donation], group_by: str) -> list[dict[str, Any]]:
    """The report summed straight from the gift records: every paid gift in its group and
    currency pair, its fee and net once Stripe settled it, refunds that count, and the amount of
    disputes open or lost."""
    sums: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for gift in gifts:
        if gift.status != "succeeded":
            continue
        day = str(gift.succeeded_at)[:10]
        group = {
            "day": day,
            "month": day[:7],
            "fund": gift.fund,
            "campaign": gift.campaign,
            "frequency": gift.frequency,
        }[group_by]
        row = sums[(group, gift.currency, gift.settlement_currency)]
        row["count"] += 1
        row["gross"] += gift.amount
        if gift.settlement_currency is not None:
            row["fees"] += gift.fee or 0
            row["net"] += gift.net or 0
        row["refunded"] += gift.refunded
        row["disputed"] += gift.disputed if gift.dispute in ("open", "lost") else 0
    return sorted(
        ({"group": g, "currency": c, "settlement_currency": s, **row} for (g, c, s), row in sums.items()),
        key=lambda r: (r["group"] or "", r["currency"], r["settlement_currency"] or ""),
    )
