"""CLI commands of `taigimed.knowledge`: build the health-education cards and ask them.

The group also holds commands other subpackages own and add themselves: `eval`, `medrag`
and `grounding` (evaluation's, ``evaluate/knowledge_cli.py``) and `review-queue` (the
feedback store's, ``serve/cli.py``), so knowledge/ imports neither."""

from __future__ import annotations

from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir

knowledge_app = typer.Typer(
    help="Vetted health-education cards: build, ask, evaluate (docs/knowledge.md).",
    no_args_is_help=True,
)


def open_or_exit(cfg, wd):
    """The configured knowledge base, or a clean exit naming the card problem."""
    from taigimed.knowledge.base import open_knowledge
    from taigimed.knowledge.cards import CardError

    try:
        return open_knowledge(cfg.knowledge, wd)
    except CardError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc


@knowledge_app.command("build")
def build_cmd(config: ConfigOpt = None, set_: SetOpt = None, workdir_: WorkdirOpt = None) -> None:
    """Validate and index the cards into WORKDIR/knowledge/<version>/ (cached by content hash).

    taigimed knowledge build
    taigimed knowledge build --set 'knowledge.cards_dirs=["my_cards"]'
    """
    kb = open_or_exit(load(config, set_), workdir(workdir_))
    m = kb.manifest
    typer.echo(
        f"knowledge {m['version']}: {m['cards']} cards, {len(m['topics'])} topics, "
        f"{len(m['unreviewed'])} unreviewed → {kb.folder}"
    )


@knowledge_app.command("ask")
def ask_cmd(
    question: Annotated[str, typer.Argument(help="A question in any script.")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """What `cards` mode would answer, with the retrieved cards, their relevance and the
    decision's confidence that the best one answers the question.

    taigimed knowledge ask "高血壓的人飲食要注意什麼？"
    """
    from taigimed.knowledge.base import answer_question
    from taigimed.knowledge.render import card_answer, no_card_answer

    cfg = load(config, set_)
    kb = open_or_exit(cfg, workdir(workdir_))
    k = cfg.knowledge
    found, script = answer_question(kb, question, k.top_k, k.min_confidence)
    for h in found.hits:
        typer.echo(f"  {h.hit.relevance:.3f}  {h.card.id}")
    verdict = "answers" if found.answered else "no vetted information"
    typer.echo(f"confidence {found.confidence:.2f}: {verdict}\n")
    typer.echo(card_answer(found.best, script) if found.best else no_card_answer(script))


def register(app: typer.Typer) -> None:
    app.add_typer(knowledge_app, name="knowledge")
