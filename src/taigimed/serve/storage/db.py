"""Database URL, engine and Alembic migrations (shipped inside the package)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from taigimed.serve.config import ServeConfig
from taigimed.workdir import Workdir

ENV_DATABASE_URL = "TAIGIMED_DATABASE_URL"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(cfg: ServeConfig, workdir: Workdir) -> str:
    """TAIGIMED_DATABASE_URL, else ``serve.database_url``, else SQLite under WORKDIR/serve."""
    url = os.environ.get(ENV_DATABASE_URL) or cfg.database_url
    if url:
        # A plain postgresql:// URL would pick psycopg2, which we do not ship.
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    path = workdir.ensure(workdir.serve) / "taigimed.sqlite"
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never wait for the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(url: str):
    from alembic.config import Config as AlembicConfig

    acfg = AlembicConfig()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    acfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return acfg


def upgrade(url: str, revision: str = "head") -> str:
    """Apply migrations up to ``revision``; returns the database's revision afterwards."""
    from alembic import command

    command.upgrade(_alembic_config(url), revision)
    return current_revision(url)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
