"""Helpers starting real processes for the serving integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"{url}: process exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready after {timeout} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, timeout: float = 20) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@dataclass
class Server:
    proc: subprocess.Popen
    base_url: str
    workdir: Path
    log: Path


def start_serve(workdir: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    """``taigimed serve`` on a free port, ready; ``env`` adds to (or, with None values,
    removes from) the environment it gets."""
    port = free_port()
    log = workdir.parent / f"serve-{port}.log"
    base_env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
    base_env.pop("TAIGIMED_DATABASE_URL", None)
    for key, value in (env or {}).items():
        if value is None:
            base_env.pop(key, None)
        else:
            base_env[key] = value
    env = base_env
    cmd = [sys.executable, "-m", "taigimed.cli", "serve", "--workdir", str(workdir)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/readyz", proc, 180, log)
    except AssertionError:
        stop(proc)
        raise
    return Server(proc, base, workdir, log)


PEPPER = "integration-test-pepper"
REVIEW_TOKEN = "integration-review-token"


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
