"""Storing feedback on an answer (runs on the writer thread)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from taigimed.serve.protocol import FeedbackRequest
from taigimed.serve.storage.models import Feedback
from taigimed.serve.storage.sessions import owns_answer


class UnknownResponse(LookupError):
    pass


def store_feedback(session: Session, body: FeedbackRequest, api_key_id: int | None) -> list[str]:
    """One row per kind given; returns the metric kinds (thumbs_up, rating, inaccuracy...).
    Only the caller who got the answer may rate it; to anyone else it does not exist."""
    msg = owns_answer(session, body.response_id, api_key_id)
    if msg is None:
        raise UnknownResponse(
            f"no answer with id {body.response_id!r}; use the 'id' of a chat completion"
        )
    kinds = []
    if body.thumbs:
        session.add(
            Feedback(message_id=msg.id, kind="thumbs", thumbs=body.thumbs, api_key_id=api_key_id)
        )
        kinds.append(f"thumbs_{body.thumbs}")
    if body.rating is not None:
        session.add(
            Feedback(message_id=msg.id, kind="rating", rating=body.rating, api_key_id=api_key_id)
        )
        kinds.append("rating")
    if body.inaccuracy is not None:
        session.add(
            Feedback(
                message_id=msg.id,
                kind="inaccuracy",
                category=body.inaccuracy.category,
                comment=body.inaccuracy.comment,
                api_key_id=api_key_id,
            )
        )
        kinds.append("inaccuracy")
    return kinds
