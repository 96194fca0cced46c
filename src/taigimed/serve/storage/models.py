"""Tables of the serving database (SQLite by default, PostgreSQL in deployment).

Changing a table needs a new migration under ``migrations/versions``; the test
``test_migrations_match_models`` fails when the two disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

REVIEW_STATUSES = ("pending", "approved", "edited", "rejected")
# An answer row is written when its turn starts ("in_progress") and completed before the
# client is told the answer is finished; a crash leaves "in_progress", which the next
# start-up turns into "interrupted".
IN_PROGRESS = "in_progress"
INTERRUPTED = "interrupted"
KEY_ROLES = ("client", "reviewer")
FEEDBACK_KINDS = ("thumbs", "rating", "inaccuracy")


ID_MAX_CHARS = 64  # conversation, message and audit ids (String(64) columns)


def utcnow() -> datetime:
    return datetime.now(UTC)


def storable_id(value: str) -> bool:
    """Whether ``value`` can be an id in every database: at most 64 characters, no NUL and
    no lone surrogate. PostgreSQL refuses the others with an error (SQLite just finds
    nothing), so they are answered "not found" before any query."""
    if not value or len(value) > ID_MAX_CHARS or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """One dialogue: an HTTP request's messages or a WebSocket session."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # "http" or "ws"
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.seq"
    )


class Message(Base):
    """One turn. Assistant rows carry the model, latency, tokens and review state."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # chatcmpl-... for assistant
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # order within the conversation
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    raw_content: Mapped[str | None] = mapped_column(Text)  # user text before standardisation
    meta: Mapped[dict | None] = mapped_column(JSON)  # script/language facts from the hooks
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    finish_reason: Mapped[str | None] = mapped_column(String(32), index=True)
    reply_kind: Mapped[str | None] = mapped_column(String(32))  # "model", "red_flag", ...
    model_version: Mapped[str | None] = mapped_column(String(200))
    engine: Mapped[str | None] = mapped_column(String(32))
    ttft_s: Mapped[float | None] = mapped_column(Float)
    latency_s: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Clinician review (the review queue, serve/review.py, works on these): None = not held.
    review_status: Mapped[str | None] = mapped_column(String(16), index=True)
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    edited_text: Mapped[str | None] = mapped_column(Text)
    # The server process that wrote an in-progress answer (host:pid:boot), so a restart
    # marks only its own cut turns at once; other replicas' turns are marked when stale.
    instance: Mapped[str | None] = mapped_column(String(128))

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    feedback: Mapped[list[Feedback]] = relationship(back_populates="message")


class SafetyEvent(Base):
    """One safety rule that fired on a turn."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Feedback(Base):
    """Thumbs, a 1-5 rating or an inaccuracy report on one assistant answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    thumbs: Mapped[str | None] = mapped_column(String(8))  # "up" / "down"
    rating: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(64))  # inaccuracy category
    comment: Mapped[str | None] = mapped_column(Text)
    # The card the answer came from (cards/rag modes): reports on it feed the card review queue.
    card_id: Mapped[str | None] = mapped_column(String(64), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="feedback")


class ApiKey(Base):
    """An API key: only its peppered hash is stored; ``prefix`` lets people tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "client" keys chat; "reviewer" keys may also read and decide the clinician review queue.
    role: Mapped[str] = mapped_column(String(16), default="client", server_default="client")


class ReviewAudit(Base):
    """Who read or decided which held answer, when, from where: the review audit trail."""

    __tablename__ = "review_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))  # list, view, approve, edit, reject
    response_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))  # the name the clinician gave
    credential: Mapped[str] = mapped_column(String(64))  # "key:<id>" or "token"
    address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # ok, refused
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
