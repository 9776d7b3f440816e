"""Lambda SnapStart, on for the API function (infra/resources.json).

Lambda runs the init once when it publishes a version and snapshots the memory; a cold start
then restores the snapshot instead of importing. So under SnapStart the init loads what every
route needs (all of chalicelib with its libraries, pydantic schemas, the plain records' field
checks, the AWS clients' service models, the token verifier) that an on-demand cold start loads
only in the route that needs it. The snapshot holds no secret (secrets are read at first use,
after restore) and no open connection (clients connect on their first call). After restore,
`random` is seeded afresh so copies restored from one snapshot do not share a sequence; ids,
tokens and nonces come from `secrets` (the kernel's generator), which restores need not touch.
Last, the init's garbage is collected and what is left frozen (`gc.freeze`), so no collection
after a restore walks it (see chalicelib/collector.py for the on-demand cold start).
"""

from __future__ import annotations

import os

SNAPSTART = "snap-start"  # AWS_LAMBDA_INITIALIZATION_TYPE while a SnapStart version is made


def prepare() -> None:
    """Called once by app.py: does nothing unless this init is the one SnapStart snapshots."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAPSTART:
        return
    warm()
    register_hooks()
    import gc

    gc.collect()
    gc.freeze()  # what the snapshot holds lives as long as each copy: later collections skip it


def warm() -> None:
    import importlib
    import pkgutil

    import chalicelib
    from chalicelib import bootstrap

    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
    import stripe  # noqa: F401  (the money routes' SDK: half a second on an on-demand cold start)

    _build_pydantic_schemas()
    from chalicelib.domain.records import make_checks

    make_checks()
    settings = bootstrap.get_settings()  # reads no secret
    settings.secrets.make_reader()
    bootstrap.get_repository()
    bootstrap.get_outreach_repository()
    bootstrap.get_staff_log()
    bootstrap.get_totals_store()
    bootstrap.get_verifier()
    if settings.export_bucket:
        bootstrap.get_export_ports()


def _build_pydantic_schemas() -> None:
    from pydantic import BaseModel

    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("chalicelib.") and not model.__pydantic_complete__:
            model.model_rebuild()


def register_hooks() -> None:
    try:
        from snapshot_restore_py import register_after_restore  # the Lambda runtime's module
    except ImportError:  # not on Lambda
        return
    register_after_restore(after_restore)


def after_restore() -> None:
    import random

    random.seed()
