"""A test hook that stops the process at a chosen call, as `kill -9` would."""

from __future__ import annotations

from typing import Any


class ProcessDied(BaseException):
    """The process stopped here; nothing after this point ran (no except clause catches it)."""


# A method of what a port hands out: "unit_of_work().commit" is the commit of every unit of
# work the repository makes (each DynamoDB transaction a use case writes).
NESTED = "()."


def _nested(wrapper: Any, name: str) -> Any:
    """The attribute, wrapped when the fault is on a method of what it returns."""
    attribute = getattr(wrapper._inner, name)
    outer, _, inner = wrapper._method.partition(NESTED)
    if not inner or name != outer:
        return None

    def make(*args: Any, **kwargs: Any) -> Any:
        made = attribute(*args, **kwargs)
        return _Delegate(made, inner, wrapper)

    return make


class _Delegate:
    """Routes one method of a made object through the wrapper that counts and faults."""

    def __init__(self, inner: Any, method: str, owner: Any) -> None:
        self._inner, self._method, self._owner = inner, method, owner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute
        return self._owner._fault(name, attribute)


class Crashing:
    """Wraps a port (Repository, Payments): the process dies at the nth call of `method`,
    before the call reaches the peer or right after it answered."""

    def __init__(self, inner: Any, method: str, nth: int = 1, *, after: bool = True) -> None:
        self._inner = inner
        self._method = method
        self._nth = nth
        self._after = after
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        nested = _nested(self, name)
        if nested:
            return nested
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute
        return self._fault(name, attribute)

    def _fault(self, name: str, attribute: Any) -> Any:

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            dies = self.calls == self._nth
            if dies and not self._after:
                raise ProcessDied(f"before {name}")
            result = attribute(*args, **kwargs)
            if dies:
                raise ProcessDied(f"after {name}")
            return result

        return call


class Failing:
    """Wraps a port: every call of `method` raises `error` before it reaches the peer, as an
    outage would, until `heal()` is called."""

    def __init__(self, inner: Any, method: str, error: Exception) -> None:
        self._inner = inner
        self._method = method
        self._error = error
        self.down = True

    def heal(self) -> None:
        self.down = False

    def __getattr__(self, name: str) -> Any:
        nested = _nested(self, name)
        if nested:
            return nested
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute
        return self._fault(name, attribute)

    def _fault(self, name: str, attribute: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise self._error
            return attribute(*args, **kwargs)

        return call


class AnswerLost:
    """Wraps a port: the nth call of `method` reaches the peer, then its answer is lost (the
    caller sees `error`), as when the network drops the response."""

    def __init__(self, inner: Any, method: str, error: Exception, nth: int = 1) -> None:
        self._inner = inner
        self._method = method
        self._error = error
        self._nth = nth
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        nested = _nested(self, name)
        if nested:
            return nested
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute
        return self._fault(name, attribute)

    def _fault(self, name: str, attribute: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            try:
                result = attribute(*args, **kwargs)
            except Exception:
                if self.calls == self._nth:
                    raise self._error from None
                raise
            if self.calls == self._nth:
                raise self._error
            return result

        return call
