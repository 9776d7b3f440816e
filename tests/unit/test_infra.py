"""What the deploy template adds to Chalice's own: checked without AWS."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.api.errors import NO_ROUTE

RESOURCES = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


def test_an_unknown_route_answers_404_in_the_error_shape_on_api_gateway() -> None:
    definition = json.loads(RESOURCES.read_text())["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    response = definition["x-amazon-apigateway-gateway-responses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert response["statusCode"] == 404
    assert json.loads(response["responseTemplates"]["application/json"]) == NO_ROUTE
