"""The base of every Steward pydantic model."""

from __future__ import annotations

import os

from pydantic import AfterValidator, BaseModel, ConfigDict

from chalicelib.domain.text import header_text

# Steward uses no pydantic plugin. Unless told so, the first validator pydantic builds looks for
# plugins in every installed package's entry points (importlib.metadata), a cost paid by every
# cold start that validates anything. An explicit setting in the environment still wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class Model(BaseModel):
    """A model whose validator and serializer are built on first use, not at import: a cold
    start builds only the models its route touches. Subclasses' own `model_config` is merged
    with this one."""

    model_config = ConfigDict(defer_build=True)


# Text that may reach an email header (chalicelib/domain/text.py).
HeaderText = AfterValidator(header_text)
