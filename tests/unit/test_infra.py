"""What the deploy template adds to Chalice's own: checked without AWS."""

from __future__ import annotations

import json
from pathlib import Path

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
