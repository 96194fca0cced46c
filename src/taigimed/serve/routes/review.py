"""Clinician review queue and the user's fetch of a held answer.

    GET  /v1/review/queue?status=pending        held answers, oldest first (clinicians)
    GET  /v1/review/{response_id}               one held answer (clinicians)
    POST /v1/review/{response_id}               {"action": "approve"|"edit"|"reject",
                                                 "reviewer": "dr.lin", "text"?: "..."}
    GET  /v1/answers/{response_id}              the user's client: status and, once
                                                released, the answer; otherwise a notice

Clinician routes need the header ``X-Review-Token`` when the environment variable
named by ``serve.safety.review_token_env`` is set.
"""

from __future__ import annotations

import hmac
import os
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from taigimed.serve.errors import APIError
from taigimed.serve.review import (
    HeldAnswer,
    ReviewError,
    decide,
    get_held,
    list_queue,
    released_text,
)
from taigimed.serve.safety.rules import DEFAULT_RULES, load_rules
from taigimed.serve.safety.triage import reply_script
from taigimed.serve.state import app_state

router = APIRouter(tags=["review"])  # HeldAnswer (a dataclass) doubles as the response schema


class ReviewDecision(BaseModel):
    action: Literal["approve", "edit", "reject"] = Field(description="What the clinician decided.")
    reviewer: str = Field(min_length=1, max_length=200, description="Who decided.")
    text: str | None = Field(None, max_length=20000, description="The corrected answer (edit).")


class AnswerStatus(BaseModel):
    response_id: str
    review_status: str
    text: str | None = Field(description="The released answer; null while pending or rejected.")
    notice: str | None = Field(description="What to tell the user instead, in their language.")


def _check_clinician(request: Request) -> None:
    env = app_state(request).cfg.serve.safety.review_token_env
    expected = os.environ.get(env)
    if expected and not hmac.compare_digest(request.headers.get("x-review-token", ""), expected):
        raise APIError(
            401,
            f"clinician review needs the header X-Review-Token (the value of ${env})",
            "authentication_error",
            code="review_token",
        )


async def _run(request: Request, fn):
    """Run ``fn(session)`` on the storage writer; a ReviewError becomes a 4xx.

    The error is returned, not raised, inside the writer, so a wrong id is not
    logged or counted as a storage failure (nothing was changed before the check).
    """

    def guarded(session):
        try:
            return fn(session), None
        except ReviewError as exc:
            return None, exc

    result, error = await app_state(request).writer.run(guarded)
    if error is not None:
        raise APIError(error.status, str(error), code="review_error")
    return result


@router.get("/v1/review/queue", response_model=list[HeldAnswer])
async def queue(
    request: Request,
    status: Literal["pending", "approved", "edited", "rejected", "all"] = Query("pending"),
    limit: int = Query(50, ge=1, le=500),
) -> list[HeldAnswer]:
    _check_clinician(request)
    rows = await _run(request, lambda s: list_queue(s, None if status == "all" else status, limit))
    return rows


@router.get("/v1/review/{response_id}", response_model=HeldAnswer)
async def held(request: Request, response_id: str) -> HeldAnswer:
    _check_clinician(request)
    return await _run(request, lambda s: get_held(s, response_id))


@router.post("/v1/review/{response_id}", response_model=HeldAnswer)
async def review(request: Request, response_id: str, body: ReviewDecision) -> HeldAnswer:
    _check_clinician(request)
    return await _run(
        request, lambda s: decide(s, response_id, body.action, body.reviewer, body.text)
    )


@router.get("/v1/answers/{response_id}", response_model=AnswerStatus)
async def answer(request: Request, response_id: str) -> AnswerStatus:
    h = await _run(request, lambda s: get_held(s, response_id))
    cfg = app_state(request).cfg.serve.safety
    rules = load_rules(cfg.rules_path or DEFAULT_RULES)
    script = reply_script(h.script)
    text = released_text(h)
    notice = None
    if h.status == "pending":
        notice = rules.reply("review_pending", script)
    elif h.status == "rejected":
        notice = rules.reply("review_rejected", script)
    return AnswerStatus(response_id=h.response_id, review_status=h.status, text=text, notice=notice)
