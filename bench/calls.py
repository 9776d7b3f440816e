"""The DynamoDB and Stripe calls a request makes, recorded as it runs and replayed bare.

DynamoDB: botocore event hooks on the app's client: `provide-client-params` keeps each
operation and its parameters, `after-call` its error code, `before-send` counts HTTP round
trips (retries included). Stripe: every HTTP request stripe-python's RequestsClient sends in
this process (method, URL, headers, body). Replaying sends the same requests with a bare boto3
client and a bare HTTP client, nothing else; the DynamoDB calls go to a twin table (same
definition) that gets every write the app made, in the same order, so each replayed call
meets the same items and conditions as the original did.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import boto3
import stripe
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack import table

_ORIGINAL_REQUEST = stripe.RequestsClient.request


@dataclass
class Calls:
    """What one request sent."""

    dynamodb: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    dynamodb_sends: int = 0
    stripe: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)


class Recorder:
    """Records the calls made through `client` (the app's DynamoDB client) and any Stripe
    RequestsClient in this process, into `current` until `take()` hands them over."""

    def __init__(self, client: Any) -> None:
        self.current = Calls()
        events = client.meta.events
        events.register("provide-client-params.dynamodb", self._params, unique_id="bench-params")
        events.register("after-call.dynamodb", self._outcome, unique_id="bench-outcome")
        events.register("before-send.dynamodb", self._send, unique_id="bench-send")
        recorder = self

        def request(http: Any, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
            recorder.current.stripe.append((method, url, dict(headers or {}), post_data))
            return _ORIGINAL_REQUEST(http, method, url, headers, post_data)

        stripe.RequestsClient.request = request  # type: ignore[method-assign]

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.current.dynamodb.append((model.name, copy.deepcopy(params), None))

    def _outcome(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        code = (parsed.get("Error") or {}).get("Code")
        if code and self.current.dynamodb:
            name, params, _ = self.current.dynamodb[-1]
            self.current.dynamodb[-1] = (name, params, code)

    def _send(self, **_: Any) -> None:
        self.current.dynamodb_sends += 1

    def take(self) -> Calls:
        calls, self.current = self.current, Calls()
        return calls


def retarget(value: Any, old: str, new: str) -> Any:
    """The parameters with table `old` renamed `new` wherever a table name stands: a
    TableName value, or a key of RequestItems (batch calls)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "TableName" and item == old:
                out[key] = new
            else:
                out[new if key == old else key] = retarget(item, old, new)
        return out
    if isinstance(value, list):
        return [retarget(item, old, new) for item in value]
    return value


def snake(operation: str) -> str:
    """`TransactWriteItems` -> `transact_write_items`, boto3's method name."""
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


class Replayer:
    """Sends recorded calls again, bare: DynamoDB to the twin table, Stripe over HTTP."""

    def __init__(self, endpoint: str | None, table_name: str) -> None:
        self.table = table_name
        self.twin = f"{table_name}-bare"
        session = boto3.session.Session()  # no hooks of the app's clients
        config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
        self.client = session.client("dynamodb", endpoint_url=endpoint, config=config)
        table.ensure_table(self.client, self.twin)
        self.http = stripe.RequestsClient(timeout=30)
        self.drift = 0  # replayed calls whose outcome differed from the original's

    def replay(self, calls: Calls, stripe_calls: bool = True) -> None:
        for operation, params, code in calls.dynamodb:
            try:
                getattr(self.client, snake(operation))(**retarget(params, self.table, self.twin))
                replayed = None
            except ClientError as exc:
                replayed = exc.response["Error"]["Code"]
            self.drift += replayed != code
        if stripe_calls:
            for method, url, headers, body in calls.stripe:
                _ORIGINAL_REQUEST(self.http, method, url, headers, body)
