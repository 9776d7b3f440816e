"""One local stack for the whole session: DynamoDB Local (in memory), localstripe, the SMTP
sink, `chalice local` and the web server, all on free ports, so `make run` can stay up."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import call_log, tokens
from devstack.stack import Stack, StackConfig, free_ports

TEST_ENV = {
    "STEWARD_RATE_LIMIT_IP": "100000",
    "STEWARD_RATE_LIMIT_EMAIL": "5",
    "STEWARD_DONATIONS_PER_IP": "100000",
    "STEWARD_DECLINES_PER_IP": "100000",
    "STEWARD_CONFIRMS_PER_IP": "100000",
    # One premium to offer, so receipts can state a good-faith value (tests/integration/test_receipts.py).
    "STEWARD_PREMIUMS": "tote=Canvas tote bag=2500",
    # Public campaigns, one per test of tests/integration/test_campaigns.py (the table is shared).
    "STEWARD_CAMPAIGNS": "progress-test=Progress test=100000=usd;duplicate-test=Duplicate test=50000=usd;"
    "refund-test=Refund test=50000=usd;quiet-test=Quiet test=25000=usd",
}


def pytest_configure(config: pytest.Config) -> None:
    """Record every DynamoDB call of the run, in this process and in the processes the stack
    starts (they inherit the variable): pytest_sessionfinish fails the run on any Scan."""
    if not hasattr(config, "workerinput"):
        folder = tempfile.mkdtemp(prefix="steward-calls-")
        os.environ[call_log.ENV] = str(Path(folder) / "dynamodb-calls.log")
    call_log.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    scans = [op for op in call_log.operations(os.environ.get(call_log.ENV, "")) if op[1] == "Scan"]
    if scans:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"{len(scans)} DynamoDB Scan call(s) during the run (pid, operation): {scans[:5]}"
        if reporter:
            reporter.write_line("\n" + message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def other_origin() -> str:
    """A host page's origin that the API allows besides the demo page's: a test serves an
    embedding page there (tests/browser/test_embed.py)."""
    return f"http://127.0.0.1:{free_ports(1)[0]}"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, other_origin: str) -> Iterator[Stack]:
    local = tmp_path_factory.mktemp("stack")
    # Every test request comes from 127.0.0.1, so the per-IP limits are set out of reach here;
    # tests/integration/test_forms.py and test_card_testing.py check them with small limits.
    config = StackConfig.on_free_ports(Path(local))
    origins = {"STEWARD_ALLOWED_ORIGINS": f"{config.web_url},{other_origin}"}
    stack = Stack(config, extra_env={**TEST_ENV, **origins})
    stack.start()
    saved = dict(os.environ)
    os.environ.update(stack.app_env())
    from chalicelib import bootstrap

    bootstrap.reset()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        bootstrap.reset()


@pytest.fixture(scope="session")
def token(stack: Stack):  # type: ignore[no-untyped-def]
    def mint(role: str = "finance", **kwargs: object) -> str:
        return tokens.mint(stack.jwt_dir, role, **kwargs)  # type: ignore[arg-type]

    return mint
