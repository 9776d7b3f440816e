"""GET /health's check: one consistent read of the table, without the repositories' models."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo_base import get_item


class DynamoHealth:
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table = table_name
        self.client = boto3_client

    def ping(self) -> None:
        """Raises UpstreamError when DynamoDB does not answer or is busy."""
        get_item(self.client, self.table, {"pk": "HEALTH", "sk": "HEALTH"})
