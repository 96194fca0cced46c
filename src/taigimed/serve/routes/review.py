"""Clinician review queue and the user's fetch of a held answer.

    GET  /v1/review/queue?status=pending        held answers, oldest first (clinicians)
    GET  /v1/review/{response_id}               one held answer (clinicians)
    POST /v1/review/{response_id}               {"action": "approve"|"edit"|"reject",
                                                 "reviewer": "dr.lin", "text"?: "..."}
    GET  /v1/answers/{response_id}              the user's client: status and, once
                                                released, the answer; otherwise a notice

Clinician routes fail closed: they need a reviewer credential, either an API key made
with ``taigimed keys create NAME --role reviewer`` (``Authorization: Bearer``) or the
header ``X-Review-Token`` equal to the environment variable named by
``serve.safety.review_token_env``. Every read and decision is written to the audit trail
(``review_audit``); an edited answer goes through the same answer-side safety (dose
filter, disclaimer) as a model answer. ``/v1/answers/{id}`` is the asking user's: it
needs their API key when keys are required, and answers 404 to anyone else.
"""

from __future__ import annotations

import hmac
import os
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from taigimed.safety.in_effect import rules_in_effect
from taigimed.safety.triage import reply_script
from taigimed.serve.errors import APIError
from taigimed.serve.protocol import NON_BLANK, ErrorResponse, Text, is_blank
from taigimed.serve.review import (
    HeldAnswer,
    ReviewerId,
    ReviewError,
    audit,
    decide,
    get_held,
    list_queue,
    released_text,
    safe_edit,
)
from taigimed.serve.routes.deps import api_key_scheme, caller
from taigimed.serve.security import Caller, bearer
from taigimed.serve.state import app_state
from taigimed.serve.storage.sessions import owns_answer

router = APIRouter(tags=["review"])  # HeldAnswer (a dataclass) doubles as the response schema
REVIEW_ERRORS = {c: {"model": ErrorResponse} for c in (400, 401, 403, 404, 409, 429)}


class ReviewDecision(BaseModel):
    # The schema states the rule ``decide`` enforces: an edit carries the corrected text.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["action"], "properties": {"action": {"const": "edit"}}},
            "then": {
                "required": ["text"],
                "properties": {"text": {"type": "string", "pattern": NON_BLANK}},
            },
        }
    )
    action: Literal["approve", "edit", "reject"] = Field(description="What the clinician decided.")
    reviewer: Text = Field(
        min_length=1, max_length=200, pattern=NON_BLANK, description="Who decided (not blank)."
    )
    text: Text | None = Field(
        None,
        max_length=20000,
        description="The corrected answer: required, not blank, for an edit. Keep the body "
        "within serve.max_request_bytes (413 otherwise).",
    )


class AnswerStatus(BaseModel):
    response_id: str
    review_status: str
    text: str | None = Field(description="The released answer; null while pending or rejected.")
    notice: str | None = Field(description="What to tell the user instead, in their language.")


def review_token(env: str) -> str | None:
    return os.environ.get(env) or None


review_token_scheme = APIKeyHeader(
    name="X-Review-Token",
    scheme_name="ReviewToken",
    auto_error=False,
    description="The clinician review token (the value of $TAIGIMED_REVIEW_TOKEN).",
)


async def _reviewer(
    request: Request,
    _key=Depends(api_key_scheme),
    _token=Depends(review_token_scheme),
) -> ReviewerId:
    """The reviewer's credential, or 401/403: never open, whatever the configuration.
    Every credential presented must be right: a wrong one next to a right one is refused."""
    st = app_state(request)
    address = request.client.host if request.client else "unknown"
    expected = review_token(st.cfg.serve.safety.review_token_env)
    given = request.headers.get("x-review-token")
    raw_auth = request.headers.get("authorization")
    key = bearer(raw_auth)
    if raw_auth is not None and key is None:
        raise APIError(
            401,
            "the Authorization header must be 'Bearer <reviewer key>'",
            "authentication_error",
            code="invalid_api_key",
        )
    by_token = None
    if given is not None:
        st.auth.refuse_locked(address, given)
        if not (expected and hmac.compare_digest(given.encode(), expected.encode())):
            st.auth.failed(address, given)
            raise APIError(
                401,
                "the review token is wrong",
                "authentication_error",
                code="invalid_review_token",
            )
        by_token = ReviewerId("token", "token", address)
    if key:
        info = await st.auth.known_key(key, address)
        if info.role == "reviewer":
            return ReviewerId(f"key:{info.id}", info.name, address)
        if by_token is None:
            raise APIError(
                403,
                f"API key {info.prefix}… is not a reviewer key "
                "('taigimed keys create NAME --role reviewer' makes one)",
                "permission_error",
                code="not_a_reviewer",
            )
    if by_token is not None:
        return by_token
    raise APIError(
        401,
        "clinician review needs a reviewer credential: 'Authorization: Bearer <reviewer key>' "
        f"or the header X-Review-Token (the value of ${st.cfg.serve.safety.review_token_env})",
        "authentication_error",
        code="review_credential_required",
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


@router.get("/v1/review/queue", response_model=list[HeldAnswer], responses=REVIEW_ERRORS)
async def queue(
    request: Request,
    status: Literal["pending", "approved", "edited", "rejected", "all"] = Query("pending"),
    limit: int = Query(50, ge=1, le=500),
    who: ReviewerId = Depends(_reviewer),
) -> list[HeldAnswer]:
    def job(s):
        rows = list_queue(s, None if status == "all" else status, limit)
        audit(s, who, "list", None, detail=f"status={status} rows={len(rows)}")
        return rows

    return await _run(request, job)


@router.get("/v1/review/{response_id}", response_model=HeldAnswer, responses=REVIEW_ERRORS)
async def held(
    request: Request, response_id: str, who: ReviewerId = Depends(_reviewer)
) -> HeldAnswer:
    def job(s):
        h = get_held(s, response_id)
        audit(s, who, "view", response_id)
        return h

    return await _run(request, job)


@router.post("/v1/review/{response_id}", response_model=HeldAnswer, responses=REVIEW_ERRORS)
async def review(
    request: Request,
    response_id: str,
    body: ReviewDecision,
    who: ReviewerId = Depends(_reviewer),
) -> HeldAnswer:
    hooks = app_state(request).hooks

    def job(s):
        # A refused decision changes nothing (every check comes before the change), so its
        # audit line is committed with the error that ``_run`` returns.
        text, detail = body.text, None
        try:
            if body.action == "edit" and not is_blank(text):
                # The clinician's words reach the patient, and later the training data, only
                # through the same dose filter and disclaimer as a model answer.
                text, meta = safe_edit(hooks, get_held(s, response_id), text)
                if meta.get("doses_removed"):
                    detail = f"doses_removed={meta['doses_removed']}"
            h = decide(s, response_id, body.action, body.reviewer, text)
        except ReviewError as exc:
            audit(s, who, body.action, response_id, body.reviewer, "refused", str(exc)[:500])
            raise
        audit(s, who, body.action, response_id, body.reviewer, detail=detail)
        return h

    return await _run(request, job)


@router.get(
    "/v1/answers/{response_id}",
    response_model=AnswerStatus,
    responses={c: {"model": ErrorResponse} for c in (401, 404, 429)},
)
async def answer(request: Request, response_id: str, who: Caller = Depends(caller)) -> AnswerStatus:
    """The asking user's view of a held answer: only the caller who asked sees it."""
    key_id = who.key.id if who.key else None

    def job(s):
        if owns_answer(s, response_id, key_id) is None:
            raise ReviewError(f"no held answer with id {response_id!r}", status=404)
        return get_held(s, response_id)

    h = await _run(request, job)
    rules = rules_in_effect(app_state(request).cfg.serve.safety)
    script = reply_script(h.script)
    text = released_text(h)
    notice = None
    if h.status == "pending":
        notice = rules.reply("review_pending", script)
    elif h.status == "rejected":
        notice = rules.reply("review_rejected", script)
    return AnswerStatus(response_id=h.response_id, review_status=h.status, text=text, notice=notice)
