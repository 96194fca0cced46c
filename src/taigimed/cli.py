"""The ``taigimed`` console script: one subcommand per pipeline verb.

    taigimed pipeline run                 # the whole job on the embedded defaults
    taigimed pipeline run --config tiny   # the same on the tiny model, about a minute
    taigimed --help

Each subpackage registers its own commands; the functions behind them are the
API that pipeline steps, Argo steps and tests call directly.
"""

from __future__ import annotations

import typer

from taigimed import __version__
from taigimed.cli_options import ConfigOpt, SetOpt, load

app = typer.Typer(
    name="taigimed",
    help="TaigiMed: a Taiwanese Hokkien medical-information LLM, from data to serving.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

config_app = typer.Typer(help="Inspect recipes.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


@config_app.command("show")
def config_show(config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Print a recipe after defaults and overrides, as YAML.

    taigimed config show --config tiny --set train.stage1.max_steps=3
    """
    import yaml

    cfg = load(config, set_)
    typer.echo(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True))


@config_app.command("recipes")
def config_recipes() -> None:
    """List the shipped recipes."""
    from taigimed.config import list_recipes

    for name in list_recipes():
        typer.echo(name)


def _register_subcommands() -> None:
    from taigimed.data.cli import register as register_data
    from taigimed.evaluate.cli import register as register_eval
    from taigimed.knowledge.cli import register as register_knowledge
    from taigimed.models.cli import register as register_models
    from taigimed.pipeline.cli import register as register_pipeline
    from taigimed.registry.cli import register as register_registry
    from taigimed.rollout.cli import register as register_deploy
    from taigimed.serve.cli import register as register_serve
    from taigimed.train.cli import register as register_train

    for register in (
        register_data,
        register_models,
        register_train,
        register_eval,
        register_knowledge,
        register_registry,
        register_pipeline,
        register_serve,
        register_deploy,
    ):
        register(app)


_register_subcommands()

if __name__ == "__main__":
    app()
