"""DynamoDB repository for signups, contact messages, the email outbox and rate limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import keys, shards
from chalicelib.adapters.dynamo_base import (
    GSI1,
    conditional_update,
    error_code,
    from_item,
    get_item,
    guarded,
    model_from,
    put_new,
    query_index,
    reasons,
    to_item,
    translate,
)
from chalicelib.adapters.outbox_items import outbox_values
from chalicelib.domain.errors import ConcurrentUpdateError, ConflictError
from chalicelib.domain.outreach_records import ContactMessage, PendingSignup
from chalicelib.services.outreach_ports import (
    ConfirmTarget,
    OutboxMessage,
    OutreachRepository,
    Page,
    RateHit,
    SignupMove,
)

if TYPE_CHECKING:  # the pydantic models: the form routes, which use neither, load no pydantic
    from chalicelib.domain.outreach import Subscriber


class DynamoOutreachRepository(OutreachRepository):
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table = table_name
        self.client = boto3_client

    # -- rate limits -----------------------------------------------------------------

    def hit_rate_limit(
        self, scope: str, key_hash: str, window_start: int, limit: int, expires_at: int
    ) -> bool:
        return conditional_update(
            self.client,
            TableName=self.table,
            Key=to_item(keys.rate_bucket(scope, key_hash, window_start)),
            UpdateExpression="ADD hits :one SET expires_at = :expires",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues=to_item({":one": 1, ":limit": limit, ":expires": expires_at}),
        )

    def take_rate_hits(self, hits: Sequence[RateHit]) -> None:
        self._transact([], hits=hits)

    def rate_hits(self, scope: str, key_hash: str, window_start: int) -> int:
        item = self._get(keys.rate_bucket(scope, key_hash, window_start))
        return int(from_item(item).get("hits", 0)) if item else 0

    def release_rate_limit(self, scope: str, key_hash: str, window_start: int) -> None:
        conditional_update(
            self.client,
            TableName=self.table,
            Key=to_item(keys.rate_bucket(scope, key_hash, window_start)),
            UpdateExpression="ADD hits :minus_one",
            ConditionExpression="hits > :zero",
            ExpressionAttributeValues=to_item({":minus_one": -1, ":zero": 0}),
        )

    def alert_once(
        self, scope: str, key_hash: str, window_start: int, expires_at: int, outbox: OutboxMessage
    ) -> bool:
        marker = {
            **keys.alert_marker(scope, key_hash, window_start),
            "entity": "alert",
            "outbox_id": outbox.id,
            "expires_at": expires_at,
        }
        try:
            self._transact([self._put(marker, new=True), self._outbox_put(outbox)], once_index=0)
        except ConflictError:
            return False
        return True

    # -- subscribers -----------------------------------------------------------------

    def get_subscriber(self, subscriber_id: str) -> Subscriber | None:
        from chalicelib.domain.outreach import Subscriber

        item = self._get(keys.subscriber(subscriber_id))
        return model_from(Subscriber, item) if item else None

    def save_subscriber(
        self,
        subscriber: Subscriber,
        expected_version: int | None,
        *,
        event: str,
        token_hash: str | None = None,
        token_expires_at: int | None = None,
        outbox: OutboxMessage | None = None,
        used_token_hash: str | None = None,
        now_epoch: int = 0,
        signup_move: SignupMove | None = None,
    ) -> None:
        values = {
            **subscriber.model_dump(),
            **keys.subscriber(subscriber.id),
            "entity": "subscriber",
            "gsi1pk": keys.SIGNUPS_INDEX,
            "gsi1sk": f"{subscriber.created_at}#{subscriber.id}",
        }
        put: dict[str, Any] = {"TableName": self.table, "Item": to_item(values)}
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = to_item({":expected": expected_version})
        audit = {
            **keys.subscriber_event(subscriber.id, subscriber.updated_at, event),
            "entity": "event",
            "kind": event,
            "at": subscriber.updated_at,
            "status": subscriber.status,
        }
        items: list[dict[str, Any]] = [{"Put": put}, self._put(audit)]
        if token_hash:
            items.append(
                self._put(
                    {
                        **keys.confirm_token(token_hash),
                        "entity": "confirm_token",
                        "subscriber_id": subscriber.id,
                        "signup_id": signup_move.signup_id if signup_move else None,
                        "issued_at": subscriber.updated_at,
                        "expires_at": token_expires_at,
                    },
                    new=True,
                )
            )
        once_index = None
        if used_token_hash:
            once_index = len(items)
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": to_item(keys.confirm_token(used_token_hash)),
                        "UpdateExpression": "SET used_at = :now",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used_at) "
                        "AND expires_at > :epoch",
                        "ExpressionAttributeValues": to_item(
                            {":now": subscriber.updated_at, ":epoch": now_epoch}
                        ),
                    }
                }
            )
        if outbox:
            items.append(self._outbox_put(outbox))
        if signup_move:
            items.append({"Update": self._signup_move(signup_move)})
        self._transact(items, once_index=once_index)

    def confirm_token_target(self, token_hash: str) -> ConfirmTarget | None:
        item = self._get(keys.confirm_token(token_hash))
        if not item:
            return None
        values = from_item(item)
        expires_at = values.get("expires_at")
        return ConfirmTarget(
            str(values["subscriber_id"]),
            values.get("signup_id"),
            values.get("issued_at"),
            int(expires_at) if expires_at is not None else None,
        )

    # -- signup requests -------------------------------------------------------------

    def create_pending_signup(self, signup: PendingSignup, *, hits: Sequence[RateHit] = ()) -> None:
        values = {
            **asdict(signup),
            **keys.pending_signup(signup.id),
            "entity": "signup",
            "gsi1pk": keys.SIGNUPS_RECEIVED,
            "gsi1sk": f"{signup.created_at}#{signup.id}",
        }
        if hits:
            self._transact([self._put(values, new=True)], once_index=0, hits=hits)
        elif not put_new(self.client, self.table, values):
            raise ConflictError("this signup request was already stored")

    def get_pending_signup(self, signup_id: str) -> PendingSignup | None:
        item = self._get(keys.pending_signup(signup_id))
        return model_from(PendingSignup, item) if item else None

    def move_pending_signup(self, move: SignupMove) -> bool:
        return conditional_update(self.client, **self._signup_move(move))

    def received_signups(self, before: str, limit: int) -> list[str]:
        return self._ids_before(keys.SIGNUPS_RECEIVED, before, limit)

    def record_signup_failure(self, signup_id: str, error: str) -> int:
        try:
            response = guarded(
                self.client.update_item,
                **self._signup_received_update(
                    signup_id, "ADD attempts :one SET last_error = :error", {":one": 1, ":error": error[:500]}
                ),
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return 0
            raise translate(exc) from exc
        return int(from_item(response["Attributes"])["attempts"])

    def delay_signup(self, signup_id: str, retry_at: str) -> None:
        sort = {":sort": f"{retry_at}#{signup_id}"}
        conditional_update(self.client, **self._signup_received_update(signup_id, "SET gsi1sk = :sort", sort))

    def _signup_received_update(
        self, signup_id: str, expression: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Key": to_item(keys.pending_signup(signup_id)),
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :received",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item({**values, ":received": "received"}),
        }

    def _signup_move(self, move: SignupMove) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "Key": to_item(keys.pending_signup(move.signup_id)),
            "UpdateExpression": "SET #status = :to REMOVE gsi1pk, gsi1sk",
            "ConditionExpression": "#status = :from",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item({":to": move.to_status, ":from": move.from_status}),
        }

    def list_subscribers(self, limit: int, cursor: str | None) -> Page:
        from chalicelib.domain.outreach import Subscriber

        return self._query_index(
            keys.SIGNUPS_INDEX, limit, cursor, Subscriber, forward=True, record=keys.subscriber
        )

    # -- contact messages ------------------------------------------------------------

    def create_contact(
        self,
        message: ContactMessage,
        outbox: list[OutboxMessage],
        submission: str,
        expires_at: int,
        *,
        hits: Sequence[RateHit] = (),
    ) -> None:
        seen = {**keys.submission(submission), "entity": "submission", "expires_at": expires_at}
        items = [self._put(seen, new=True), self._contact_put(message, new=True)]
        items += [self._outbox_put(o) for o in outbox]
        self._transact(items, once_index=0, hits=hits)

    def get_contact(self, contact_id: str) -> ContactMessage | None:
        item = self._get(keys.contact(contact_id))
        return model_from(ContactMessage, item) if item else None

    def save_contact(self, message: ContactMessage, expected_updated_at: str) -> None:
        put = self._contact_put(message)
        put["Put"]["ConditionExpression"] = "updated_at = :expected"
        put["Put"]["ExpressionAttributeValues"] = to_item({":expected": expected_updated_at})
        audit = {
            **keys.contact_audit(message.id, message.updated_at),
            "entity": "audit",
            "status": message.status,
            "by": message.updated_by,
            "at": message.updated_at,
        }
        self._transact([put, self._put(audit)])

    def list_contacts(self, topic: str, status: str, limit: int, cursor: str | None) -> Page:
        return self._query_index(
            keys.contacts_by_program(topic, status),
            limit,
            cursor,
            ContactMessage,
            forward=False,
            record=keys.contact,
        )

    # -- outbox ----------------------------------------------------------------------

    def claim_outbox(self, message_id: str, now: str, lease_until: str) -> OutboxMessage | None:
        try:
            response = guarded(
                self.client.update_item,
                TableName=self.table,
                Key=to_item(keys.outbox(message_id)),
                UpdateExpression="SET lease_until = :lease ADD attempts :one",
                ConditionExpression="#status = :pending AND (attribute_not_exists(lease_until) "
                "OR lease_until < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {":lease": lease_until, ":one": 1, ":now": now, ":pending": "pending"}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise translate(exc) from exc
        values = from_item(response["Attributes"])
        return OutboxMessage(
            id=values["id"],
            template=values["template"],
            to=values["to"],
            context=values["context"],
            created_at=values["created_at"],
            reply_to=values.get("reply_to"),
            unsubscribe_url=values.get("unsubscribe_url"),
            status=values["status"],
            attempts=int(values["attempts"]),
        )

    def mark_outbox_sent(self, message_id: str, now: str) -> None:
        self._update(
            message_id,
            "SET #status = :sent, sent_at = :now REMOVE gsi1pk, gsi1sk, lease_until",
            {":sent": "sent", ":now": now},
        )

    def release_outbox(self, message_id: str, retry_at: str, error: str) -> None:
        conditional_update(
            self.client,
            TableName=self.table,
            Key=to_item(keys.outbox(message_id)),
            UpdateExpression="SET lease_until = :retry, last_error = :error, gsi1sk = :sort",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":retry": retry_at,
                    ":sort": f"{retry_at}#{message_id}",
                    ":error": error[:500],
                    ":pending": "pending",
                }
            ),
        )

    def fail_outbox(self, message_id: str, now: str, reason: str) -> None:
        conditional_update(
            self.client,
            TableName=self.table,
            Key=to_item(keys.outbox(message_id)),
            UpdateExpression="SET #status = :failed, failed_at = :now, last_error = :reason, "
            "gsi1pk = :index, gsi1sk = :sort REMOVE lease_until",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":failed": "failed",
                    ":pending": "pending",
                    ":now": now,
                    ":reason": reason[:500],
                    ":index": keys.OUTBOX_FAILED,
                    ":sort": f"{now}#{message_id}",
                }
            ),
        )

    def list_outbox(self, status: str, limit: int, cursor: str | None) -> Page:
        from chalicelib.domain.outreach import OutboxRecord

        if status == "failed":
            return self._query_index(keys.OUTBOX_FAILED, limit, cursor, OutboxRecord, False, keys.outbox)
        partitions = keys.outbox_pending_partitions()
        return shards.query_shards(
            self.client, self.table, partitions, limit, cursor, OutboxRecord, keys.outbox
        )

    def due_outbox(self, now: str, limit: int) -> list[str]:
        partitions = keys.outbox_pending_partitions()
        return shards.first_before(self.client, self.table, partitions, now + "~", limit)  # "~" > "#<id>"

    def _ids_before(self, partition: str, before: str, limit: int) -> list[str]:
        """The ids of the first `limit` items of a GSI1 queue (sorted `<time>#<id>`) before `before`."""
        try:
            response = guarded(
                self.client.query,
                TableName=self.table,
                IndexName=GSI1,
                Limit=limit,
                KeyConditionExpression="gsi1pk = :queue AND gsi1sk < :before",
                ExpressionAttributeValues=to_item({":queue": partition, ":before": before}),
            )
        except ClientError as exc:
            raise translate(exc) from exc
        return [str(item["pk"]["S"]).partition("#")[2] for item in response.get("Items", [])]

    # -- helpers ---------------------------------------------------------------------

    def _put(self, values: dict[str, Any], new: bool = False) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": to_item(values)}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    def _contact_put(self, message: ContactMessage, new: bool = False) -> dict[str, Any]:
        values = {
            **asdict(message),
            **keys.contact(message.id),
            "entity": "contact",
            "gsi1pk": keys.contacts_by_program(message.topic, message.status),
            "gsi1sk": f"{message.created_at}#{message.id}",
        }
        return self._put(values, new=new)

    def _outbox_put(self, message: OutboxMessage) -> dict[str, Any]:
        return self._put(outbox_values(message), new=True)

    def _update(self, message_id: str, expression: str, values: dict[str, Any]) -> None:
        names = {"ExpressionAttributeNames": {"#status": "status"}} if "#status" in expression else {}
        try:
            guarded(
                self.client.update_item,
                TableName=self.table,
                Key=to_item(keys.outbox(message_id)),
                UpdateExpression=expression,
                ExpressionAttributeValues=to_item(values),
                **names,
            )
        except ClientError as exc:
            raise translate(exc) from exc

    def _transact(
        self, items: list[dict[str, Any]], once_index: int | None = None, hits: Sequence[RateHit] = ()
    ) -> None:
        """Write all or nothing, the rate-limit counts after the items. A failed condition on
        items[once_index] means "already used" (a confirmation token, a form submission, our
        own write retried after its answer was lost): ConflictError, whatever the counts say
        (the caller decides whether a replay counts). Then a full bucket: RateLimitedError.
        Any other failed condition: a lost race."""
        counts = [self._rate_hit(hit) for hit in hits]
        try:
            guarded(self.client.transact_write_items, TransactItems=items + counts)
        except ClientError as exc:
            codes = reasons(exc)
            own = codes[: len(items)]
            if once_index is not None and own[once_index : once_index + 1] == ["ConditionalCheckFailed"]:
                raise ConflictError("already used: this link or this submission") from exc
            for hit, code in zip(hits, codes[len(items) :], strict=False):
                if code == "ConditionalCheckFailed":
                    raise hit.refused() from exc
            if "ConditionalCheckFailed" in own:
                raise ConcurrentUpdateError("the record changed since it was read") from exc
            raise translate(exc) from exc

    def _rate_hit(self, hit: RateHit) -> dict[str, Any]:
        """The same conditional ADD as hit_rate_limit, as a transaction item."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item(keys.rate_bucket(hit.scope, hit.key_hash, hit.window_start)),
                "UpdateExpression": "ADD hits :one SET expires_at = :expires",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": to_item(
                    {":one": 1, ":limit": hit.limit, ":expires": hit.expires_at}
                ),
            }
        }

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return get_item(self.client, self.table, key)

    def _query_index(
        self,
        partition: str,
        limit: int,
        cursor: str | None,
        model: Any,
        forward: bool,
        record: Callable[[str], keys.Key],
    ) -> Page:
        return query_index(self.client, self.table, partition, limit, cursor, model, forward, record)
