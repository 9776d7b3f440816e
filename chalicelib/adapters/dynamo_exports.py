"""Export jobs in the table: created with their audit entry in one transaction, then ended
once (done or failed) by a conditional update that only a running export passes."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import keys
from chalicelib.adapters.dynamo_base import (
    conditional_update,
    from_item,
    get_item,
    guarded,
    model_from,
    reasons,
    to_item,
    translate,
)
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.exports import Export


class DynamoExportRepository:
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table = table_name
        self.client = boto3_client

    def create_export(self, export: Export) -> None:
        record = {**export.model_dump(), **keys.export(export.id), "entity": "export"}
        audit = {
            **keys.record_audit(keys.export(export.id), export.created_at, "requested"),
            "entity": "audit",
            "action": "export_requested",
            "actor": export.requested_by,
            "at": export.created_at,
            "kind": export.kind,
            "from": export.start,
            "to": export.end,
            "filters": export.filters,
        }
        items = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(v),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for v in (record, audit)
        ]
        try:
            guarded(self.client.transact_write_items, TransactItems=items)
        except ClientError as exc:
            if "ConditionalCheckFailed" in reasons(exc):
                raise ConflictError("this export already exists") from exc
            raise translate(exc) from exc

    def get_export(self, export_id: str) -> Export | None:
        item = get_item(self.client, self.table, keys.export(export_id))
        return model_from(Export, item) if item else None

    def finish_export(self, export_id: str, rows: int, object_key: str, at: str) -> bool:
        return self._end(
            export_id, at, "SET #rows = :rows, object_key = :key", {":rows": rows, ":key": object_key}, "done"
        )

    def fail_export(self, export_id: str, reason: str, at: str) -> bool:
        return self._end(export_id, at, "SET reason = :reason", {":reason": reason[:500]}, "failed")

    def _end(self, export_id: str, at: str, update: str, values: dict[str, Any], status: str) -> bool:
        """Move a running export to its end; False when it had already ended."""
        return conditional_update(
            self.client,
            TableName=self.table,
            Key=to_item(keys.export(export_id)),
            UpdateExpression=update + ", #status = :status, finished_at = :at ADD version :one",
            ConditionExpression="#status = :running",
            ExpressionAttributeNames={
                "#status": "status",
                **({"#rows": "rows"} if "#rows" in update else {}),
            },
            ExpressionAttributeValues=to_item(
                {**values, ":status": status, ":at": at, ":running": "running", ":one": 1}
            ),
        )

    def plan_links(self, plan_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """Stripe's subscription and customer ids of these plans (BatchGetItem, 100 a call,
        only the two attributes)."""
        found: dict[str, tuple[str | None, str | None]] = {}
        for start in range(0, len(plan_ids), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [to_item(keys.plan(i)) for i in plan_ids[start : start + 100]],
                    "ProjectionExpression": "id, subscription_id, customer_id",
                }
            }
            for _ in range(5):
                try:
                    response = guarded(self.client.batch_get_item, RequestItems=request)
                except ClientError as exc:
                    raise translate(exc) from exc
                for item in response.get("Responses", {}).get(self.table, []):
                    values = from_item(item)
                    sub, cus = values.get("subscription_id"), values.get("customer_id")
                    found[str(values["id"])] = (str(sub) if sub else None, str(cus) if cus else None)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found
