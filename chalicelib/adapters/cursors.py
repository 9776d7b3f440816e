"""Page cursors of the staff lists, bound to the query that made them.

A cursor is base64 JSON: DynamoDB's LastEvaluatedKey (`k`; for the donation list, which
merges write shards, the sort key every shard resumes after), any position of the list's own
(the donation list's month, `m`), and `q`, a digest of the query's filters. It needs no
secret: it binds, it does not authenticate. A cursor is taken back only by the query that
made it, and only with a start key in that query's partition and sort range, so DynamoDB is
never sent a start key outside its key condition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain.errors import ValidationFailedError


def query_digest(scope: Mapping[str, str]) -> str:
    text = json.dumps(dict(scope), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def encode(scope: Mapping[str, str], **position: Any) -> str:
    data = {**position, "q": query_digest(scope)}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def decode(cursor: str, scope: Mapping[str, str]) -> dict[str, Any]:
    """The position a cursor holds, if the query `scope` made it; ValidationFailedError otherwise."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    # A cursor nested past the parser's depth (`[[[[…`) is a RecursionError, not a ValueError.
    except (ValueError, binascii.Error, UnicodeError, RecursionError) as exc:
        raise bad_cursor() from exc
    if not isinstance(data, dict) or data.get("q") != query_digest(scope):
        raise bad_cursor()
    return data


def start_key(
    key: Any,
    partition: str,
    record: Callable[[str], dict[str, Any]],
    sort_range: tuple[str, str] | None = None,
    index_keys: tuple[str, str] = ("gsi1pk", "gsi1sk"),
) -> dict[str, Any]:
    """A LastEvaluatedKey from a cursor, accepted only as this query's GSI gives it: in
    `partition`, with a sort value `<...>#<id>` inside `sort_range`, and the table key
    `record(id)` of that same item. `index_keys` names the GSI's key attributes."""
    pk_name, sk_name = index_keys
    if not (
        isinstance(key, dict)
        and set(key) == {"pk", "sk", pk_name, sk_name}
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
    ):
        raise bad_cursor()
    values = {name: value["S"] for name, value in key.items()}
    item_id = values[sk_name].rpartition("#")[2]
    table_key = record(item_id) if item_id else {}
    if values[pk_name] != partition or {"pk": values["pk"], "sk": values["sk"]} != table_key:
        raise bad_cursor()
    if sort_range and not sort_range[0] <= values[sk_name] <= sort_range[1]:
        raise bad_cursor()
    return key


def bad_cursor() -> ValidationFailedError:
    return ValidationFailedError(
        "the cursor is not one this query returned",
        fields=[{"field": "cursor", "message": "invalid cursor"}],
    )
