"""A conversation's owner and history, read back from the database.

History lives in the database, not in one replica's memory, so a client reconnecting to
any replica continues where it left off; only the caller that created a conversation
(the same API key, or anonymous when keys are off) may read or continue it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from taigimed.serve.storage.models import Conversation, Message, storable_id
from taigimed.serve.storage.writer import SessionNotOwned

RELEASED = (None, "approved", "edited")


def load_history(
    session: Session, conversation_id: str, api_key_id: int | None
) -> list[dict[str, str]] | None:
    """The dialogue as the user saw it (user text, answers sent or released by review);
    None when the conversation does not exist; SessionNotOwned when another caller owns it."""
    if not storable_id(conversation_id):
        return None
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        return None
    if conv.api_key_id != api_key_id:
        raise SessionNotOwned(f"no session {conversation_id!r}")
    rows = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    ).all()
    history: list[dict[str, str]] = []
    for m in rows:
        if m.role == "user":
            history.append({"role": "user", "content": m.content})
        elif m.role == "assistant" and m.review_status in RELEASED:
            text = m.edited_text if m.review_status == "edited" else m.content
            if text:
                history.append({"role": "assistant", "content": text})
    return history


def owns_answer(session: Session, response_id: str, api_key_id: int | None) -> Message | None:
    """The assistant message when it exists and the caller owns its conversation, else None."""
    msg = session.get(Message, response_id) if storable_id(response_id) else None
    if msg is None or msg.role != "assistant":
        return None
    conv = session.get(Conversation, msg.conversation_id)
    if conv is None or conv.api_key_id != api_key_id:
        return None
    return msg
