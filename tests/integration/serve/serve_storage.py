"""Storage helpers for the serving integration tests: a fresh database per test, API keys
with roles, and reading the server's tables from outside the server."""

from __future__ import annotations

import os
from pathlib import Path

PEPPER = "integration-test-pepper"
REVIEW_TOKEN = "integration-review-token-0123456789abcdef"
# A server on the tiny recipe that needs API keys, holds flagged turns for review and never
# rate-limits the test's own requests.
KEYED_SERVER = [
    "--config",
    "tiny",
    "--set",
    "serve.require_api_key=true",
    "--set",
    "serve.safety.review_mode=flagged",
    "--set",
    "serve.rate_limit_per_minute=10000",
]


def fresh_database(kind: str, tmp: Path, postgres_url: str | None = None) -> str:
    """An empty database: a SQLite file under ``tmp``, or a new database on the test's
    PostgreSQL server."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'serve.sqlite'}"
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t{uuid.uuid4().hex[:12]}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def make_keys(url: str, **roles: str) -> dict[str, tuple[int, str]]:
    """Migrate ``url`` and create one API key per ``name=role``: {name: (id, key)}."""
    from taigimed.serve.keys import create_key
    from taigimed.serve.storage import db

    db.upgrade(url)
    engine = db.make_engine(url)
    old = os.environ.get("TAIGIMED_API_KEY_PEPPER")
    os.environ["TAIGIMED_API_KEY_PEPPER"] = PEPPER
    try:
        out = {}
        with db.session_factory(engine).begin() as s:
            for name, role in roles.items():
                key, info = create_key(s, name, role=role)
                out[name] = (info.id, key)
        return out
    finally:
        if old is None:
            os.environ.pop("TAIGIMED_API_KEY_PEPPER", None)
        else:
            os.environ["TAIGIMED_API_KEY_PEPPER"] = old
        engine.dispose()


def query(url: str, sql: str, **params):
    """Rows of one SQL query on the server's database (read from outside the server)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).fetchall()
    finally:
        engine.dispose()


def refuse_messages_containing(url: str, kind: str, marker: str, name: str) -> None:
    """Make the database refuse any message whose text holds ``marker`` (a trigger on SQLite,
    a check constraint on PostgreSQL, both called ``name``): a storage failure on demand."""
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        ddl = (
            f"CREATE TRIGGER {name} BEFORE INSERT ON messages "
            f"WHEN NEW.content LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    else:
        ddl = (
            f"ALTER TABLE messages ADD CONSTRAINT {name} "
            f"CHECK (content NOT LIKE '%{marker}%') NOT VALID"
        )
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(ddl))
    engine.dispose()
