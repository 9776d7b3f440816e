"""The benchmarks are not run by `make test`, but each imports, and their helpers work on
tiny inputs: the alternation, percentiles, the results table, the API Gateway events, the
recorded calls' retargeting."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p.stem for p in BENCH.glob("*.py"))


def load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_bench_script_imports(name: str) -> None:
    module = load(name)
    if name not in ("common", "api_events", "calls"):
        assert callable(module.main)


def test_the_runner_runs_every_benchmark_in_bench() -> None:
    run = load("run")
    helpers = {"common", "api_events", "calls", "run"}
    assert sorted(run.SCRIPTS) == sorted(s for s in SCRIPTS if s not in helpers)


def test_alternation_swaps_the_order_every_pair() -> None:
    common = load("common")
    seen: list[str] = []

    def a() -> float:
        seen.append("a")
        return 1.0

    def b() -> float:
        seen.append("b")
        return 2.0

    first, second = common.alternate(a, b, 3)
    assert seen == ["a", "b", "b", "a", "a", "b"]
    assert first == [1.0] * 3 and second == [2.0] * 3


def test_percentiles_and_paired_ratio() -> None:
    common = load("common")
    values = [float(v) for v in range(1, 101)]
    assert common.percentile(values, 50) == 50
    assert common.percentile(values, 99) == 99
    assert common.percentile([3.0], 99) == 3.0
    assert common.paired_ratio([2.0, 3.0, 4.0], [1.0, 1.0, 2.0]) == 2.0


def test_the_table_states_ratio_target_and_whether_it_is_met(tmp_path: Path, monkeypatch) -> None:
    common = load("common")
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(common.RESULTS_ENV, str(results))
    common.record(common.Row("cold start: contact", 115.0, 100.0, "ms", "<= 1.15x", 1.15))
    common.record(common.Row("cold start: signup", 130.0, 100.0, "ms", "<= 1.15x", 1.15))
    common.record(common.Row("round trips: contact", 3, None, "calls", "<= 1", 1, kind="count"))
    common.record(common.Row("warm p50: config (no I/O)", 0.1, None, "ms", "", None))
    rows = common.read_rows(results)
    assert [r.met for r in rows] == ["yes", "NO", "NO", "-"]
    text = common.table(rows).splitlines()
    assert text[0].split() == ["route", "or", "figure", "measured", "baseline", "ratio", "target", "met?"]
    assert "1.15x" in text[2] and text[2].rstrip().endswith("yes")
    assert "3 calls" in text[4]
    assert len(text) == 6


def test_ports_from_the_environment_win(tmp_path: Path) -> None:
    common = load("common")
    config = common.bench_config(tmp_path, {"STEWARD_DYNAMODB_PORT": "25001", "STEWARD_STRIPE_PORT": "25002"})
    assert (config.dynamodb_port, config.stripe_port) == (25001, 25002)
    assert config.in_memory and config.api_port not in (25001, 25002)


def test_events_are_what_chalice_reads_from_api_gateway() -> None:
    from chalice.app import Request

    events = load("api_events")
    event = events.api_event("POST", "/contact", '{"a": 1}', {"Stripe-Signature": "t=1,v1=x"})
    request = Request(event, events.LambdaContext())
    assert (request.method, request.path) == ("POST", "/contact")
    assert request.json_body == {"a": 1}
    assert request.headers["stripe-signature"] == "t=1,v1=x"
    assert request.context["identity"]["sourceIp"] == events.SOURCE_IP


def test_recorded_calls_are_retargeted_to_the_twin_table() -> None:
    calls = load("calls")
    params = {
        "TransactItems": [
            {"Put": {"TableName": "steward", "Item": {"pk": {"S": "steward"}}}},
            {"Update": {"TableName": "steward", "Key": {}}},
        ],
        "RequestItems": {"steward": {"Keys": []}},
    }
    moved = calls.retarget(params, "steward", "steward-bare")
    assert [t[k]["TableName"] for t, k in zip(moved["TransactItems"], ("Put", "Update"), strict=True)] == [
        "steward-bare",
        "steward-bare",
    ]
    assert moved["TransactItems"][0]["Put"]["Item"] == {"pk": {"S": "steward"}}  # values stay
    assert list(moved["RequestItems"]) == ["steward-bare"]
    assert calls.snake("TransactWriteItems") == "transact_write_items"
    assert calls.snake("GetItem") == "get_item"


def test_stripe_paths_are_printed_without_ids() -> None:
    warm = load("warm_latency")
    assert (
        warm.stripe_path("http://127.0.0.1:1/v1/charges/ch_PjMNi9kAxorntB?expand[]=x") == "/v1/charges/{id}"
    )
    assert warm.stripe_path("http://127.0.0.1:1/v1/setup_intents") == "/v1/setup_intents"


def test_cold_start_sorts_each_pairs_cpu_time_back_to_a_and_b() -> None:
    cold = load("cold_start")
    cold.CPU[:] = [9.0, 10.0, 1.0, 2.0, 20.0, 30.0, 3.0]  # a warm-up entry, then A B, B A, A B
    assert cold.split_cpu(3) == ([10.0, 20.0, 30.0], [1.0, 2.0, 3.0])
