"""Plain stored records: frozen, keyword-only dataclasses in place of pydantic models, so that
the routes that only read and write them (the webhook, the visitor forms) load no pydantic.

A record checks each field against its annotation when made, as the models did, so an item
stored in another shape (a number for a name, an unknown status) is refused where it is read,
never shown or written back. It offers the little of the models' interface the repositories
and routes use on both: `model_copy(update=...)` (checked again) and `model_dump()` (with the
derived values named in `SHOWN`). The HTTP layer's response shapes are made from the records
(chalicelib/api/schemas.py `shape_of`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from functools import cache
from types import NoneType, UnionType
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin, get_type_hints

Check = Callable[[Any], bool]


class Record:
    """The base of a record; each subclass is a `@dataclass(frozen=True, kw_only=True)`."""

    SHOWN: ClassVar[tuple[str, ...]] = ()  # properties model_dump adds to the fields

    def __post_init__(self) -> None:
        kind: type = type(self)
        for name, admits in checks(kind):
            if not admits(getattr(self, name)):
                raise TypeError(f"{type(self).__name__}.{name} is not of its type")

    def model_copy(self, *, update: dict[str, Any]) -> Self:
        return replace(self, **update)  # type: ignore[type-var]

    def model_dump(self) -> dict[str, Any]:
        kind: type = type(self)
        values = {name: getattr(self, name) for name in field_names(kind)}
        values.update((name, getattr(self, name)) for name in self.SHOWN)
        return values


@cache
def field_names(record: type) -> tuple[str, ...]:
    return tuple(spec.name for spec in fields(record))


@cache
def checks(record: type) -> tuple[tuple[str, Check], ...]:
    hints = get_type_hints(record)
    return tuple((name, _admits(hints[name])) for name in field_names(record))


def make_checks() -> None:
    """Every record's field checks, made now (SnapStart's init) instead of on first use."""
    for record in Record.__subclasses__():
        kind: type = record
        checks(kind)


def _admits(hint: Any) -> Check:
    """What a value must be to fit an annotation: the few kinds records use."""
    origin = get_origin(hint)
    if hint is str:
        return lambda v: isinstance(v, str)
    if hint is bool:
        return lambda v: v is True or v is False
    if hint is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if hint is NoneType:
        return lambda v: v is None
    if origin is Literal:
        allowed = frozenset(get_args(hint))
        return lambda v: isinstance(v, str) and v in allowed
    if origin in (Union, UnionType):
        args = get_args(hint)
        parts = tuple(_admits(arg) for arg in args if arg is not NoneType)
        admits = parts[0] if len(parts) == 1 else (lambda v: any(part(v) for part in parts))
        if NoneType in args:  # X | None, the common case: one test before X's
            return lambda v: v is None or admits(v)
        return admits
    if origin is list:
        item = _admits(get_args(hint)[0])
        return lambda v: isinstance(v, list) and all(item(i) for i in v)
    raise TypeError(f"a record field of type {hint!r} has no check")
