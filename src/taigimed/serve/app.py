"""The FastAPI app: ``create_app(cfg, workdir, engine=None)``.

    app = create_app(load_config("tiny"), Workdir.resolve(tmp), engine=my_engine)

Start-up applies the database migrations, starts the storage writer and warms the
model in the background (``/readyz`` turns 200 when done); shutdown lets in-flight
answers finish, then flushes storage.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from taigimed import __version__
from taigimed.config import Config
from taigimed.serve.engines.base import Engine
from taigimed.serve.errors import install_handlers
from taigimed.serve.generation import TurnRunner
from taigimed.serve.hooks import Hooks, default_hooks
from taigimed.serve.logs import request_id_var
from taigimed.serve.metrics import Metrics
from taigimed.serve.security import Authenticator, BodySizeLimit, RateLimiter
from taigimed.serve.state import AppState, SessionStore
from taigimed.serve.storage import db
from taigimed.serve.storage.writer import StorageWriter
from taigimed.workdir import Workdir

log = logging.getLogger("taigimed.serve")


class RequestIdMiddleware:
    """Pure ASGI (streaming-safe): X-Request-ID in, the same or a new one out, and in the logs."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = request_id_var.set(rid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def create_app(
    cfg: Config,
    workdir: Workdir | Path | str,
    engine: Engine | None = None,
    hooks: Hooks | None = None,
) -> FastAPI:
    """The serving app. ``engine`` defaults to the one ``serve.engine``/``serve.model`` name;
    ``hooks`` to ``default_hooks(cfg)`` (the safety layer)."""
    if not isinstance(workdir, Workdir):
        workdir = Workdir.resolve(workdir)
    if engine is None:
        from taigimed.serve.model_source import build_engine

        engine = build_engine(cfg, workdir)
    hooks = hooks if hooks is not None else default_hooks(cfg)
    s = cfg.serve
    url = db.database_url(s, workdir)
    sql_engine = db.make_engine(url)
    sessions_factory = db.session_factory(sql_engine)
    metrics = Metrics(engine.info.model_version, engine.info.name)
    writer = StorageWriter(sessions_factory)
    state = AppState(
        cfg=cfg,
        workdir=workdir,
        engine=engine,
        hooks=hooks,
        database_url=url,
        sessions_factory=sessions_factory,
        writer=writer,
        metrics=metrics,
        runner=TurnRunner(
            engine,
            hooks,
            writer,
            metrics,
            timeout_s=s.generation_timeout_s,
            privacy_mode=s.privacy_mode,
        ),
        auth=Authenticator(s.require_api_key, writer),
        limiter=RateLimiter(s.rate_limit_per_minute),
        sessions=SessionStore(s.max_sessions),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if s.migrate_on_start:
            await asyncio.to_thread(db.upgrade, url)
        info = engine.info
        log.info(
            "serving",
            extra={
                "model": info.model_id,
                "model_version": info.model_version,
                "engine": info.name,
                "why": info.source,
                "database": url.split("@")[-1],
            },
        )
        state.warmup_task = asyncio.create_task(state.warmup())
        try:
            yield
        finally:
            if not state.warmup_task.done():
                state.warmup_task.cancel()
            await engine.close()
            await asyncio.to_thread(writer.flush)
            writer.close()
            sql_engine.dispose()

    app = FastAPI(
        title="TaigiMed",
        version=__version__,
        description="Taigi medical-information chat: OpenAI-compatible API and WebSocket. "
        "General health information, not a diagnosis.",
        lifespan=lifespan,
    )
    app.state.taigimed = state
    install_handlers(app, metrics.error)
    from taigimed.serve.routes import chat, feedback, health, models, review, web, ws

    for module in (chat, models, ws, feedback, health, review, web):
        app.include_router(module.router)
    if s.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=s.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Session-Id", "X-Request-ID"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=s.max_request_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
