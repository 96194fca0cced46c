"""POST /v1/feedback: thumbs, a 1-5 rating or an inaccuracy report on one answer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from taigimed.serve.errors import APIError
from taigimed.serve.protocol import ErrorResponse, FeedbackRequest, FeedbackResponse
from taigimed.serve.routes.deps import caller
from taigimed.serve.security import Caller
from taigimed.serve.state import app_state
from taigimed.serve.storage.feedback import UnknownResponse, store_feedback

router = APIRouter(tags=["feedback"])


@router.post(
    "/v1/feedback",
    response_model=FeedbackResponse,
    responses={c: {"model": ErrorResponse} for c in (400, 401, 404, 429)},
)
async def feedback(
    body: FeedbackRequest, request: Request, who: Caller = Depends(caller)
) -> FeedbackResponse:
    st = app_state(request)
    key_id = who.key.id if who.key else None
    try:
        kinds = await st.writer.run(lambda s: store_feedback(s, body, key_id))
    except UnknownResponse as exc:
        raise APIError(404, str(exc), param="response_id", code="response_not_found") from exc
    for kind in kinds:
        st.metrics.feedback_kind(kind)
    return FeedbackResponse(response_id=body.response_id, stored=kinds)
