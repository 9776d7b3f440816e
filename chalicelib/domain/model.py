"""The base of every Steward pydantic model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A model whose validator and serializer are built on first use, not at import: a cold
    start builds only the models its route touches. Subclasses' own `model_config` is merged
    with this one."""

    model_config = ConfigDict(defer_build=True)
