"""What `make package` adds to the template Chalice writes, for every function it finds.

Chalice names each function's runtime after the Python that runs it; the Lambda code is built
for RUNTIME instead (devstack/package.py), so the template says so. Every function gets its
own log group with a retention, and alarms on its errors and throttles. Functions run on a
schedule send what fails to a queue with an alarm. The API calls the published alias of its
function, the one SnapStart serves (infra/resources.json turns it on).
"""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "python3.13"
API_FUNCTION = "APIHandler"
ALIAS = "live"
SCHEDULE_FAILURES = "ScheduleFailures"
UNQUALIFIED = "${APIHandler.Arn}"
QUALIFIED = "${APIHandlerAlias" + ALIAS + "}"  # the AWS::Lambda::Alias SAM makes for AutoPublishAlias

Template = dict[str, Any]


def functions(template: Template) -> list[str]:
    return [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]


def finish(template: Template) -> Template:
    resources = template["Resources"]
    for name in functions(template):
        properties = resources[name]["Properties"]
        properties["Runtime"] = RUNTIME
        resources[f"{name}LogGroup"] = _log_group(name)
        for metric in ("Errors", "Throttles"):
            resources[f"{name}{metric}Alarm"] = _alarm(name, metric)
        for event in properties.get("Events", {}).values():
            if event["Type"] == "Schedule":
                _failures_to_queue(properties, event)
    _api_calls_the_alias(resources)
    return template


def _log_group(function: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"},  # the group Lambda writes to
            "RetentionInDays": {"Ref": "LogRetentionDays"},
        },
    }


def _alarm(function: str, metric: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"{function}: {metric.lower()} in the last 5 minutes",
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
        },
    }


def _failures_to_queue(properties: dict[str, Any], event: dict[str, Any]) -> None:
    """A scheduled run EventBridge could not deliver, or that failed its retries, is kept."""
    queue = {"Fn::GetAtt": [SCHEDULE_FAILURES, "Arn"]}
    event["Properties"]["DeadLetterConfig"] = {"Arn": queue}
    event["Properties"]["RetryPolicy"] = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    properties["EventInvokeConfig"] = {
        "MaximumRetryAttempts": 0,  # the next scheduled run is the retry
        "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": queue}},
    }


def _api_calls_the_alias(resources: dict[str, Any]) -> None:
    """SnapStart serves published versions only: each route's integration names the alias."""
    api = resources["RestAPI"]["Properties"]
    text = json.dumps(api["DefinitionBody"])
    api["DefinitionBody"] = json.loads(text.replace(UNQUALIFIED, QUALIFIED))
