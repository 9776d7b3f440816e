"""Run localstripe with its state file under our folder instead of the shared /tmp path,
so the test stack and `make run` never overwrite each other's state, and with what it lacks
for Steward's calls (devstack/localstripe_ext.py)."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any


def main() -> None:
    state = Path(sys.argv.pop(1))
    from localstripe import resources, server

    def load(store: Any) -> None:
        try:
            with state.open("rb") as handle:
                old = pickle.load(handle)  # noqa: S301 - our own local state file
        except (FileNotFoundError, EOFError, pickle.UnpicklingError):
            return
        store.clear()
        store.update(old)

    def dump(store: Any) -> None:
        partial = state.with_suffix(".part")
        with partial.open("wb") as handle:
            pickle.dump(dict(store), handle, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(state)

    from devstack.localstripe_ext import extend

    extend()
    resources.Store.try_load_from_disk = load  # type: ignore[method-assign]
    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]
    server.start()


if __name__ == "__main__":
    main()
