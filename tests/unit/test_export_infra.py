"""The export bucket and worker as the deploy template declares them, checked without AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESOURCES = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(RESOURCES.read_text())["Resources"]
    return resources


def test_the_export_bucket_is_private_encrypted_and_forgets_exports_after_a_week() -> None:
    bucket = _resources()["ExportBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == ("exports/", 7, "Enabled")


def test_the_roles_reach_only_the_exports_prefix() -> None:
    resources = _resources()
    for name, role, actions in (
        ("ExportFilesRead", "ApiHandlerRole", {"s3:GetObject"}),
        ("ExportFilesWrite", "ExportStreamRole", {"s3:PutObject", "s3:AbortMultipartUpload"}),
    ):
        policy = resources[name]["Properties"]
        assert policy["Roles"] == [{"Ref": role}]
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert set(statement["Action"]) == actions
        assert statement["Resource"] == [{"Fn::Sub": "${ExportBucket.Arn}/exports/*"}]


def test_the_export_worker_sees_only_new_export_jobs_and_has_lambdas_longest_timeout() -> None:
    source = _resources()["ExportStream"]["Properties"]["Events"]["ExportStreamDynamodbEventSource"]
    pattern = json.loads(source["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "EXPORT#"}]}, "sk": {"S": ["EXPORT"]}}},
    }
    config = json.loads((RESOURCES.parents[1] / ".chalice" / "config.json").read_text())
    assert config["lambda_functions"]["export_stream"]["lambda_timeout"] == 900
