"""Parse an argument list with the real CLI (typer → click), without running the command.

So a manifest, workflow or Dockerfile can never call a subcommand or flag that no longer
exists, or pass a value of the wrong type: click raises the same error a user would see.
typer vendors its own copy of click, so the click classes are taken from the command's own
package rather than ``import click``.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any


@cache
def _root(program: str) -> Any:
    if program == "taigimed":
        import typer

        from taigimed.cli import app

        return typer.main.get_command(app)
    if program == "mlflow":
        from mlflow.cli import cli

        return cli
    raise ValueError(f"unknown program {program!r}")


def _click_modules(cmd: Any) -> tuple[Any, Any]:
    """(core, exceptions) modules of the click copy ``cmd`` was built with."""
    for klass in reversed(type(cmd).__mro__):
        if klass.__module__.endswith(".core") and hasattr(klass, "make_context"):
            package = klass.__module__.rsplit(".", 1)[0]
            return importlib.import_module(f"{package}.core"), importlib.import_module(
                f"{package}.exceptions"
            )
    raise TypeError(f"{cmd!r} is not a click command")


def parse_cli_args(program: str, argv: list[str]) -> str | None:
    """None when ``program argv`` parses; otherwise click's error message."""
    cmd = _root(program)
    core, exceptions = _click_modules(cmd)
    args = list(argv)
    path = [program]
    while hasattr(cmd, "list_commands"):  # a group (typer's groups are not click.Group)
        if not args or args[0].startswith("-"):
            return f"'{' '.join(path)}' needs a subcommand"
        sub = cmd.get_command(core.Context(cmd, info_name=path[-1]), args[0])
        if sub is None:
            return f"no such command '{args[0]}' in '{' '.join(path)}'"
        path.append(args.pop(0))
        cmd = sub
    try:
        ctx = cmd.make_context(" ".join(path), args, resilient_parsing=False)
        ctx.close()
    except getattr(exceptions, "Exit", ()):
        return None  # --help and friends parse fine (click; typer's copy has no Exit)
    except exceptions.ClickException as exc:
        return exc.format_message()
    return None
