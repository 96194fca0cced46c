"""Deleting one person's records: a conversation, everything one API key sent, or
everything older than the retention period.

Messages hold personal health data; feedback and safety events point at them. All of
them go in one transaction; the review audit trail keeps its lines (who decided what,
when) but holds no message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from taigimed.serve.storage.models import Conversation, Feedback, Message, SafetyEvent, utcnow


@dataclass
class Purged:
    conversations: int = 0
    messages: int = 0
    feedback: int = 0
    safety_events: int = 0


def purge(
    session: Session,
    *,
    conversation_ids: list[str] | None = None,
    api_key_id: int | None = None,
    older_than_days: float | None = None,
) -> Purged:
    """Delete the chosen conversations with their messages, feedback and safety events."""
    if not conversation_ids and api_key_id is None and older_than_days is None:
        raise ValueError("choose what to delete: a session id, an API key id or an age")
    q = select(Conversation.id)
    conds = []
    if conversation_ids:
        conds.append(Conversation.id.in_(conversation_ids))
    if api_key_id is not None:
        conds.append(Conversation.api_key_id == api_key_id)
    if older_than_days is not None:
        conds.append(Conversation.updated_at < utcnow() - timedelta(days=older_than_days))
    conv_ids = list(session.scalars(q.where(or_(*conds))))
    out = Purged()
    if api_key_id is not None:  # feedback the key gave on anyone's answer is theirs too
        out.feedback += session.execute(
            delete(Feedback).where(Feedback.api_key_id == api_key_id)
        ).rowcount
    if not conv_ids:
        return out
    msg_ids = select(Message.id).where(Message.conversation_id.in_(conv_ids))
    out.feedback += session.execute(
        delete(Feedback).where(Feedback.message_id.in_(msg_ids))
    ).rowcount
    out.safety_events = session.execute(
        delete(SafetyEvent).where(
            or_(SafetyEvent.conversation_id.in_(conv_ids), SafetyEvent.message_id.in_(msg_ids))
        )
    ).rowcount
    out.messages = session.execute(
        delete(Message).where(Message.conversation_id.in_(conv_ids))
    ).rowcount
    out.conversations = session.execute(
        delete(Conversation).where(Conversation.id.in_(conv_ids))
    ).rowcount
    return out
