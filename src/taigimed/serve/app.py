"""The FastAPI app: ``create_app(cfg, workdir, engine=None)``.

    app = create_app(load_config("tiny"), Workdir.resolve(tmp), engine=my_engine)

Start-up applies the database migrations, marks answers cut by an earlier crash as
interrupted, refuses to run clinician review without a reviewer credential, starts the
storage writer and warms the model in the background (``/readyz`` turns 200 when done);
shutdown lets in-flight answers finish, then flushes storage.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from taigimed import __version__
from taigimed.config import Config
from taigimed.knowledge.base import KnowledgeBase
from taigimed.serve.answers import alarm_card, answer_hooks
from taigimed.serve.engines.base import Engine
from taigimed.serve.errors import install_handlers
from taigimed.serve.generation import TurnRunner
from taigimed.serve.hooks import Hooks
from taigimed.serve.logs import request_id_var
from taigimed.serve.metrics import Metrics
from taigimed.serve.safety_layer import safety_hooks
from taigimed.serve.security import Authenticator, BodySizeLimit, RateLimiter
from taigimed.serve.state import AppState
from taigimed.serve.storage import db
from taigimed.serve.storage.writer import StorageWriter, mark_interrupted
from taigimed.text.romanize import standardize_input
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


REVIEW_TOKEN_MIN_CHARS = 32  # secrets.token_hex(32) gives 64
REVIEW_TOKEN_MIN_DISTINCT = 10  # refuses "aaaa…" and short words repeated


class ReviewCredentialMissing(ValueError):
    """Clinician review is on but nobody could be allowed to use it (or the token is weak)."""


def _review_credential(cfg: Config):
    """Fail closed: with review on, a reviewer credential must exist, or the server does not
    start (an open review API would hand patients' questions to anyone). Returns the start-up
    check that needs the database (a reviewer key when no token is set)."""
    safety = cfg.serve.safety

    async def nothing(writer) -> None:
        return None

    token = os.environ.get(safety.review_token_env)
    if token and (
        len(token) < REVIEW_TOKEN_MIN_CHARS or len(set(token)) < REVIEW_TOKEN_MIN_DISTINCT
    ):
        # Refused even where review is off: a guessable token must not wait to be switched on.
        raise ReviewCredentialMissing(
            f"${safety.review_token_env} is too weak: use at least {REVIEW_TOKEN_MIN_CHARS} "
            f"characters with at least {REVIEW_TOKEN_MIN_DISTINCT} different ones, e.g. "
            "$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if safety.review_mode == "off" or not safety.enabled:
        return nothing
    if token:
        return nothing
    how = (
        f"set ${safety.review_token_env} to a long random secret, or require API keys "
        "(serve.require_api_key=true) and make one with 'taigimed keys create NAME --role "
        "reviewer'"
    )
    if not cfg.serve.require_api_key:
        raise ReviewCredentialMissing(
            f"serve.safety.review_mode={safety.review_mode!r} needs a reviewer credential: {how}"
        )

    async def reviewer_key(writer) -> None:
        from taigimed.serve.keys import active_reviewer_keys

        if not await writer.run(active_reviewer_keys):
            raise ReviewCredentialMissing(
                f"serve.safety.review_mode={safety.review_mode!r} but there is no reviewer key "
                f"and ${safety.review_token_env} is not set: {how}"
            )

    return reviewer_key


def default_hooks(cfg: Config, knowledge: KnowledgeBase | None = None) -> Hooks:
    """The hooks ``create_app`` uses when none are passed: the safety layer's standardiser,
    red-flag triage and dosing first, then the answer mode's card retrieval
    (``serve/answers.py``); after the model, the answer guard, then the safety layer's dose
    filter and disclaimer. An alarm only the triage classifier raised carries the card too."""
    hooks = safety_hooks(cfg.serve.safety, alarm_card(cfg, knowledge))
    pre, post = answer_hooks(cfg, knowledge)
    hooks.pre_model += pre
    hooks.post_model = post + hooks.post_model
    if post and not hooks.standardizers:  # the guard answers in the user's script
        hooks.standardizers = [standardize_input]
    return hooks


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
    review_check = _review_credential(cfg)  # before the model loads: refuse at once
    if engine is None:
        from taigimed.serve.model_source import build_engine

        engine = build_engine(cfg, workdir)
    if hooks is None:
        from taigimed.serve.knowledge import served_knowledge

        hooks = default_hooks(cfg, served_knowledge(cfg, workdir))
    s = cfg.serve
    url = db.database_url(s, workdir)
    sql_engine = db.make_engine(url)
    sessions_factory = db.session_factory(sql_engine)
    metrics = Metrics(engine.info.model_version, engine.info.name)
    writer = StorageWriter(sessions_factory, on_failure=metrics.storage_failure)
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
        auth=Authenticator(
            s.require_api_key,
            writer,
            failed_per_minute=s.failed_auth_per_minute,
            cache_s=s.key_cache_s,
        ),
        limiter=RateLimiter(s.rate_limit_per_minute),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if s.migrate_on_start:
            await asyncio.to_thread(db.upgrade, url)
        await review_check(writer)
        # No live turn runs longer than the generation timeout; older in-progress rows from
        # other hosts are crash leftovers too.
        stale_s = s.generation_timeout_s + s.shutdown_grace_s + 60
        marked = await writer.run(lambda session: mark_interrupted(session, stale_s))
        if marked:
            metrics.interrupted.inc(marked)
            log.warning("answers cut by an earlier crash marked interrupted", extra={"n": marked})
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
    _truthful_openapi(app, s.require_api_key)
    return app


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


def _truthful_openapi(app: FastAPI, keys_required: bool) -> None:
    """The schema says what this server does: FastAPI's 422 never happens (validation errors
    are our 400), every body can be too large (413, ``BodySizeLimit``), any operation can
    fail inside (500), and without required keys only the review API asks for a
    credential."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path in schema.get("paths", {}).values():
            for op in path.values():
                responses = op.get("responses", {})
                if responses.pop("422", None) is not None and "400" not in responses:
                    responses["400"] = _error_response(
                        "Invalid request: the message names the field to fix."
                    )
                if "requestBody" in op:
                    responses.setdefault(
                        "413", _error_response("The body is larger than serve.max_request_bytes.")
                    )
                responses.setdefault(
                    "500", _error_response("An internal error; the server log says which.")
                )
                review = any("ReviewToken" in r for r in op.get("security", []))
                if not keys_required and not review:
                    op.pop("security", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
