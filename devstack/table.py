"""Create the table from infra/resources.json, the same definition the deploy template uses."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

RESOURCES = Path(__file__).resolve().parent.parent / "infra" / "resources.json"


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable parameters from the CloudFormation properties."""
    props = json.loads(RESOURCES.read_text())["Resources"]["StewardTable"]["Properties"]
    stream = props.get("StreamSpecification")
    params: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": props["BillingMode"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props.get("GlobalSecondaryIndexes", []),
    }
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return params


def ttl_attribute() -> str | None:
    props = json.loads(RESOURCES.read_text())["Resources"]["StewardTable"]["Properties"]
    spec = props.get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


def ensure_table(client: Any, table_name: str, timeout: float = 30) -> bool:
    """Create the table unless it exists; True when it was created now."""
    try:
        client.create_table(**table_definition(table_name))
        created = True
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        created = False
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=table_name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} did not become ACTIVE")
        time.sleep(0.2)
    attribute = ttl_attribute()
    if created and attribute:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True},
        )
    return created
