"""Structured logs: every log line is one JSON object with the invocation's ids (business
events and their metrics: chalicelib/metrics.py).

Lines carry ids, states and types only. An exception is logged by its type and its stack;
its message (which may quote an address, a Stripe error's text, a header) is left out.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER = "steward"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_api_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("api_request_id", default=None)
_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)


def request_id() -> str | None:
    return _request_id.get()


def function_name() -> str | None:
    return _function.get() or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: level, message, logger, timestamp, the invocation's ids,
    the function, and for a business event its `event` and safe fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "function": function_name(),
            # the Lambda runtime's own filter names the request too (the authorizer has no middleware)
            "request_id": _request_id.get() or getattr(record, "aws_request_id", None) or None,
        }
        api_request = _api_request_id.get()
        if api_request:
            line["api_request_id"] = api_request
        event = getattr(record, "event", None)
        if isinstance(event, str):
            line["event"] = event
            line.update(getattr(record, "fields", None) or {})
        if record.exc_info and record.exc_info[0] is not None:
            line.update(exception_fields(record.exc_info[1]))
        return json.dumps(line, default=str, ensure_ascii=False)


def exception_fields(exc: BaseException | None) -> dict[str, Any]:
    """The exception's type (and its cause's) and the stack it came through, without its message."""
    import traceback

    if exc is None:
        return {}
    fields: dict[str, Any] = {
        "exception_type": _type_name(exc),
        "traceback": "".join(traceback.format_tb(exc.__traceback__)),
    }
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        fields["exception_cause"] = _type_name(cause)
    return fields


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at the time (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(level: int = logging.INFO) -> None:
    """Our logger at INFO, every line JSON. On Lambda the runtime's own handler on the root
    logger writes the lines (given our formatter); elsewhere one stdout handler on the root.
    Other libraries keep the root's level (WARNING): no botocore or urllib3 debug lines."""
    steward = logging.getLogger(LOGGER)
    for handler in list(steward.handlers):  # Chalice's plain-text one, if the app added it
        steward.removeHandler(handler)
    steward.propagate = True
    steward.setLevel(level)
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)  # a library's warning is a JSON line too (logger py.warnings)
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and root.handlers:
        for handler in root.handlers:
            handler.setFormatter(JsonFormatter())
    elif not any(isinstance(h, StdoutHandler) for h in root.handlers):
        root.addHandler(StdoutHandler())


def invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every handler: the invocation's Lambda request id, API Gateway
    request id and function name go on each line logged while it runs. A stream or schedule
    handler that raises is logged here (type and stack) and fails with a message that names
    only the type: the runtime logs a failed invocation's message, which could quote data.
    (An API route's errors become answers in chalicelib/api/errors.py.)"""
    http = hasattr(event, "lambda_context")
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    api_context = getattr(event, "context", None) if http else None
    tokens = [
        (_request_id, _request_id.set(getattr(context, "aws_request_id", None))),
        (_function, _function.set(getattr(context, "function_name", None))),
        (
            _api_request_id,
            _api_request_id.set(api_context.get("requestId") if isinstance(api_context, dict) else None),
        ),
    ]
    try:
        return get_response(event)
    except Exception as exc:
        if http:
            raise
        logging.getLogger(LOGGER).exception("the handler failed; the event source retries it")
        raise HandlerFailedError(f"{_type_name(exc)} (its stack is in the line before)") from None
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class HandlerFailedError(Exception):
    """A stream or schedule handler failed; its own exception is in the log, by type and stack."""
