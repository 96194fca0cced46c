"""A single background thread that owns every database write, so the token stream never waits.

Routes hand it records with ``submit`` (fire and forget) or ``run`` (awaitable, for
feedback that must report a missing response). One writer thread also serialises
SQLite writes, which SQLite needs anyway.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from taigimed.serve.storage.models import Conversation, Message, SafetyEvent, utcnow

log = logging.getLogger("taigimed.serve.storage")
T = TypeVar("T")
_STOP = object()


@dataclass
class StoredMessage:
    role: str
    content: str
    raw_content: str | None = None
    meta: dict | None = None


@dataclass
class TurnRecord:
    """What one answered turn stores: the new user message(s) and the answer."""

    conversation_id: str
    channel: str
    request_id: str
    response_id: str
    new_messages: list[StoredMessage]
    answer: str
    partial: bool
    finish_reason: str | None
    reply_kind: str
    model_version: str | None
    engine: str | None
    ttft_s: float | None
    latency_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    api_key_id: int | None = None
    review_status: str | None = None
    triggers: list[Any] = field(default_factory=list)  # hooks.Trigger


def write_turn(session: Session, rec: TurnRecord) -> None:
    conv = session.get(Conversation, rec.conversation_id)
    if conv is None:
        conv = Conversation(id=rec.conversation_id, channel=rec.channel, api_key_id=rec.api_key_id)
        session.add(conv)
        session.flush()
    conv.updated_at = utcnow()
    seq = session.scalar(
        select(func.coalesce(func.max(Message.seq), -1)).where(
            Message.conversation_id == rec.conversation_id
        )
    )
    for i, m in enumerate(rec.new_messages):
        seq += 1
        session.add(
            Message(
                id=f"{rec.response_id}-in{i}",
                conversation_id=conv.id,
                seq=seq,
                request_id=rec.request_id,
                role=m.role,
                content=m.content,
                raw_content=m.raw_content,
                meta=m.meta,
                partial=False,
            )
        )
    session.add(
        Message(
            id=rec.response_id,
            conversation_id=conv.id,
            seq=seq + 1,
            request_id=rec.request_id,
            role="assistant",
            content=rec.answer,
            partial=rec.partial,
            finish_reason=rec.finish_reason,
            reply_kind=rec.reply_kind,
            model_version=rec.model_version,
            engine=rec.engine,
            ttft_s=rec.ttft_s,
            latency_s=rec.latency_s,
            prompt_tokens=rec.prompt_tokens,
            completion_tokens=rec.completion_tokens,
            review_status=rec.review_status,
        )
    )
    session.flush()
    for t in rec.triggers:
        session.add(
            SafetyEvent(
                message_id=rec.response_id,
                conversation_id=conv.id,
                request_id=rec.request_id,
                rule_id=t.rule_id,
                category=t.category,
                stage=t.stage,
                detail=t.detail,
            )
        )


class StorageWriter:
    """Runs ``fn(session)`` jobs in order on one thread, each in its own transaction."""

    def __init__(self, sessions: sessionmaker[Session], max_queue: int = 10000):
        self._sessions = sessions
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._loop, name="taigimed-db-writer", daemon=True)
        self._thread.start()
        self.failures = 0

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                with self._sessions.begin() as session:
                    result = fn(session)
                fut.set_result(result)
            except (LookupError, ValueError) as exc:  # the caller's mistake: it reports it
                log.debug("storage job refused: %s", exc)
                fut.set_exception(exc)
            except Exception as exc:  # a bad record must not stop the writer
                self.failures += 1
                log.exception("storage write failed")
                fut.set_exception(exc)

    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        fut: Future[T] = Future()
        try:
            self._queue.put_nowait((fn, fut))
        except queue.Full:
            self.failures += 1
            log.error("storage queue full; a record was dropped")
            fut.set_exception(RuntimeError("storage queue full"))
        return fut

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Submit and await the result (errors re-raised)."""
        return await asyncio.wrap_future(self.submit(fn))

    def record_turn(self, rec: TurnRecord) -> Future[None]:
        return self.submit(lambda s: write_turn(s, rec))

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything queued so far is written."""
        self.submit(lambda s: None).result(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
