"""CLI commands of `taigimed.serve`: serve, db upgrade|purge, keys create|revoke|list."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir

db_app = typer.Typer(help="The serving database.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for the serving API.", no_args_is_help=True)


def serve(
    workdir_: WorkdirOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    model: Annotated[
        str | None, typer.Option(help="Registry alias (production, staging...), version or dir.")
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="auto (llamacpp on CPU), llamacpp, builtin or upstream.")
    ] = None,
    upstream_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server for --engine upstream.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
) -> None:
    """Run the chat service (OpenAI-compatible API, WebSocket, metrics).

    taigimed serve                                   # production alias, else newest, else base
    taigimed serve --config tiny --port 8000         # the tiny random model, for trying the API
    taigimed serve --engine upstream --upstream-url http://127.0.0.1:8080
    """
    options = {"model": model, "engine": engine, "upstream_url": upstream_url, "host": host}
    cfg = load(config, serve_overrides(set_, {**options, "port": port}))
    from taigimed.serve.server import run_server

    run_server(cfg, workdir(workdir_))


def serve_overrides(set_: list[str] | None, options: dict[str, Any]) -> list[str]:
    """``--set`` plus the options given, as overrides of ``serve.*`` (the options win).

    Values go as JSON (which YAML reads as written), so ``--model 3`` stays the string "3".
    """
    given = [f"serve.{k}={json.dumps(v)}" for k, v in options.items() if v is not None]
    return [*(set_ or []), *given]


@db_app.command("upgrade")
def db_upgrade(workdir_: WorkdirOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """Apply the serving database's migrations (also done at start-up).

    taigimed db upgrade
    TAIGIMED_DATABASE_URL=postgresql://user@host/taigimed taigimed db upgrade
    """
    from taigimed.serve.storage.db import database_url, upgrade

    cfg = load(config, set_)
    url = database_url(cfg.serve, workdir(workdir_))
    revision = upgrade(url)
    typer.echo(f"database {url.split('@')[-1]} is at revision {revision}")


@db_app.command("purge")
def db_purge(
    session: Annotated[
        list[str] | None, typer.Option("--session", help="A conversation (session) id; repeat.")
    ] = None,
    key: Annotated[
        int | None, typer.Option("--key", help="Everything sent with this API key id.")
    ] = None,
    older_than_days: Annotated[
        float | None, typer.Option(help="Every conversation idle for longer (retention).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking.")] = False,
    workdir_: WorkdirOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Delete one person's records: their conversations, messages, feedback and safety events.

    taigimed db purge --session ws-3f2a9c1d0b7e4a55 --yes
    taigimed db purge --key 7 --yes                 # everything sent with API key 7
    taigimed db purge --older-than-days 90 --yes    # the retention sweep (a daily CronJob)
    """
    from taigimed.serve.storage.purge import purge

    if not session and key is None and older_than_days is None:
        typer.secho("error: give --session, --key or --older-than-days", fg="red", err=True)
        raise typer.Exit(2)
    what = ", ".join(
        [f"session {s}" for s in session or []]
        + ([f"API key {key}"] if key is not None else [])
        + ([f"older than {older_than_days:g} days"] if older_than_days is not None else [])
    )
    if not yes and not typer.confirm(f"delete every record of {what}?"):
        raise typer.Exit(1)
    sessions = _sessions(config, set_, workdir_)
    with sessions.begin() as s:
        n = purge(s, conversation_ids=session, api_key_id=key, older_than_days=older_than_days)
    typer.echo(
        f"deleted {n.conversations} conversations, {n.messages} messages, {n.feedback} "
        f"feedback and {n.safety_events} safety events ({what})"
    )
    typer.echo(
        "feedback exported before ('taigimed data export-feedback') is a separate copy: "
        "export again and delete the old export",
        err=True,
    )


def _sessions(config, set_, workdir_):
    from taigimed.serve.storage.db import database_url, make_engine, session_factory, upgrade

    cfg = load(config, set_)
    url = database_url(cfg.serve, workdir(workdir_))
    upgrade(url)
    return session_factory(make_engine(url))


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who the key is for.")],
    rate_limit: Annotated[
        int | None, typer.Option(help="Requests per minute for this key (default: config).")
    ] = None,
    role: Annotated[
        str, typer.Option(help="client (chat) or reviewer (also the clinician review API).")
    ] = "client",
    workdir_: WorkdirOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Make an API key; it is printed once and only its hash is stored.

    export TAIGIMED_API_KEY_PEPPER=$(python -c 'import secrets; print(secrets.token_hex(32))')
    taigimed keys create clinic-app --rate-limit 60
    taigimed keys create dr.lin --role reviewer
    """
    from taigimed.serve.storage.models import KEY_ROLES

    if role not in KEY_ROLES:
        typer.secho(f"error: --role must be one of {', '.join(KEY_ROLES)}", fg="red", err=True)
        raise typer.Exit(2)
    from taigimed.serve.keys import PepperMissing, create_key

    sessions = _sessions(config, set_, workdir_)
    try:
        with sessions.begin() as s:
            key, info = create_key(s, name, rate_limit, role)
    except PepperMissing as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"id {info.id} ({info.name}, {info.role}): {key}")
    typer.echo("store it now: it cannot be shown again", err=True)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The id 'taigimed keys list' shows.")],
    workdir_: WorkdirOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Revoke a key (servers stop accepting it within 30 s).

    taigimed keys revoke 3
    """
    from taigimed.serve.keys import revoke_key

    sessions = _sessions(config, set_, workdir_)
    try:
        with sessions.begin() as s:
            info = revoke_key(s, key_id)
    except KeyError as exc:
        typer.secho(f"error: {exc.args[0]}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"revoked id {info.id} ({info.name}) at {info.revoked_at:%Y-%m-%d %H:%M:%S}")


@keys_app.command("list")
def keys_list(workdir_: WorkdirOpt = None, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """List keys (id, name, prefix, state); never the keys themselves.

    taigimed keys list
    """
    from taigimed.serve.keys import list_keys

    sessions = _sessions(config, set_, workdir_)
    with sessions() as s:
        for k in list_keys(s):
            state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
            limit = f" {k.rate_limit_per_minute}/min" if k.rate_limit_per_minute else ""
            typer.echo(f"{k.id}\t{k.name}\t{k.role}\t{k.prefix}…\t{state}{limit}")


def review_queue_cmd(
    config: ConfigOpt = None, set_: SetOpt = None, workdir_: WorkdirOpt = None
) -> None:
    """Cards that patients reported wrong or unhelpful, most reports first (ids and counts,
    no patient text): the clinician's review list.

    taigimed knowledge review-queue
    TAIGIMED_DATABASE_URL=postgresql+psycopg://… taigimed knowledge review-queue
    """
    from taigimed.serve.storage import db
    from taigimed.serve.storage.feedback import card_review_queue

    cfg = load(config, set_)
    url = db.database_url(cfg.serve, workdir(workdir_))
    db.upgrade(url)
    with db.session_factory(db.make_engine(url))() as session:
        rows = card_review_queue(session)
    if not rows:
        typer.echo("no card has negative feedback")
    for r in rows:
        typer.echo(
            f"{r['card_id']:32s} wrong {r['inaccuracy']:3d}  thumbs down {r['thumbs_down']:3d}"
            f"  last {r['last']}"
        )


def register(app: typer.Typer) -> None:
    """Add this subpackage's commands to the `taigimed` app, and `knowledge review-queue` to
    the knowledge group (it reads the feedback store, which serving owns)."""
    from taigimed.knowledge.cli import knowledge_app

    knowledge_app.command("review-queue")(review_queue_cmd)
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
