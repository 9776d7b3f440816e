"""`make bench`: run every benchmark in bench/, each in its own process with its own local
peers, then print one table of every figure with its baseline from the same run, the ratio,
the target and whether it is met. Exits non-zero when a benchmark failed (not when a target
is missed: the table says so).

To end within about 15 minutes on a busy 2-core machine, `make bench` runs the data-heavy
benchmarks smaller (QUICK: the two 100,000-gift ones on 10,000); `--full` keeps each script's
own sizes, and any BENCH_* variable set wins over both.

Run: .venv/bin/python bench/run.py [--full] [name ...]   (names: cold_start, warm_latency, ...)
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_ENV, ROOT, read_rows, table

SCRIPTS = (
    "cold_start",
    "warm_latency",
    "webhook_throughput",
    "signup_timing",
    "find_gifts",
    "totals",
    "export",
    "campaigns",
    "telethon",
)
QUICK = {
    "BENCH_WEBHOOKS": "30",
    "BENCH_GIFTS_PER_MONTH": "500",
    "BENCH_TOTALS_GIFTS": "10000",
    "BENCH_TOTALS_STREAMED": "200",
    "BENCH_TOTALS_RUNS": "7",
    "BENCH_EXPORT_GIFTS": "10000",
    "BENCH_EXPORT_ROUNDS": "3",
    "BENCH_CAMPAIGN_GIFTS": "500",
}


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{os.cpu_count()} CPUs ({cpu}), load average {load}, Python {platform.python_version()}, {when}"


def main() -> None:
    args = sys.argv[1:]
    full = "--full" in args
    chosen = [a for a in args if a != "--full"] or list(SCRIPTS)
    unknown = [name for name in chosen if name not in SCRIPTS]
    if unknown:
        raise SystemExit(f"no benchmark named {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    sizes = {} if full else {k: v for k, v in QUICK.items() if k not in os.environ}
    print(f"machine at the start: {machine()}", flush=True)
    if sizes:
        print("sizes: " + ", ".join(f"{k}={v}" for k, v in sizes.items()) + " (--full for the scripts' own)")
    failed = []
    with tempfile.TemporaryDirectory(prefix="steward-bench-results-") as folder:
        results = Path(folder) / "results.jsonl"
        for name in chosen:
            print(f"\n== bench/{name}.py", flush=True)
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, str(ROOT / "bench" / f"{name}.py")],
                cwd=ROOT,
                env={**sizes, **os.environ, RESULTS_ENV: str(results)},
                check=False,
            )
            print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
            if done.returncode != 0:
                failed.append(name)
        print(f"\nmachine at the end: {machine()}")
        print(table(read_rows(results)))
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
