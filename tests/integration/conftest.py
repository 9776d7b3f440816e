from __future__ import annotations

import time

import pytest

from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.helpers import GIFT, Api, Mailbox


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


@pytest.fixture(scope="session")
def outreach(stack: Stack):  # type: ignore[no-untyped-def]
    from chalicelib.bootstrap import get_outreach_repository

    return get_outreach_repository()


@pytest.fixture(scope="session")
def mailbox(stack: Stack) -> Mailbox:
    return Mailbox(stack)


@pytest.fixture(scope="session")
def form_token(api: Api) -> str:
    """One token for the session, old enough for the 2 s time trap by the time it is used."""
    token = str(api.get("/config").json()["form_token"])
    time.sleep(2.1)
    return token


@pytest.fixture(scope="session", autouse=True)
def gift_form_token(form_token: str) -> None:
    """Every gift the suite sends (tests.helpers.GIFT, give()) carries a valid form_token."""
    GIFT["form_token"] = form_token
