"""Clinician review: the queue of held answers and the decisions on them.

An answer held by ``ReviewGate`` is stored with ``review_status='pending'``; the
user was sent a notice in their language instead. A clinician approves it, edits
it (the edited text is what the user gets) or rejects it (the user gets a notice
to ask a doctor or pharmacist); who and when are stored. These functions run on the
storage writer's thread (``StorageWriter.run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from taigimed.serve.hooks import Hooks, TurnContext
from taigimed.serve.protocol import is_blank
from taigimed.serve.storage.models import ID_MAX_CHARS, Message, ReviewAudit, storable_id, utcnow

ACTIONS = {"approve": "approved", "edit": "edited", "reject": "rejected"}


class ReviewError(ValueError):
    """A decision that cannot be applied; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class HeldAnswer:
    response_id: str
    conversation_id: str
    status: str
    question: str | None
    answer: str
    script: str | None
    reason: str | None
    created_at: datetime
    reviewer: str | None
    reviewed_at: datetime | None
    edited_text: str | None


def _question(session: Session, msg: Message) -> Message | None:
    return session.scalars(
        select(Message)
        .where(
            Message.conversation_id == msg.conversation_id,
            Message.seq < msg.seq,
            Message.role == "user",
        )
        .order_by(Message.seq.desc())
        .limit(1)
    ).first()


def _held(session: Session, msg: Message) -> HeldAnswer:
    q = _question(session, msg)
    meta = (q.meta if q is not None else None) or {}
    return HeldAnswer(
        response_id=msg.id,
        conversation_id=msg.conversation_id,
        status=msg.review_status or "",
        question=q.content if q is not None else None,
        answer=msg.content,
        script=meta.get("script"),
        reason=meta.get("review_reason"),
        created_at=msg.created_at,
        reviewer=msg.reviewer,
        reviewed_at=msg.reviewed_at,
        edited_text=msg.edited_text,
    )


def list_queue(
    session: Session, status: str | None = "pending", limit: int = 50
) -> list[HeldAnswer]:
    """Held answers, oldest first; ``status=None`` lists every reviewed or held one."""
    q = select(Message).where(Message.role == "assistant", Message.review_status.is_not(None))
    if status:
        q = q.where(Message.review_status == status)
    rows = session.scalars(q.order_by(Message.created_at).limit(limit)).all()
    return [_held(session, m) for m in rows]


def _message(session: Session, response_id: str) -> Message | None:
    return session.get(Message, response_id) if storable_id(response_id) else None


def get_held(session: Session, response_id: str) -> HeldAnswer:
    msg = _message(session, response_id)
    if msg is None or msg.role != "assistant" or msg.review_status is None:
        raise ReviewError(f"no held answer with id {response_id!r}", status=404)
    return _held(session, msg)


def decide(
    session: Session, response_id: str, action: str, reviewer: str, text: str | None = None
) -> HeldAnswer:
    """Approve, edit or reject a pending answer, recording who and when."""
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {sorted(ACTIONS)}, got {action!r}")
    if is_blank(reviewer):
        raise ReviewError("reviewer must name who decided (e.g. 'dr.lin')")
    if action == "edit" and is_blank(text):
        raise ReviewError("an edit needs the corrected answer in 'text'")
    msg = _message(session, response_id)
    if msg is None or msg.role != "assistant" or msg.review_status is None:
        raise ReviewError(f"no held answer with id {response_id!r}", status=404)
    if msg.review_status != "pending":
        raise ReviewError(
            f"answer {response_id} was already {msg.review_status} by {msg.reviewer}", status=409
        )
    msg.review_status = ACTIONS[action]
    msg.reviewer = reviewer.strip()[:200]
    msg.reviewed_at = utcnow()
    if action == "edit":
        msg.edited_text = text
    session.flush()
    return _held(session, msg)


def released_text(held: HeldAnswer) -> str | None:
    """What the user may now read: the approved or edited answer; None while pending or rejected."""
    if held.status == "approved":
        return held.answer
    if held.status == "edited":
        return held.edited_text
    return None


@dataclass
class ReviewerId:
    """Who is using the review API: the credential that was checked and where from."""

    credential: str  # "key:<id>" or "token"
    name: str  # the key's name, or "token"
    address: str


def audit(
    session: Session,
    who: ReviewerId,
    action: str,
    response_id: str | None,
    reviewer: str | None = None,
    outcome: str = "ok",
    detail: str | None = None,
) -> None:
    """One line of the audit trail (in the caller's transaction, so a decision and its
    audit line are stored together or not at all)."""
    if response_id is not None and not storable_id(response_id):
        # Kept on record in a form every database stores (the full id is in ``detail``).
        response_id = response_id.encode("utf-8", "replace").decode().replace("\x00", "")
        response_id = response_id[:ID_MAX_CHARS] or None
    session.add(
        ReviewAudit(
            action=action,
            response_id=response_id,
            reviewer=(reviewer or who.name)[:200],
            credential=who.credential[:64],
            address=who.address[:64],
            outcome=outcome,
            detail=detail,
        )
    )


def count_pending(session: Session) -> int:
    return len(
        session.scalars(
            select(Message.id).where(
                Message.role == "assistant", Message.review_status == "pending"
            )
        ).all()
    )


def safe_edit(hooks: Hooks, held: HeldAnswer, text: str) -> tuple[str, dict]:
    """The clinician's text after the same answer-side safety a model answer gets (dose
    filter, dose note, disclaimer); returns it and the facts the hooks recorded."""
    ctx = TurnContext(
        request_id=f"review-{held.response_id}",
        session_id=held.conversation_id,
        messages=[{"role": "user", "content": held.question or ""}],
        raw_user_text=held.question or "",
        meta={"script": held.script} if held.script else {},
    )
    for hook in hooks.post_model:
        text = hook.amend_chunk(ctx, text)
    suffix = ""
    for hook in hooks.post_model:
        suffix += hook.finish(ctx, text + suffix)
    return text + suffix, ctx.meta
