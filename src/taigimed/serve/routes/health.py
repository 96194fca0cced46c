"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from taigimed.serve.review import count_pending
from taigimed.serve.state import app_state

log = logging.getLogger("taigimed.serve")

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


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition.",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    st = app_state(request)
    m = st.metrics
    running, waiting = st.engine.queue_depth()
    m.running.labels(**m.labels).set(running)
    m.waiting.labels(**m.labels).set(waiting)
    m.writer_queue.set(st.writer.queue_depth())
    m.fixups(st.writer.fixups)
    if st.cfg.serve.safety.review_mode != "off":
        try:
            m.review_queue.set(await asyncio.to_thread(_pending, st))
        except Exception:  # the scrape still answers; the failure is logged
            log.exception("counting the review queue failed")
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)


def _pending(st) -> int:
    with st.sessions_factory() as s:
        return count_pending(s)
