"""Fixtures shared by the serving and rollout tests: the real app on the tiny model.

Imports are inside the fixtures so that collecting the other unit tests stays light.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from taigimed.serve.engines.builtin import BuiltinEngine
    from taigimed.serve.hooks import Hooks

TINY_ID = "tiny"


def make_engine(model_dir: Path, **kw) -> BuiltinEngine:
    from taigimed.serve.engines.builtin import BuiltinEngine

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
    from fastapi.testclient import TestClient

    from taigimed.config import load_config
    from taigimed.serve.app import create_app
    from taigimed.serve.hooks import Hooks

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


@pytest.fixture(scope="session")
def test_kb(tmp_path_factory):
    """The three test cards of tests/assets/cards, built once (knowledge and serving tests)."""
    from support import ASSETS
    from taigimed.knowledge.base import open_knowledge
    from taigimed.knowledge.config import KnowledgeConfig
    from taigimed.workdir import Workdir

    wd = Workdir.resolve(tmp_path_factory.mktemp("kb-work"))
    return open_knowledge(KnowledgeConfig(cards_dirs=[ASSETS / "cards"]), wd)
