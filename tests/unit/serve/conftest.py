"""Fixtures for the serving tests: an app on the tiny model, and a real PostgreSQL server."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support import free_port
from taigimed.config import load_config
from taigimed.serve.app import create_app
from taigimed.serve.engines.builtin import BuiltinEngine
from taigimed.serve.hooks import Hooks

TINY_ID = "tiny"


def make_engine(model_dir: Path, **kw) -> BuiltinEngine:
    return BuiltinEngine(
        model_dir,
        model_id=TINY_ID,
        model_version="test-v1",
        source="the test's model directory",
        max_context=kw.pop("max_context", 512),
        **kw,
    )


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready: {client.get('/readyz').json()}")


@pytest.fixture()
def engine_factory(tiny_model_dir):
    """``engine_factory(**kw)`` → a BuiltinEngine on the tiny model (not yet warmed)."""
    return lambda **kw: make_engine(tiny_model_dir, **kw)


@pytest.fixture()
def make_client(tiny_model_dir, tmp_path):
    """``make_client(hooks=None, engine_kw=None, **serve_overrides)`` → a ready TestClient.

    Hooks default to none (serving alone); pass ``hooks=...`` to test the plumbing.
    """
    clients = []

    def factory(hooks: Hooks | None = None, engine_kw: dict | None = None, **serve):
        cfg = load_config("tiny")
        for key, value in serve.items():
            setattr(cfg.serve, key, value)
        engine = make_engine(tiny_model_dir, **(engine_kw or {}))
        app = create_app(cfg, tmp_path / "work", engine=engine, hooks=hooks or Hooks())
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        wait_ready(client)
        return client

    yield factory
    for c in clients:
        c.__exit__(None, None, None)


def _run_as_postgres(cmd: list[str]) -> list[str]:
    """initdb/postgres refuse to run as root: switch to the 'postgres' user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on a free loopback port, in a temporary data directory."""
    # Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<version>/bin.
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    path = os.pathsep.join([os.environ.get("PATH", ""), *map(str, bindirs)])
    initdb, pg_ctl = shutil.which("initdb", path=path), shutil.which("pg_ctl", path=path)
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL not installed (scripts/install-services.sh installs it)")
    if os.geteuid() == 0:
        try:
            pg_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
    root = Path(tempfile.mkdtemp(prefix="taigimed-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (root, sock):
            os.chown(p, pg_user.pw_uid, pg_user.pw_gid)
    port = free_port()
    subprocess.run(
        _run_as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _run_as_postgres(
            [pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _run_as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request, tmp_path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'serve.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:  # a clean schema per test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url
