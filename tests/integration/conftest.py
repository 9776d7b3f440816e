from __future__ import annotations

import pytest

from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.helpers import Api


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack)


@pytest.fixture(scope="session")
def repo(stack: Stack) -> Repository:
    from chalicelib.bootstrap import get_repository

    return get_repository()


@pytest.fixture(scope="session")
def payments(stack: Stack) -> Payments:
    from chalicelib.bootstrap import get_payments

    return get_payments()


@pytest.fixture
def api_session(api: Api) -> Api:
    """The session API under a function-scoped name, for hypothesis tests."""
    return api
