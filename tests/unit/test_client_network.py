"""What a per-IP limit counts: the address for IPv4, the /64 for IPv6, in one spelling."""

from __future__ import annotations

import pytest

from chalicelib.domain.tokens import client_network


@pytest.mark.parametrize(
    ("source_ip", "counted"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:0db8:0001:0002:0:0:0:1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("unknown", "unknown"),
    ],
)
def test_client_network(source_ip: str, counted: str) -> None:
    assert client_network(source_ip) == counted
