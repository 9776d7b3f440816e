"""What the benchmarks share: the local peers they start, A/B alternation, medians and
percentiles, and the one results table `make bench` ends with.

Each benchmark records its headline figures with `record()`: one JSON line each, appended to
the file BENCH_RESULTS names (bench/run.py sets it and prints `table()` at the end).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devstack.stack import Stack, StackConfig  # noqa: E402

RESULTS_ENV = "BENCH_RESULTS"
# Every request a benchmark sends comes from one IP: the per-IP limits are set out of reach.
BENCH_ENV = {
    "STEWARD_RATE_LIMIT_IP": "10000000",
    "STEWARD_RATE_LIMIT_EMAIL": "10000000",
    "STEWARD_DONATIONS_PER_IP": "10000000",
    "STEWARD_DECLINES_PER_IP": "10000000",
    "STEWARD_CONFIRMS_PER_IP": "10000000",
}
PORT_SETTINGS = {
    "dynamodb_port": "STEWARD_DYNAMODB_PORT",
    "stripe_port": "STEWARD_STRIPE_PORT",
    "smtp_port": "STEWARD_SMTP_PORT",
    "api_port": "STEWARD_API_PORT",
    "web_port": "STEWARD_WEB_PORT",
    "s3_port": "STEWARD_S3_PORT",
}


# -- the local peers ------------------------------------------------------------------------


def bench_config(folder: Path, env: dict[str, str] | None = None) -> StackConfig:
    """An in-memory stack on free ports, except the ports STEWARD_*_PORT names."""
    env = dict(os.environ) if env is None else env
    config = StackConfig.on_free_ports(folder)
    chosen = {field: int(env[name]) for field, name in PORT_SETTINGS.items() if env.get(name)}
    return replace(config, **chosen)  # type: ignore[arg-type]


@contextmanager
def peers(stripe: bool = False, s3: bool = False, full: bool = False) -> Iterator[Stack]:
    """Start DynamoDB Local with the table (and localstripe, S3, or with `full` the whole
    stack) in a scratch folder; the app's settings go into this process's environment."""
    with TemporaryDirectory(prefix="steward-bench-") as folder:
        stack = Stack(bench_config(Path(folder)), extra_env=dict(BENCH_ENV))
        try:
            if full:
                stack.start()
            else:
                stack.start_storage(s3=s3)
                if stripe:
                    stack.start_stripe()
            os.environ.update(stack.app_env())
            yield stack
        finally:
            stack.stop()


# -- measuring ------------------------------------------------------------------------------


def alternate(a: Callable[[], float], b: Callable[[], float], pairs: int) -> tuple[list[float], list[float]]:
    """Run A and B `pairs` times each, the order swapping every pair (A B, B A, ...), so slow
    spells of a shared machine fall on both. Each callable returns its own measurement."""
    first: list[float] = []
    second: list[float] = []
    for number in range(pairs):
        order = ((a, first), (b, second)) if number % 2 == 0 else ((b, second), (a, first))
        for run, into in order:
            into.append(run())
    return first, second


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0-100): p99 of 50 values is the largest but none."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def paired_ratio(measured: list[float], baseline: list[float]) -> float:
    """The median of each pair's ratio: steadier than a ratio of medians on a busy machine."""
    return statistics.median(m / b for m, b in zip(measured, baseline, strict=True) if b > 0)


# -- the results table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One figure: what was measured against its baseline from the same run."""

    figure: str
    measured: float
    baseline: float | None
    unit: str
    target: str  # "<= 1.15x", "<= 2 calls", ...
    limit: float | None  # the number `target` names, None when there is none
    kind: str = "ratio"  # "ratio": measured/baseline is held to the limit; "count": measured is

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.measured / self.baseline

    @property
    def met(self) -> str:
        if self.limit is None:
            return "-"
        value = self.measured if self.kind == "count" else self.ratio
        if value is None:
            return "-"
        return "yes" if value <= self.limit else "NO"


def record(row: Row) -> None:
    """Append one figure to the run's results file, if there is one."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(row)) + "\n")


def read_rows(path: str | Path) -> list[Row]:
    file = Path(path)
    if not file.exists():
        return []
    return [Row(**json.loads(line)) for line in file.read_text().splitlines() if line.strip()]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("calls", "x") or float(value).is_integer():
        return f"{value:g} {unit}".strip()
    return f"{value:.1f} {unit}" if value >= 100 else f"{value:.2f} {unit}"


def table(rows: list[Row]) -> str:
    """The rows as one plain-text table: figure, measured, baseline, ratio, target, met?"""
    head = ("route or figure", "measured", "baseline", "ratio", "target", "met?")
    lines = [
        (
            r.figure,
            _number(r.measured, r.unit),
            _number(r.baseline, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target or "-",
            r.met,
        )
        for r in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(head, *lines, strict=True)]
    rule = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)), rule]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)
