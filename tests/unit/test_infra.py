"""What the deploy template adds to Chalice's own: checked without AWS."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.errors import NO_ROUTE, NO_ROUTE_HEADERS

RESOURCES = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


def test_an_unknown_route_answers_404_in_the_error_shape_on_api_gateway() -> None:
    definition = json.loads(RESOURCES.read_text())["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    response = definition["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert response["statusCode"] == 404
    assert json.loads(response["responseTemplates"]["application/json"]) == NO_ROUTE
    headers = {
        name.removeprefix("gatewayresponse.header."): value.strip("'")
        for name, value in response["responseParameters"].items()
    }
    assert headers == NO_ROUTE_HEADERS  # an unknown /staff/ path is a staff answer too


def test_every_gateway_answer_has_the_error_shape_and_the_staff_headers() -> None:
    """API Gateway's own answers (throttled, too large, the Lambda timed out or crashed) reach
    staff routes too, so they carry the same shape and headers as the app's."""
    definition = json.loads(RESOURCES.read_text())["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    answers = definition["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN"} <= set(answers)
    for name, answer in answers.items():
        # $context.error.messageString is the gateway's message as a quoted JSON string.
        template = answer["responseTemplates"]["application/json"]
        body = json.loads(template.replace("$context.error.messageString", json.dumps("Too Many Requests")))
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, name
        headers = {
            key.removeprefix("gatewayresponse.header."): value.strip("'")
            for key, value in answer["responseParameters"].items()
        }
        assert headers == NO_ROUTE_HEADERS, name


def test_a_browser_gets_the_receipt_pdf_as_a_file() -> None:
    """API Gateway decides from the first Accept type whether to decode a base64 body, and a
    browser's is text/html: only `*/*` lets the PDF through as bytes. The app still encodes
    only binary types (PDF among them), so JSON and pages pass through as text."""
    from app import app

    definition = json.loads(RESOURCES.read_text())["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert definition["x-amazon-apigateway-binary-media-types"] == ["*/*"]
    assert "application/pdf" in app.api.binary_types and "application/json" not in app.api.binary_types


def _resources() -> dict[str, object]:
    resources: dict[str, object] = json.loads(RESOURCES.read_text())["Resources"]
    return resources


def test_the_stream_filter_lets_through_every_record_the_stream_handler_acts_on() -> None:
    source = _resources()["OutboxStream"]["Properties"]["Events"]["OutboxStreamDynamodbEventSource"]  # type: ignore[index]
    pattern = json.loads(source["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    prefixes = {p["prefix"] for p in pattern["dynamodb"]["Keys"]["pk"]["S"]}
    assert prefixes == {"OUTBOX#", "SIGNUP#"}  # emails to send, signup requests to handle
    assert source["Properties"]["BisectBatchOnFunctionError"] is True


def test_every_function_that_reads_the_table_may() -> None:
    from app import app

    roles = {role["Ref"] for role in _resources()["StewardTableAccess"]["Properties"]["Roles"]}  # type: ignore[index]
    functions = {"".join(part.title() for part in e.name.split("_")) + "Role" for e in app.event_sources}
    assert functions | {"ApiHandlerRole"} <= roles


def test_the_api_function_names_nothing_that_names_it() -> None:
    """API Gateway's definition calls APIHandler by its ARN, so APIHandler may not name RestAPI
    (Globals reach it too): CloudFormation refuses the circular dependency. The API's URL goes
    only to the functions that write links into email."""
    template = json.loads(RESOURCES.read_text())
    assert "RestAPI" not in json.dumps(template.get("Globals", {}))
    assert "RestAPI" not in json.dumps(template["Resources"].get("APIHandler", {}))
    for name in ("OutboxStream", "SignupSweep"):
        variables = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert "RestAPI" in json.dumps(variables["STEWARD_PUBLIC_URL"]), name


def test_mail_is_sent_from_several_batches_per_stream_shard_and_totals_from_one() -> None:
    """A telethon's receipts (README "A telethon peak"): sends are independent, so the outbox
    reads each stream shard with 4 concurrent batches. The totals write each hot cell once per
    batch: one batch per shard at a time, gathered for a few seconds so batches are full, keeps
    those writes (and the conflicts between batches) far below an item's limit."""
    events = {
        name: _resources()[name]["Properties"]["Events"][f"{name}DynamodbEventSource"]["Properties"]  # type: ignore[index]
        for name in ("OutboxStream", "TotalsStream")
    }
    assert events["OutboxStream"]["ParallelizationFactor"] == 4
    assert events["TotalsStream"].get("ParallelizationFactor", 1) == 1
    assert 1 <= events["TotalsStream"]["MaximumBatchingWindowInSeconds"] <= 10


def test_the_totals_stream_sees_every_new_image_of_a_gift_and_nothing_else() -> None:
    resources = _resources()
    spec = resources["StewardTable"]["Properties"]["StreamSpecification"]  # type: ignore[index]
    assert spec["StreamViewType"] in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    source = resources["TotalsStream"]["Properties"]["Events"]["TotalsStreamDynamodbEventSource"]  # type: ignore[index]
    pattern = json.loads(source["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "DONATION#"}]}, "sk": {"S": ["DONATION"]}}},
    }
    assert source["Properties"]["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in source["Properties"]["DestinationConfig"]


# The template `make package` writes (devstack/package.py), built here without the
# dependencies, which change the code zip and not the template.

SECRET_SETTINGS = (
    "STEWARD_STRIPE_SECRET_KEY",
    "STEWARD_STRIPE_PUBLISHABLE_KEY",
    "STEWARD_STRIPE_WEBHOOK_SECRET",
    "STEWARD_SIGNING_KEY",
    "STEWARD_PREVIOUS_SIGNING_KEYS",
    "STEWARD_IDENTITY_KEY",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from devstack.package import package

    path = package(tmp_path_factory.mktemp("package") / "out", with_dependencies=False)
    built: dict[str, Any] = json.loads(path.read_text())
    return built


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Everything a role may do: its inline policies and the policies attached to it."""
    resources = template["Resources"]
    found = [
        s for p in resources[role]["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]
    ]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def _role_of(function: dict[str, Any]) -> str:
    role: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _resources_of(statement: dict[str, Any]) -> list[Any]:
    named = statement["Resource"]
    return named if isinstance(named, list) else [named]


def test_every_function_runs_python_3_13_and_the_api_calls_its_snapstart_alias(
    template: dict[str, Any],
) -> None:
    functions = _functions(template)
    assert {f["Properties"]["Runtime"] for f in functions.values()} == {"python3.13"}
    api = functions["APIHandler"]["Properties"]
    assert api["SnapStart"] == {"ApplyOn": "PublishedVersions"} and api["AutoPublishAlias"] == "live"
    definition = json.dumps(template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"])
    assert "${APIHandler.Arn}" not in definition and definition.count("${APIHandlerAliaslive}") >= 20
    permission = template["Resources"]["APIHandlerInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "APIHandlerAliaslive"}


def test_a_new_config_revision_reaches_every_function_and_publishes_the_api_anew(
    template: dict[str, Any],
) -> None:
    # A parameter's new value alone publishes no new version of the aliased API function (its
    # Ref hashes the same), and a changed secret changes nothing in the template at all: the
    # revision does both, and changes every function's configuration so containers start anew.
    assert template["Parameters"]["ConfigRevision"]["Type"] == "String"
    api = _functions(template)["APIHandler"]["Properties"]
    assert api["AutoPublishCodeSha256"] == {"Ref": "ConfigRevision"}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["STEWARD_CONFIG_REVISION"] == {"Ref": "ConfigRevision"}


def test_each_function_has_its_own_role_and_none_may_use_dynamodb_on_everything(
    template: dict[str, Any],
) -> None:
    functions = _functions(template)
    roles = [_role_of(f) for f in functions.values()]
    assert len(set(roles)) == len(functions)
    for role in roles:
        statements = _statements(template, role)
        assert statements, role
        for statement in statements:
            assert statement["Effect"] == "Allow"
            assert "*" not in _actions(statement) and not any(
                a.endswith(":*") for a in _actions(statement)
            ), role
            if any(a.startswith("dynamodb:") for a in _actions(statement)):
                assert "*" not in _resources_of(statement), role
                assert all("StewardTable" in json.dumps(r) for r in _resources_of(statement)), role
            assert all(r != "*" and "arn:*:" not in json.dumps(r) for r in _resources_of(statement)), role


def _who_may(template: dict[str, Any], action: str) -> set[str]:
    return {
        name
        for name, function in _functions(template).items()
        if any(action in _actions(s) for s in _statements(template, _role_of(function)))
    }


def test_each_function_reaches_only_the_secrets_mail_and_stream_it_uses(template: dict[str, Any]) -> None:
    assert _who_may(template, "ses:SendEmail") == {"OutboxStream", "OutboxSweep"}
    assert _who_may(template, "dynamodb:GetRecords") == {"OutboxStream", "TotalsStream", "ExportStream"}
    readers = {
        name: {
            json.dumps(r)
            for s in _statements(template, _role_of(f))
            if "secretsmanager:GetSecretValue" in _actions(s)
            for r in _resources_of(s)
        }
        for name, f in _functions(template).items()
    }
    stripe = {n for n, found in readers.items() if any("${StripeSecretName}-??????" in r for r in found)}
    app = {n for n, found in readers.items() if any("${AppSecretName}-??????" in r for r in found)}
    assert stripe == {"APIHandler", "DonationSweep"}
    assert app == {"APIHandler", "OutboxStream", "SignupSweep"}


def test_no_secret_is_in_any_functions_environment(template: dict[str, Any]) -> None:
    environments = [template["Globals"]["Function"]["Environment"]["Variables"]] + [
        f["Properties"].get("Environment", {}).get("Variables", {}) for f in _functions(template).values()
    ]
    for variables in environments:
        assert not set(SECRET_SETTINGS) & set(variables)
        assert "resolve:secretsmanager" not in json.dumps(variables)
    names = environments[0]
    assert names["STEWARD_STRIPE_SECRET_ID"] == {"Ref": "StripeSecretName"}
    assert names["STEWARD_APP_SECRET_ID"] == {"Ref": "AppSecretName"}


def test_the_table_has_point_in_time_recovery_and_encryption(template: dict[str, Any]) -> None:
    table = template["Resources"]["StewardTable"]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}


def _alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def test_alarms_watch_5xx_errors_throttles_failed_mail_and_every_on_failure_queue(
    template: dict[str, Any],
) -> None:
    alarms = _alarms(template)
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    watched = {(a["Namespace"], a["MetricName"], json.dumps(a["Dimensions"])) for a in alarms}
    for name in _functions(template):
        for metric in ("Errors", "Throttles"):
            assert (
                "AWS/Lambda",
                metric,
                json.dumps([{"Name": "FunctionName", "Value": {"Ref": name}}]),
            ) in watched
    assert any(a["Namespace"] == "AWS/ApiGateway" and a["MetricName"] == "5XXError" for a in alarms)
    assert any(a["Namespace"] == "Steward" and a["MetricName"] == "MailFailed" for a in alarms)
    resources = template["Resources"]
    filters = {
        r["Properties"]["LogGroupName"]["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
        and r["Properties"]["MetricTransformations"][0]["MetricName"] == "MailFailed"
    }
    assert filters == {"OutboxStreamLogGroup", "OutboxSweepLogGroup"}  # the functions that send mail
    destinations = set(
        re.findall(r'"OnFailure": \{[^{}]*?"Destination": \{"Fn::GetAtt": \["(\w+)"', json.dumps(resources))
    )
    destinations |= set(
        re.findall(r'"DeadLetterConfig": \{"Arn": \{"Fn::GetAtt": \["(\w+)"', json.dumps(resources))
    )
    assert destinations == {"OutboxStreamFailures", "TotalsStreamFailures", "ScheduleFailures"}
    depth = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert depth == destinations


def test_every_scheduled_run_that_fails_is_kept_in_a_queue_its_function_may_send_to(
    template: dict[str, Any],
) -> None:
    for name, function in _functions(template).items():
        events = function["Properties"].get("Events", {}).values()
        if not any(e["Type"] == "Schedule" for e in events):
            continue
        queue = {"Fn::GetAtt": ["ScheduleFailures", "Arn"]}
        assert (
            function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"]
            == queue
        )
        statements = _statements(template, _role_of(function))
        assert any("sqs:SendMessage" in _actions(s) and queue in _resources_of(s) for s in statements), name


def test_every_log_group_keeps_its_logs_for_the_configured_days(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    groups = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert all(g["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values())
    for name in _functions(template):
        assert groups[f"{name}LogGroup"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{name}}}"}
    stage = resources["RestAPI"]["Properties"]["AccessLogSetting"]
    assert stage["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    assert "sourceIp" not in stage["Format"]  # IPs are kept only as keyed hashes


def test_the_api_stage_throttles_every_route_and_the_forms_more(template: dict[str, Any]) -> None:
    settings = {
        (s["ResourcePath"], s["HttpMethod"]): s
        for s in template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    }
    assert settings[("/*", "*")]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings[("/*", "*")]["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    for path in ("/~1contact", "/~1signups"):
        assert settings[(path, "POST")]["ThrottlingRateLimit"] == {"Ref": "FormRateLimit"}
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert "post" in paths["/contact"] and "post" in paths["/signups"]


def test_the_allowed_origins_reach_every_function_from_a_parameter(template: dict[str, Any]) -> None:
    assert "Default" not in template["Parameters"]["AllowedOrigins"]  # each deploy names its own
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["STEWARD_ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigins"}
    for function in _functions(template).values():
        assert "STEWARD_ALLOWED_ORIGINS" not in function["Properties"].get("Environment", {}).get(
            "Variables", {}
        )


@pytest.mark.skipif(
    not (RESOURCES.parents[1] / "chalicelib" / "api" / "cors.py").exists(),
    reason="the public routes answer their allowed origins once chalicelib/api/cors.py exists",
)
def test_no_route_of_the_template_answers_any_origin(template: dict[str, Any]) -> None:
    assert "'*'" not in json.dumps(template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"])


def test_the_code_zip_refuses_a_module_built_for_another_python(tmp_path: Path) -> None:
    import zipfile

    from devstack.package import check_binaries

    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu.so", b"")
        archive.writestr("cryptography/hazmat/bindings/_rust.abi3.so", b"")
    check_binaries(good)
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so", b"")
    with pytest.raises(SystemExit, match="cpython-311"):
        check_binaries(bad)


def test_the_code_zip_carries_bytecode_for_the_runtime_used_whatever_the_source_s_time(
    tmp_path: Path,
) -> None:
    """Lambda's code folder is read-only: without .pyc every cold start compiles from source."""
    import subprocess
    import zipfile

    from devstack import package

    python = package.runtime_python()
    if python is None:
        pytest.skip(f"no CPython {package.PYTHON_VERSION} on this machine")
    deployment = tmp_path / "deployment.zip"
    with zipfile.ZipFile(deployment, "w") as archive:
        archive.writestr("chalicelib/__init__.py", "")
        archive.writestr("chalicelib/answer.py", "ANSWER = 1\n")
        archive.writestr("broken.py", "def (:\n")  # left as source
    assert package.add_bytecode(deployment, python) == 2
    with zipfile.ZipFile(deployment) as archive:
        archive.extractall(tmp_path / "task")
        cached = archive.read(f"chalicelib/__pycache__/answer.{package.ABI_TAG}.pyc")
    assert int.from_bytes(cached[4:8], "little") == 0b01  # PEP 552: hash-based, source not checked
    (tmp_path / "task" / "chalicelib" / "answer.py").write_text("ANSWER = 2\n")  # newer source: ignored
    code = "import chalicelib.answer as a; print(a.ANSWER, a.__spec__.cached is not None)"
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path / "task")}
    done = subprocess.run(
        [python, "-S", "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["1", "True"]
    with zipfile.ZipFile(deployment, "a") as archive:
        archive.writestr("chalicelib/broken.py", "def (:\n")  # the app's own modules must compile
    with pytest.raises(SystemExit, match=r"chalicelib/broken\.py"):
        package.add_bytecode(deployment, python)


DYNAMODB_CALLS = {  # client method → the IAM actions it needs
    "get_item": {"dynamodb:GetItem"},
    "batch_get_item": {"dynamodb:BatchGetItem"},
    "transact_get_items": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "delete_item": {"dynamodb:DeleteItem"},
    "batch_write_item": {"dynamodb:PutItem", "dynamodb:DeleteItem"},
    "query": {"dynamodb:Query"},
    "scan": {"dynamodb:Scan"},
}
TRANSACTION_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def test_the_table_policy_allows_every_dynamodb_call_the_code_makes_and_no_other() -> None:
    """Read from the adapters' source: a new kind of call fails here until the policy has it."""
    source = "\n".join(p.read_text() for p in (RESOURCES.parents[1] / "chalicelib").rglob("*.py"))
    needed: set[str] = set()
    for method, actions in DYNAMODB_CALLS.items():
        if re.search(rf"client\.{method}\b", source):  # called directly or through guarded()
            needed |= actions
    if re.search(r"client\.transact_write_items\b", source):
        needed |= {action for item, action in TRANSACTION_ITEMS.items() if f'"{item}":' in source}
        needed.add("dynamodb:ConditionCheckItem")  # a Put or Update with a condition is checked too
    (statement,) = _resources()["StewardTableAccess"]["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[index]
    assert set(statement["Action"]) == needed


def test_the_code_zip_must_hold_every_pin_at_its_version_and_the_app(tmp_path: Path) -> None:
    import zipfile

    from devstack.package import check_pins

    pins = ["PyJWT[crypto]==2.15.1", "email-validator==2.4.0"]
    deployment = tmp_path / "deployment.zip"
    with zipfile.ZipFile(deployment, "w") as archive:
        for name in ("app.py", "chalice/app.py", "chalicelib/bootstrap.py"):
            archive.writestr(name, b"")
        archive.writestr("pyjwt-2.15.1.dist-info/METADATA", b"")
        archive.writestr("email_validator-2.3.0.dist-info/METADATA", b"")
    with pytest.raises(SystemExit, match=re.escape("email-validator==2.4.0")):
        check_pins(deployment, pins)
    check_pins(deployment, pins[:1])
