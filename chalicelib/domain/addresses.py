"""Email addresses as the forms take them: pydantic's EmailStr, checked by email-validator,
except that a plain address is accepted here without loading email-validator (about 20 ms of a
cold start). "Plain" is a narrow subset of what email-validator accepts: ASCII letters, digits,
`_`, `+`, `-` and single dots before the @; a host name with a dot and a letters-only top-level
domain after it, no `--`, no special-use domain, 64 and 254 characters at most. Anything else
goes to email-validator, which decides and words the 422. tests/unit/test_addresses.py checks
that both ways give every address the same answer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")  # email-validator's
_PLAIN = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


def plain_address(value: str) -> str | None:
    """The address normalized as email-validator would (the domain in lower case), if it is
    plain; None means "ask email-validator", never "refused"."""
    match = _PLAIN.fullmatch(value)
    if match is None or len(value) > 254 or len(match["local"]) > 64 or "--" in match["domain"]:
        return None
    domain = match["domain"].lower()
    if any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAINS):
        return None
    return f"{match['local']}@{domain}"


def email_address(value: str) -> str:
    """EmailStr's check and normalization; raises its PydanticCustomError for a bad address."""
    plain = plain_address(value)
    if plain is not None:
        return plain
    from pydantic.networks import validate_email

    return validate_email(value)[1]


if TYPE_CHECKING:
    EmailAddress = str
else:

    class EmailAddress:
        """A field type like pydantic's EmailStr (same schema, same errors, same JSON schema)."""

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
            from pydantic_core import core_schema

            return core_schema.no_info_after_validator_function(email_address, core_schema.str_schema())

        @classmethod
        def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> Any:
            field_schema = handler(schema)
            field_schema.update(type="string", format="email")
            return field_schema
