"""Storing feedback on an answer (runs on the writer thread)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from taigimed.serve.protocol import FeedbackRequest
from taigimed.serve.storage.models import Feedback, Message
from taigimed.serve.storage.sessions import owns_answer


class UnknownResponse(LookupError):
    pass


def _answer_card(session: Session, answer: Message) -> str | None:
    """The card an answer came from: the turn's facts (``sources``) are stored on the user
    message just before it (``writer.finish_turn``)."""
    from sqlalchemy import select

    question = session.scalars(
        select(Message).where(
            Message.conversation_id == answer.conversation_id, Message.seq == answer.seq - 1
        )
    ).first()
    sources = ((question.meta if question else None) or {}).get("sources") or []
    return sources[0].get("card_id") if sources else None


def store_feedback(session: Session, body: FeedbackRequest, api_key_id: int | None) -> list[str]:
    """One row per kind given; returns the metric kinds (thumbs_up, rating, inaccuracy...).
    Only the caller who got the answer may rate it; to anyone else it does not exist."""
    msg = owns_answer(session, body.response_id, api_key_id)
    if msg is None:
        raise UnknownResponse(
            f"no answer with id {body.response_id!r}; use the 'id' of a chat completion"
        )
    card_id = _answer_card(session, msg)

    def row(kind: str, **fields) -> None:
        session.add(
            Feedback(message_id=msg.id, kind=kind, card_id=card_id, api_key_id=api_key_id, **fields)
        )

    kinds = []
    if body.thumbs:
        row("thumbs", thumbs=body.thumbs)
        kinds.append(f"thumbs_{body.thumbs}")
    if body.rating is not None:
        row("rating", rating=body.rating)
        kinds.append("rating")
    if body.inaccuracy is not None:
        row("inaccuracy", category=body.inaccuracy.category, comment=body.inaccuracy.comment)
        kinds.append("inaccuracy")
    return kinds


def card_review_queue(session: Session) -> list[dict]:
    """Cards with negative feedback, most reports first: "this is wrong" (inaccuracy) and
    thumbs down. Only card ids and counts: no patient text."""
    from sqlalchemy import case, func, select

    wrong = func.sum(case((Feedback.kind == "inaccuracy", 1), else_=0))
    down = func.sum(case((Feedback.thumbs == "down", 1), else_=0))
    rows = session.execute(
        select(Feedback.card_id, wrong, down, func.max(Feedback.created_at))
        .where(Feedback.card_id.is_not(None))
        .group_by(Feedback.card_id)
        .having((wrong + down) > 0)
        .order_by(wrong.desc(), down.desc())
    ).all()
    return [
        {"card_id": c, "inaccuracy": int(w), "thumbs_down": int(d), "last": str(t)}
        for c, w, d, t in rows
    ]
