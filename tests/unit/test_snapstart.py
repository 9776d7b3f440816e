"""SnapStart (the API function): what a snapshot should hold is made during init, nothing
secret or connected is in it, and each restored copy draws fresh random numbers."""

from __future__ import annotations

import random
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WARMED = ("stripe", "jwt", "fpdf", "chalicelib.adapters.stripe_gateway", "chalicelib.adapters.receipt_pdf")


def _imported_after(env: dict[str, str]) -> list[str]:
    code = f"import sys, app; print(' '.join(m for m in {WARMED!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.split()


def _env(**extra: str) -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "AWS_LAMBDA"))}
    return {
        **keep,
        "STEWARD_TABLE_NAME": "steward",
        "STEWARD_JWT_ISSUER": "iss",
        "STEWARD_JWT_AUDIENCE": "aud",
        "STEWARD_JWKS_URL": "http://127.0.0.1:9/jwks",
        # Named secrets behind an address nothing answers: reading one would fail the init.
        "STEWARD_STRIPE_SECRET_ID": "steward/stripe",
        "STEWARD_APP_SECRET_ID": "steward/app",
        "STEWARD_SECRETS_ENDPOINT": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "none",
        "AWS_SECRET_ACCESS_KEY": "none",
        **extra,
    }


def test_a_snapstart_init_loads_every_routes_libraries_and_reads_no_secret() -> None:
    assert _imported_after(_env(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start")) == list(WARMED)


def test_an_on_demand_init_stays_as_lean_as_before() -> None:
    assert _imported_after(_env(AWS_LAMBDA_INITIALIZATION_TYPE="on-demand")) == []


def test_each_restored_copy_draws_its_own_random_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = hooks.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    from chalicelib import snapstart

    snapstart.register_hooks()
    [after_restore] = hooks
    random.seed(7)
    in_snapshot = random.random()
    random.seed(7)  # every copy restored from one snapshot starts from the same state
    after_restore()
    assert random.random() != in_snapshot


def test_the_snapshot_holds_its_objects_frozen_for_the_collector() -> None:
    """What the init made lives as long as the copy: later collections after restore skip it."""
    code = "import gc, app; print(gc.get_freeze_count() > 0, gc.isenabled())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=_env(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start"),
    )
    assert out.stdout.split() == ["True", "True"]
