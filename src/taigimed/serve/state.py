"""Everything one running app holds: engine, hooks, storage writer, metrics. Conversation
history is not held here: it is read from the database (any replica continues a session)."""

from __future__ import annotations

import asyncio
import logging
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
    ready: bool = False
    ws_open: int = 0  # WebSocket sessions open now in this process
    ws_per_client: dict[str, int] = field(default_factory=dict)  # 'addr:…' / 'key:…': open
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
