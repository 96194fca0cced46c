"""CLI commands of `taigimed.evaluate`."""

import typer


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app."""
