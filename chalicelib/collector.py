"""CPython's cyclic garbage collector during an on-demand cold start.

A cold start allocates over 100,000 objects (the libraries, the AWS client's service model, the
first pydantic validators) and almost none of them is garbage: about a thousand are cycles left
behind. While they are being made, the collector walks them again and again, with a full
collection on most routes: 20 to 40 ms of CPU per cold start here, as much as a route's own
work. So on an on-demand Lambda init the collector waits: it is paused when chalicelib is first
imported (app.py's first import of it) and resumes once the first event has been answered,
after `gc.freeze()` has set aside every object then alive (they live as long as the container,
and later collections skip them). Anywhere else (tests, `make run`, an init Lambda makes ahead
of time for SnapStart or provisioned concurrency) the collector is left as it is.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any

ON_DEMAND = "on-demand"  # AWS_LAMBDA_INITIALIZATION_TYPE of an on-demand cold start
_paused = False


def pause_for_cold_start() -> None:
    global _paused
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == ON_DEMAND and gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """The collector on again (once), with everything alive now left out of its work."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def resume_after_first_event(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every event type (app.py)."""
    try:
        return get_response(event)
    finally:
        resume()
