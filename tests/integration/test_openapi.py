"""The OpenAPI document covers every route, and schemathesis finds no 5xx through it."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from devstack.stack import Stack
from tests.helpers import Api


def test_document_covers_every_route(api: Api) -> None:
    from app import app

    document = api.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    routes = {(method.lower(), path) for path, methods in app.routes.items() for method in methods}
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert routes - {("options", p) for _, p in routes} <= documented


def test_no_input_causes_a_server_error(stack: Stack, token) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.config.api_url}/openapi.json")
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    headers = {"Authorization": f"Bearer {token('finance')}"}  # reach past auth on staff routes
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=stack.config.api_url, checks=checks, headers=headers)

        exercise()


def test_the_staff_query_parameters_are_documented_as_the_routes_read_them(api: Api) -> None:
    from chalicelib.api.finding import DonationFindQuery
    from chalicelib.api.schemas import ContactListQuery, OutboxListQuery

    paths = api.get("/openapi.json").json()["paths"]
    for path, model in (
        ("/staff/donations", DonationFindQuery),
        ("/staff/contacts", ContactListQuery),
        ("/staff/outbox", OutboxListQuery),
    ):
        documented = {p["name"]: p["schema"] for p in paths[path]["get"]["parameters"]}
        read = model.model_json_schema(by_alias=True)["properties"]
        assert set(documented) == set(read), path
        for name, schema in documented.items():
            choices = read[name].get("anyOf", [read[name]])
            bound = next((s["maxLength"] for s in choices if "maxLength" in s), None)
            assert schema.get("maxLength") == bound, (path, name)
    day_or_time = paths["/staff/donations"]["get"]["parameters"][0]["schema"]
    assert {f["format"] for f in day_or_time["anyOf"]} == {"date", "date-time"}
    staff = [op for path, ops in paths.items() if path.startswith("/staff/") for op in ops.values()]
    assert all("503" in op["responses"] for op in staff)  # DynamoDB or the JWKS unreachable


def test_the_emailed_link_forms_are_documented_as_the_routes_read_them(api: Api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/unsubscribe", "/signups/confirm"):
        content = paths[path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/x-www-form-urlencoded", "multipart/form-data"}, path
    unsubscribe = paths["/unsubscribe"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert unsubscribe["required"] == ["List-Unsubscribe"]
    assert unsubscribe["properties"]["List-Unsubscribe"] == {"const": "One-Click"}
    confirm = paths["/signups/confirm"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(confirm["properties"]) == {"token", "confirm"}  # what the confirmation page posts
