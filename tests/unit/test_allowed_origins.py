"""STEWARD_ALLOWED_ORIGINS (the browser origins that may call the public routes) and STEWARD_SITE_URL."""

from __future__ import annotations

import pytest

from chalicelib.config import MissingSettingError, load_settings
from tests.unit.test_config_keys import BASE


def test_origins_are_read_exactly_and_none_by_default() -> None:
    assert load_settings(BASE).allowed_origins == ()
    env = {**BASE, "STEWARD_ALLOWED_ORIGINS": " https://www.example.org, http://127.0.0.1:8080/ ,"}
    assert load_settings(env).allowed_origins == ("https://www.example.org", "http://127.0.0.1:8080")


@pytest.mark.parametrize(
    "value", ["*", "www.example.org", "https://example.org/donate", "ftp://example.org", "https://"]
)
def test_anything_but_an_origin_fails_loudly(value: str) -> None:
    with pytest.raises(MissingSettingError, match="STEWARD_ALLOWED_ORIGINS"):
        load_settings({**BASE, "STEWARD_ALLOWED_ORIGINS": value})


def test_the_site_url_is_optional_and_a_plain_url() -> None:
    assert load_settings(BASE).site_url is None
    assert (
        load_settings({**BASE, "STEWARD_SITE_URL": "https://www.example.org/"}).site_url
        == "https://www.example.org/"
    )
    for bad in ("www.example.org", "https://example.org/#signup", 'https://example.org/"><script>'):
        with pytest.raises(MissingSettingError, match="STEWARD_SITE_URL"):
            load_settings({**BASE, "STEWARD_SITE_URL": bad})
