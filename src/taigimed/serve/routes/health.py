"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from taigimed.serve.state import app_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict:
    """The process is up (liveness)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 once the model is loaded and warmed (readiness); 503 before or after a failure."""
    st = app_state(request)
    info = st.engine.info
    if not st.ready and st.warmup_task is not None and st.warmup_task.done():
        # e.g. the upstream server started after us: try again, readiness follows.
        st.warmup_task = asyncio.create_task(st.warmup())
    healthy = st.ready and await st.engine.health()
    body = {
        "status": "ready" if healthy else "not_ready",
        "model": info.model_id,
        "model_version": info.model_version,
        "engine": info.name,
    }
    if st.warmup_error:
        body["error"] = st.warmup_error
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    st = app_state(request)
    running, waiting = st.engine.queue_depth()
    st.metrics.running.labels(**st.metrics.labels).set(running)
    st.metrics.waiting.labels(**st.metrics.labels).set(waiting)
    return Response(generate_latest(st.metrics.registry), media_type=CONTENT_TYPE_LATEST)
