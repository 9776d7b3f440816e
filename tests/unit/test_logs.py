"""The JSON log line and the embedded-metric line (chalicelib/logs.py)."""

from __future__ import annotations

import json
import logging
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import logs, metrics


def _record(message: str, *args: Any, exc: BaseException | None = None, **extra: Any) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    record = logging.LogRecord("steward", logging.WARNING, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return record


def _format(record: logging.LogRecord) -> dict[str, Any]:
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line  # one line per record, whatever the stack
    return dict(json.loads(line))


def test_a_line_is_one_json_object_with_level_message_logger_and_utc_time() -> None:
    line = _format(_record("outbox %s: left for the next sweep", "m1"))
    assert line["level"] == "WARNING" and line["logger"] == "steward"
    assert line["message"] == "outbox m1: left for the next sweep"
    assert line["timestamp"].endswith("Z") and "T" in line["timestamp"]
    assert "event" not in line and "exception_type" not in line


def test_the_invocation_names_its_request_ids_and_function_on_each_line() -> None:
    request = SimpleNamespace(
        lambda_context=SimpleNamespace(aws_request_id="lambda-req-1", function_name="steward-dev"),
        context={"requestId": "apigw-req-1"},
    )
    seen: dict[str, Any] = {}

    def view(event: Any) -> str:
        seen.update(_format(_record("inside")))
        return "answer"

    assert logs.invocation(request, view) == "answer"
    assert seen["request_id"] == "lambda-req-1" and seen["api_request_id"] == "apigw-req-1"
    assert seen["function"] == "steward-dev"
    after = _format(_record("outside"))  # the ids end with the invocation
    assert after["request_id"] is None and "api_request_id" not in after


def test_a_stream_or_schedule_invocation_names_its_lambda_request_id() -> None:
    event = SimpleNamespace(
        context=SimpleNamespace(aws_request_id="lambda-req-2", function_name="outbox_sweep")
    )
    line = logs.invocation(event, lambda _: _format(_record("sweeping")))
    assert line["request_id"] == "lambda-req-2" and line["function"] == "outbox_sweep"
    assert "api_request_id" not in line


def test_the_lambda_runtime_request_id_is_used_without_the_middleware() -> None:
    assert _format(_record("authorizing", aws_request_id="rt-1"))["request_id"] == "rt-1"


def test_an_exception_is_logged_by_type_and_stack_without_its_message() -> None:
    address = "ada@" + "example.org"  # not in the source lines the stack shows
    try:
        try:
            raise KeyError(address)
        except KeyError as inner:
            raise RuntimeError(f"SMTP 550 <{address}> unknown") from inner
    except RuntimeError as exc:
        line = _format(_record("send failed", exc=exc))
    assert line["exception_type"] == "RuntimeError" and line["exception_cause"] == "KeyError"
    assert "test_logs.py" in line["traceback"] and "raise RuntimeError" in line["traceback"]
    assert address not in json.dumps(line)


def test_a_business_event_carries_only_safe_fields(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.INFO, logger="steward"):
        metrics.business_event(
            "gift_succeeded", "gift succeeded", donation_id="d1", amount=2500, currency="usd", email="a@b.org"
        )
    [record] = caplog.records
    line = _format(record)
    assert line["event"] == "gift_succeeded" and line["donation_id"] == "d1" and line["amount"] == 2500
    assert "email" not in line and "a@b.org" not in json.dumps(line)
    printed = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    [metric] = [p for p in printed if "_aws" in p]  # (the log line too, once the app configured logs)
    assert metric["event"] == "gift_succeeded" and "a@b.org" not in json.dumps(metric)


def test_the_emf_line_follows_the_embedded_metric_format() -> None:
    line = metrics.emf_line("mail_failed", timestamp_ms=1_700_000_000_000)
    json.dumps(line)  # serializable as is
    meta = line["_aws"]
    assert meta["Timestamp"] == 1_700_000_000_000
    [directive] = meta["CloudWatchMetrics"]
    assert directive["Namespace"] == "Steward"
    # every dimension set names top-level string members; every metric a top-level number
    for dimension_set in directive["Dimensions"]:
        assert 1 <= len(dimension_set) <= 30
        assert all(isinstance(line[name], str) for name in dimension_set)
    for metric in directive["Metrics"]:
        assert set(metric) <= {"Name", "Unit", "StorageResolution"} and metric["Unit"] == "Count"
        assert isinstance(line[metric["Name"]], int | float)
    assert line["event"] == "mail_failed" and line["Events"] == 1
    assert not any(name == "amount" for dims in directive["Dimensions"] for name in dims)


def test_every_event_is_named_in_the_list() -> None:
    assert len(set(metrics.EVENTS)) == len(metrics.EVENTS)


def test_configure_makes_the_steward_logger_write_json_through_the_root() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logs.configure()
        logs.configure()  # twice: still one handler
        ours = [h for h in root.handlers if isinstance(h, logs.StdoutHandler)]
        assert len(ours) == 1 and ours[0].stream is sys.stdout
        steward = logging.getLogger("steward")
        assert steward.propagate and steward.level == logging.INFO and not steward.handlers
        assert logging.getLogger("botocore").getEffectiveLevel() >= logging.WARNING or root.level == 0
    finally:
        for handler in root.handlers:
            if handler not in before:
                root.removeHandler(handler)


def test_a_failed_stream_handler_is_logged_and_raises_naming_only_the_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = SimpleNamespace(
        context=SimpleNamespace(aws_request_id="lambda-req-3", function_name="outbox_stream")
    )
    address = "ada@" + "example.org"

    def handler(_: Any) -> None:
        raise ValueError(f"item for {address}")

    lines: list[dict[str, Any]] = []
    catcher = logging.Handler()
    catcher.emit = lambda record: lines.append(_format(record))  # type: ignore[method-assign]
    logging.getLogger("steward").addHandler(catcher)
    try:
        with (
            caplog.at_level(logging.INFO, logger="steward"),
            pytest.raises(logs.HandlerFailedError) as raised,
        ):
            logs.invocation(event, handler)
    finally:
        logging.getLogger("steward").removeHandler(catcher)
    assert address not in str(raised.value) and "ValueError" in str(raised.value)
    [line] = lines
    assert line["exception_type"] == "ValueError" and line["request_id"] == "lambda-req-3"
    assert address not in json.dumps(line)


def test_an_api_route_s_error_goes_on_to_the_error_middleware() -> None:
    request = SimpleNamespace(lambda_context=None, context={})

    def view(_: Any) -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        logs.invocation(request, view)


def test_importing_the_app_configures_json_logs_and_loads_no_metrics_module() -> None:
    """The cold start pays for the formatter only; the metrics module loads with the first event."""
    import subprocess
    from pathlib import Path

    code = (
        "import json, logging, sys, app\n"
        "from chalicelib.logs import StdoutHandler\n"
        "root = logging.getLogger()\n"
        "print(json.dumps(['chalicelib.metrics' in sys.modules, "
        "[type(h).__name__ for h in root.handlers], logging.getLogger('steward').handlers == []]))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, ["StdoutHandler"], True]
