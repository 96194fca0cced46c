"""Everything one running app holds: engine, hooks, storage writer, metrics, sessions."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from taigimed.config import Config
from taigimed.serve.engines.base import Engine
from taigimed.serve.generation import TurnRunner
from taigimed.serve.hooks import Hooks
from taigimed.serve.metrics import Metrics
from taigimed.serve.security import Authenticator, RateLimiter
from taigimed.serve.storage.writer import StorageWriter
from taigimed.workdir import Workdir

log = logging.getLogger("taigimed.serve")


class SessionStore:
    """WebSocket dialogue history kept server-side, least recently used dropped first."""

    def __init__(self, max_sessions: int):
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, list[dict[str, str]]] = OrderedDict()

    def get(self, session_id: str) -> list[dict[str, str]]:
        history = self._sessions.setdefault(session_id, [])
        self._sessions.move_to_end(session_id)
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return history

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._sessions


@dataclass
class AppState:
    cfg: Config
    workdir: Workdir
    engine: Engine
    hooks: Hooks
    database_url: str
    sessions_factory: sessionmaker[Session]
    writer: StorageWriter
    metrics: Metrics
    runner: TurnRunner
    auth: Authenticator
    limiter: RateLimiter
    sessions: SessionStore
    ready: bool = False
    warmup_error: str | None = None
    warmup_task: asyncio.Task | None = field(default=None, repr=False)

    async def warmup(self) -> None:
        self.warmup_error = None
        try:
            await self.engine.warmup()
            self.ready = True
            info = self.engine.info
            log.info(
                "model ready",
                extra={"model": info.model_id, "version": info.model_version, "why": info.source},
            )
        except Exception as exc:  # reported by /readyz; the process keeps serving /healthz
            self.warmup_error = f"{type(exc).__name__}: {exc}"
            log.exception("warmup failed")


def app_state(request: Request) -> AppState:
    return request.app.state.taigimed
