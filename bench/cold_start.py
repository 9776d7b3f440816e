"""Cold start: what a Lambda container pays to import the app, with and without `stripe`.

Prints the median over fresh interpreters of importing `app` (what the contact, signup,
config and health routes pay) and of importing `app` plus `stripe` and `jwt` (what an
eager import would add to every route), and their ratio. Run: make bench
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
CODE = "import time; t = time.perf_counter(); import app{extra}; print(time.perf_counter() - t)"


def median_seconds(extra: str) -> float:
    times = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", CODE.format(extra=extra)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    lazy = median_seconds("")
    eager = median_seconds("; import stripe, jwt")
    print(f"import app (routes that take no money): {lazy * 1000:7.1f} ms  (median of {RUNS})")
    print(f"import app + stripe + jwt (eager):      {eager * 1000:7.1f} ms")
    print(f"ratio lazy/eager:                       {lazy / eager:7.2f}")


if __name__ == "__main__":
    main()
