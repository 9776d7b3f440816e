"""The DynamoDB repository. ClientErrors become named domain errors here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import dynamo_find, keys
from chalicelib.adapters.dynamo_base import (
    error_code,
    from_item,
    get_item,
    guarded,
    model_from,
    query_index,
    reasons,
    to_item,
    translate,
)
from chalicelib.adapters.dynamo_events import failed_update, processed_update
from chalicelib.adapters.dynamo_find import QUERIES_PER_PAGE
from chalicelib.adapters.dynamo_tx import DynamoUnitOfWork, donation_values
from chalicelib.domain.aftermath import Dispute, Refund
from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import ConflictError, DuplicateEventError
from chalicelib.domain.recurring import RecurringPlan
from chalicelib.services.clock import epoch_seconds
from chalicelib.services.ports import (
    AuditEntry,
    DonationPage,
    FailedEvent,
    GiftRecord,
    IdempotencyRecord,
    Page,
    PlanRecord,
    Repository,
    StripeLink,
)

if TYPE_CHECKING:
    from chalicelib.domain.finding import GiftFilter
    from chalicelib.services.facts import StripeEvent

GSI1 = "gsi1"
__all__ = ["QUERIES_PER_PAGE", "DynamoRepository"]
PENDING_INDEX = "gsi2"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


AUDIT_FIELDS = ("pk", "sk", "entity", "actor", "source", "at")


def audit_entry(item: dict[str, Any]) -> AuditEntry:
    """An audit item as written by the unit of work: its details are every other text field."""
    values = from_item(item)
    details = {k: str(v) for k, v in sorted(values.items()) if k not in AUDIT_FIELDS}
    return AuditEntry(str(values.get("actor", "")), str(values.get("source", "")), str(values["at"]), details)


def _donation_from(item: dict[str, Any]) -> Donation:
    return model_from(Donation, item)


def _pending_from(item: dict[str, Any]) -> Donation | None:
    """A pending gift for the sweep; one stored in another shape (refused where it is read) is
    left where it is (model_from logs its key and field), so it holds up no other gift."""
    try:
        return model_from(Donation, item)
    except TypeError:
        return None


class DynamoRepository(Repository):
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table = table_name
        self.client = boto3_client

    def ping(self) -> None:
        self._get_raw({"pk": "HEALTH", "sk": "HEALTH"})

    # -- donations -----------------------------------------------------------------

    def _donation_put(self, donation: Donation) -> dict[str, Any]:
        return {"TableName": self.table, "Item": to_item(donation_values(donation))}

    def _audit_put(self, donation: Donation, audit: dict[str, str], suffix: str) -> dict[str, Any]:
        values: dict[str, Any] = dict(audit)
        values.update(keys.donation_audit(donation.id, donation.updated_at, suffix))
        values.update(entity="audit", at=donation.updated_at, version=donation.version)
        return {"Put": {"TableName": self.table, "Item": to_item(values)}}

    def create_donation(self, donation: Donation, idempotency: IdempotencyRecord | None) -> None:
        put = self._donation_put(donation)
        put["ConditionExpression"] = "attribute_not_exists(pk)"
        items: list[dict[str, Any]] = [
            {"Put": put},
            self._audit_put(
                donation, {"source": "api", "actor": "donor", "to_status": donation.status}, "created"
            ),
        ]
        if idempotency:
            record = keys.idempotency(idempotency.key_hash)
            record.update(
                request_hash=idempotency.request_hash,
                donation_id=idempotency.donation_id,
                expires_at=epoch_seconds(donation.created_at) + IDEMPOTENCY_TTL_SECONDS,
            )
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(record),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            guarded(self.client.transact_write_items, TransactItems=items)
        except ClientError as exc:
            if "ConditionalCheckFailed" in reasons(exc):
                raise ConflictError("this Idempotency-Key is already in use") from exc
            raise translate(exc) from exc

    def get_idempotency(self, key_hash: str) -> IdempotencyRecord | None:
        values = self._get(keys.idempotency(key_hash))
        if values is None:
            return None
        return IdempotencyRecord(key_hash, str(values["request_hash"]), str(values["donation_id"]))

    def get_donation(self, donation_id: str) -> Donation | None:
        response = self._get_raw(keys.donation(donation_id))
        return _donation_from(response) if response else None

    def unit_of_work(self) -> DynamoUnitOfWork:
        return DynamoUnitOfWork(self.client, self.table)

    def get_gift(self, donation_id: str, with_history: bool = False) -> GiftRecord | None:
        first = keys.AUDIT_FIRST_SK if with_history else keys.GIFT_FIRST_SK
        items = self._partition(keys.donation(donation_id)["pk"], first, keys.GIFT_LAST_SK)
        donation, refunds, disputes, history = None, [], [], []
        for item in items:
            entity = item.get("entity", {}).get("S")
            if entity == "audit":
                history.append(audit_entry(item))
            elif entity == "donation":
                donation = _donation_from(item)
            elif entity == "refund":
                refunds.append(model_from(Refund, item))
            elif entity == "dispute":
                disputes.append(model_from(Dispute, item))
        return GiftRecord(donation, refunds, disputes, tuple(history)) if donation else None

    def get_plan(self, recurring_id: str) -> RecurringPlan | None:
        item = self._get_raw(keys.plan(recurring_id))
        return model_from(RecurringPlan, item) if item else None

    def get_plan_record(self, recurring_id: str) -> PlanRecord | None:
        pk = keys.plan(recurring_id)["pk"]
        items = self._partition(pk, "INSTALLMENT#", "RECURRING")
        plan = next((model_from(RecurringPlan, i) for i in items if i["sk"]["S"] == "RECURRING"), None)
        if plan is None:
            return None
        ids = [i["donation_id"]["S"] for i in items if i["sk"]["S"].startswith("INSTALLMENT#")]
        return PlanRecord(plan, self._donations(ids))

    def list_plans(self, status: str, limit: int, cursor: str | None) -> Page:
        partition = keys.plans_by_status(status)
        return query_index(self.client, self.table, partition, limit, cursor, RecurringPlan, False, keys.plan)

    def stripe_target(self, stripe_id: str) -> StripeLink:
        values = self._get(keys.stripe_link(stripe_id)) or {}
        return StripeLink(
            **{k: str(values[k]) for k in ("donation_id", "refund_id", "recurring_id") if k in values}
        )

    def _partition(self, pk: str, first: str, last: str) -> list[dict[str, Any]]:
        """Every item of one partition whose sort key lies in [first, last], read consistently."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": to_item({":pk": pk, ":first": first, ":last": last}),
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            try:
                response = guarded(self.client.query, **request)
            except ClientError as exc:
                raise translate(exc) from exc
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _donations(self, ids: list[str]) -> list[Donation]:
        """Gifts by id, in the order given (BatchGetItem, 100 at a time, retrying what is left)."""
        found: dict[str, Donation] = {}
        for start in range(0, len(ids), 100):
            wanted = [to_item(keys.donation(i)) for i in ids[start : start + 100]]
            request = {self.table: {"Keys": wanted, "ConsistentRead": True}}
            for _ in range(5):
                try:
                    response = guarded(self.client.batch_get_item, RequestItems=request)
                except ClientError as exc:
                    raise translate(exc) from exc
                for item in response.get("Responses", {}).get(self.table, []):
                    gift = _donation_from(item)
                    found[gift.id] = gift
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return [found[i] for i in ids if i in found]

    def pending_donations(self, has_setup: bool, created_before: str, limit: int) -> list[Donation]:
        """The first `limit` pending gifts created before then: one bounded Query per shard of
        the pending index (keys.pending_partitions), merged by creation."""
        found: list[tuple[str, dict[str, Any]]] = []
        for partition in keys.pending_partitions(has_setup):
            try:
                response = guarded(
                    self.client.query,
                    TableName=self.table,
                    IndexName=PENDING_INDEX,
                    KeyConditionExpression="gsi2pk = :pending AND gsi2sk < :before",
                    ExpressionAttributeValues=to_item({":pending": partition, ":before": created_before}),
                    Limit=limit,
                )
            except ClientError as exc:
                raise translate(exc) from exc
            found.extend((str(item["gsi2sk"]["S"]), item) for item in response.get("Items", []))
        found.sort(key=lambda pair: pair[0])
        return [gift for _, item in found[:limit] if (gift := _pending_from(item)) is not None]

    def list_donations(
        self,
        start: str,
        end: str,
        limit: int,
        cursor: str | None,
        *,
        include_abandoned: bool = False,
        filters: GiftFilter | None = None,
    ) -> DonationPage:
        return dynamo_find.list_donations(
            self.client,
            self.table,
            start,
            end,
            limit,
            cursor,
            include_abandoned=include_abandoned,
            filters=filters,
        )

    def period_donations(
        self,
        start: str,
        end: str,
        page_size: int,
        *,
        include_abandoned: bool = False,
        filters: GiftFilter | None = None,
    ) -> Iterator[tuple[list[Donation], bool]]:
        return dynamo_find.period_donations(
            self.client,
            self.table,
            start,
            end,
            page_size,
            include_abandoned=include_abandoned,
            filters=filters,
        )

    def donor_page(self, email: str, limit: int, cursor: str | None) -> DonationPage:
        return dynamo_find.donor_page(self.client, self.table, email, limit, cursor)

    def donor_gifts(self, email: str) -> list[Donation]:
        return dynamo_find.donor_gifts(self.client, self.table, email)

    # -- webhook events ------------------------------------------------------------

    def mark_event_processed(self, event: StripeEvent, now: str, note: str | None = None) -> None:
        try:
            guarded(self.client.update_item, **processed_update(self.table, event, now, note))
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise DuplicateEventError("this event was processed before") from exc
            raise translate(exc) from exc

    def event_processed_before(self, event_id: str) -> bool:
        stored = self._get(keys.stripe_event(event_id)) or {}
        return bool(stored.get("processed"))

    def failed_events(self, limit: int) -> list[FailedEvent]:
        query = {
            "TableName": self.table,
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": keys.EVENTS_FAILED}),
            "ProjectionExpression": "pk, #type, failure, failed_at, attempts",
            "ExpressionAttributeNames": {"#type": "type"},
            "Limit": limit,
        }
        try:
            items = guarded(self.client.query, **query).get("Items", [])
        except ClientError as exc:
            raise translate(exc) from exc
        return [
            FailedEvent(
                id=str(v["pk"]).removeprefix("EVENT#"),
                type=str(v.get("type", "")),
                failure=str(v.get("failure", "")),
                failed_at=str(v.get("failed_at", "")),
                attempts=int(v.get("attempts", 0)),
            )
            for v in map(from_item, items)
        ]

    def keep_failed_event(self, event: StripeEvent, reason: str, now: str) -> bool:
        try:
            guarded(self.client.update_item, **failed_update(self.table, event, reason, now))
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise translate(exc) from exc
        return True

    # -- helpers -------------------------------------------------------------------

    def _get_raw(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return get_item(self.client, self.table, key)

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._get_raw(key)
        return from_item(item) if item else None
