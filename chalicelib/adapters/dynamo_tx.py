"""One use case, one transaction: the items a unit of work writes, and how they are built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import guarded, reasons, to_item, translate
from chalicelib.adapters.dynamo_events import processed_update
from chalicelib.domain.errors import ConcurrentUpdateError, ConflictError, DuplicateEventError
from chalicelib.services.ports import AuditEntry, OutboxMessage, UnitOfWork

if TYPE_CHECKING:
    from chalicelib.domain.aftermath import Dispute, Refund
    from chalicelib.domain.donation import Donation
    from chalicelib.domain.recurring import RecurringPlan
    from chalicelib.services.facts import StripeEvent

RECORD_KEYS = {"donation": keys.donation, "recurring": keys.plan}


def donation_values(donation: Donation) -> dict[str, Any]:
    values = donation.model_dump()
    values.update(keys.donation(donation.id))
    values["entity"] = "donation"
    values.update(index_keys(donation))
    return values


def index_keys(donation: Donation) -> dict[str, str]:
    """Every index key of a gift item: gsi1's month, the finding indexes, and gsi2 while it
    is pending (`steward reindex` sets these on gifts written before)."""
    sort = keys.donation_sort(donation.created_at, donation.id)
    values = {
        "gsi1pk": keys.find_shard(keys.donations_by_month(donation.created_at), donation.id),
        "gsi1sk": sort,
        **finding_keys(donation),
    }
    if donation.status == "pending":
        values["gsi2pk"] = keys.pending_donations(donation.setup_intent_id is not None, donation.id)
        values["gsi2sk"] = sort
    return values


def finding_keys(donation: Donation) -> dict[str, str]:
    """The keys of the finance finding indexes (README "Data:"): written with the gift whole,
    so a gift moves between status partitions as refunds and disputes change it. Every
    month-partitioned key is the gift's shard of it (keys.find_shard)."""
    created, sort = donation.created_at, keys.donation_sort(donation.created_at, donation.id)
    monthly = {
        "status_pk": keys.donations_by_status(donation.display_status, created),
        "fund_pk": keys.donations_by_fund(donation.fund, created),
        "amount_pk": keys.donations_by_amount(created),
    }
    if donation.campaign:
        monthly["campaign_pk"] = keys.donations_by_campaign(donation.campaign, created)
    if donation.frequency != "one_time":
        monthly["installment_pk"] = keys.installments_by_month(created)
    values = {name: keys.find_shard(key, donation.id) for name, key in monthly.items()}
    values["donor_pk"] = keys.donations_by_donor(donation.email)
    values["amount_sk"] = keys.amount_sort(donation.amount, created, donation.id)
    for name in list(values):
        if name.endswith("_pk") and name != "amount_pk":
            values[name[:-3] + "_sk"] = sort
    return values


def plan_values(plan: RecurringPlan) -> dict[str, Any]:
    return {
        **plan.model_dump(),
        **keys.plan(plan.id),
        "entity": "recurring",
        "gsi1pk": keys.plans_by_status(plan.status),
        "gsi1sk": f"{plan.created_at}#{plan.id}",
    }


class DynamoUnitOfWork(UnitOfWork):
    """Collects the writes of one use case and commits them in one TransactWriteItems. A
    later write to the same item replaces an earlier one (a transaction may touch each item
    once)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table
        self._items: dict[tuple[str, str], dict[str, Any]] = {}
        self._once: set[tuple[str, str]] = set()  # items that must be new: a conflict, not a race
        self._events: set[tuple[str, str]] = set()  # webhook events: processed before, a duplicate

    def _put(self, values: dict[str, Any], condition: str | None = None, **expected: Any) -> None:
        put: dict[str, Any] = {"TableName": self.table, "Item": to_item(values)}
        if condition:
            put["ConditionExpression"] = condition
        if expected:
            put["ExpressionAttributeValues"] = to_item(expected)
        self._items[(values["pk"], values["sk"])] = {"Put": put}

    def _versioned(self, values: dict[str, Any], expected_version: int | None) -> None:
        if expected_version is None:
            self._put(values, "attribute_not_exists(pk)")
        else:
            self._put(values, "version = :expected", **{":expected": expected_version})

    def _link(self, stripe_id: str | None, **target: str) -> None:
        if stripe_id:
            self._put({**keys.stripe_link(stripe_id), **target})

    def save_donation(self, donation: Donation, expected_version: int | None) -> None:
        self._versioned(donation_values(donation), expected_version)
        for stripe_id in (donation.payment_intent_id, donation.charge_id):
            self._link(stripe_id, donation_id=donation.id)

    def save_refund(self, refund: Refund) -> None:
        self._put({**refund.model_dump(), **keys.refund(refund.donation_id, refund.id), "entity": "refund"})
        self._link(refund.stripe_refund_id, donation_id=refund.donation_id, refund_id=refund.id)

    def save_dispute(self, dispute: Dispute) -> None:
        self._put(
            {**dispute.model_dump(), **keys.dispute(dispute.donation_id, dispute.id), "entity": "dispute"}
        )
        self._link(dispute.id, donation_id=dispute.donation_id)

    def save_plan(self, plan: RecurringPlan, expected_version: int | None) -> None:
        self._versioned(plan_values(plan), expected_version)
        self._link(plan.subscription_id, recurring_id=plan.id)

    def add_installment(self, plan_id: str, donation: Donation, invoice_id: str) -> None:
        link = {**keys.stripe_link(invoice_id), "donation_id": donation.id, "recurring_id": plan_id}
        self._put(link, "attribute_not_exists(pk)")
        self._once.add((link["pk"], link["sk"]))
        pointer = keys.plan_installment(plan_id, donation.created_at, donation.id)
        self._put({**pointer, "entity": "installment", "donation_id": donation.id, "invoice_id": invoice_id})

    def audit(self, kind: str, record_id: str, entry: AuditEntry, suffix: str) -> None:
        key = keys.record_audit(RECORD_KEYS[kind](record_id), entry.at, suffix)
        values = {**entry.details, "actor": entry.actor, "source": entry.source, "at": entry.at}
        self._put({**values, **key, "entity": "audit"})

    def send(self, message: OutboxMessage) -> None:
        from chalicelib.adapters.outbox_items import outbox_values

        values = outbox_values(message)
        self._put(values, "attribute_not_exists(pk)")
        self._once.add((values["pk"], values["sk"]))

    def claim(self, marker: str) -> None:
        key = keys.once(marker)
        self._put({**key, "entity": "once"}, "attribute_not_exists(pk)")
        self._once.add((key["pk"], key["sk"]))

    def event_processed(self, event: StripeEvent, now: str) -> None:
        key = keys.stripe_event(event.id)
        self._items[(key["pk"], key["sk"])] = {"Update": processed_update(self.table, event, now)}
        self._events.add((key["pk"], key["sk"]))

    def commit(self) -> None:
        if not self._items:
            return
        order = list(self._items)
        try:
            guarded(self.client.transact_write_items, TransactItems=list(self._items.values()))
        except ClientError as exc:
            failed = [order[i] for i, code in enumerate(reasons(exc)) if code == "ConditionalCheckFailed"]
            if any(key in self._events for key in failed):
                raise DuplicateEventError("this event was processed before") from exc
            if failed and all(key in self._once for key in failed):
                raise ConflictError("already recorded") from exc
            if failed:
                raise ConcurrentUpdateError("a record changed since it was read") from exc
            raise translate(exc) from exc
        finally:
            self._items.clear()
            self._once.clear()
            self._events.clear()
