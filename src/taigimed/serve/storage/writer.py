"""A single background thread that owns every database write, so the token stream never waits.

Routes hand it records with ``submit`` (fire and forget) or ``run`` (awaitable, for
feedback that must report a missing response). One writer thread also serialises
SQLite writes, which SQLite needs anyway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from taigimed.serve.logs import error_facts
from taigimed.serve.storage.models import (
    IN_PROGRESS,
    INTERRUPTED,
    Conversation,
    Message,
    SafetyEvent,
    utcnow,
)

log = logging.getLogger("taigimed.serve.storage")
T = TypeVar("T")
_STOP = object()
# This server process: host, pid and a per-start nonce (a restarted container may reuse the pid).
INSTANCE = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class StoredMessage:
    role: str
    content: str
    raw_content: str | None = None
    meta: dict | None = None


@dataclass
class TurnStart:
    """What a turn stores before the model runs: its new user message(s) and an empty,
    in-progress answer row, so a crash mid-answer still leaves the question on record."""

    conversation_id: str
    channel: str
    request_id: str
    response_id: str
    new_messages: list[StoredMessage]
    api_key_id: int | None = None
    instance: str = INSTANCE
    create: bool = True  # False: only an existing conversation may be continued


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
    meta: dict | None = None  # the turn's facts, merged into the user message's meta


class SessionNotOwned(LookupError):
    """The conversation exists and belongs to another caller; answered as 404, never 403,
    so a caller cannot even learn that the id is in use."""


class _Fixups:
    """Counts text repaired before storage (NUL characters PostgreSQL cannot store)."""

    count = 0


def clean(value: Any) -> Any:
    """``value`` with every U+0000 removed (in strings, lists and dict values): PostgreSQL
    text cannot hold it, and dropping it loses nothing a reader could see."""
    if isinstance(value, str):
        if "\x00" in value:
            _Fixups.count += 1
            return value.replace("\x00", "")
        return value
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def conversation_for(
    session: Session,
    conversation_id: str,
    channel: str,
    api_key_id: int | None,
    create: bool = True,
) -> Conversation:
    """The conversation, created for this caller when new (and ``create``); SessionNotOwned
    when another caller (another key, or anonymous vs keyed) owns it, or when it does not
    exist and may not be created."""
    conv = session.get(Conversation, conversation_id)
    if conv is None and not create:
        raise SessionNotOwned(f"no session {conversation_id!r}")
    if conv is None:
        conv = Conversation(id=conversation_id, channel=channel, api_key_id=api_key_id)
        session.add(conv)
        session.flush()
    elif conv.api_key_id != api_key_id:
        raise SessionNotOwned(f"no session {conversation_id!r}")
    conv.updated_at = utcnow()
    return conv


def start_turn(session: Session, rec: TurnStart) -> None:
    conv = conversation_for(
        session, rec.conversation_id, rec.channel, rec.api_key_id, create=rec.create
    )
    seq = session.scalar(
        select(func.coalesce(func.max(Message.seq), -1)).where(Message.conversation_id == conv.id)
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
                content=clean(m.content),
                raw_content=clean(m.raw_content),
                meta=clean(m.meta),
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
            content="",
            partial=True,
            finish_reason=IN_PROGRESS,
            instance=rec.instance,
        )
    )
    session.flush()


def finish_turn(session: Session, rec: TurnRecord) -> None:
    """Complete the answer row ``start_turn`` wrote (or write the whole turn when it did not)."""
    msg = session.get(Message, rec.response_id)
    if msg is None:
        start_turn(
            session,
            TurnStart(
                rec.conversation_id,
                rec.channel,
                rec.request_id,
                rec.response_id,
                rec.new_messages,
                rec.api_key_id,
            ),
        )
        msg = session.get(Message, rec.response_id)
    msg.content = clean(rec.answer)
    msg.partial = rec.partial
    msg.finish_reason = rec.finish_reason
    msg.reply_kind = rec.reply_kind
    msg.model_version = rec.model_version
    msg.engine = rec.engine
    msg.ttft_s = rec.ttft_s
    msg.latency_s = rec.latency_s
    msg.prompt_tokens = rec.prompt_tokens
    msg.completion_tokens = rec.completion_tokens
    msg.review_status = rec.review_status
    msg.instance = None
    if rec.meta:
        user = session.get(Message, f"{rec.response_id}-in{len(rec.new_messages) - 1}")
        if user is not None:
            user.meta = clean({**(user.meta or {}), **rec.meta})
    for t in rec.triggers:
        session.add(
            SafetyEvent(
                message_id=rec.response_id,
                conversation_id=rec.conversation_id,
                request_id=rec.request_id,
                rule_id=t.rule_id,
                category=t.category,
                stage=t.stage,
                detail=clean(t.detail),
            )
        )


def write_turn(session: Session, rec: TurnRecord) -> None:
    """A whole turn in one transaction (start and finish)."""
    finish_turn(session, rec)


def mark_interrupted(session: Session, stale_after_s: float, instance: str = INSTANCE) -> int:
    """Turn the in-progress answers of dead server processes into partial, "interrupted"
    ones; returns how many. A process on this host that is no longer running (or an
    earlier life of this pid, after a container restart) is dead at once; another host's
    answer is taken as dead once older than ``stale_after_s`` (no live turn runs longer)."""
    host, pid, _ = instance.split(":", 2)
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    rows = session.scalars(select(Message).where(Message.finish_reason == IN_PROGRESS)).all()
    n = 0
    for msg in rows:
        their_host, their_pid, _ = (msg.instance or "::").split(":", 2)
        created = msg.created_at
        if created is not None and created.tzinfo is None:  # SQLite drops the zone
            created = created.replace(tzinfo=UTC)
        dead = (
            msg.instance != instance
            and their_host == host
            and (their_pid == pid or not _pid_alive(their_pid))
        )
        if dead or (created is not None and created < cutoff):
            msg.finish_reason = INTERRUPTED
            msg.partial = True
            msg.instance = None
            n += 1
    return n


def _pid_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


class StorageWriter:
    """Runs ``fn(session)`` jobs in order on one thread, each in its own transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        max_queue: int = 10000,
        on_failure: Callable[[str], None] | None = None,
    ):
        self._sessions = sessions
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._on_failure = on_failure
        self._thread = threading.Thread(target=self._loop, name="taigimed-db-writer", daemon=True)
        self._thread.start()
        self.failures = 0

    def _failed(self, kind: str) -> None:
        self.failures += 1
        if self._on_failure is not None:
            self._on_failure(kind)

    @property
    def fixups(self) -> int:
        """Texts repaired before storage (NUL removed), in this process."""
        return _Fixups.count

    def queue_depth(self) -> int:
        return self._queue.qsize()

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
            # Only a lookup that found nothing (unknown answer, someone else's session) is the
            # caller's mistake; anything else, a ValueError from the driver included (psycopg
            # refuses NUL that way), is a storage failure: counted and logged, never silent.
            except LookupError as exc:
                log.debug("storage job refused: %s", exc)
                fut.set_exception(exc)
            except Exception as exc:  # a bad record must not stop the writer
                self._failed("write")
                # Never the exception's text: it carries the statement's parameters.
                log.error("storage write failed", extra=error_facts(exc))
                fut.set_exception(exc)

    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        fut: Future[T] = Future()
        try:
            self._queue.put_nowait((fn, fut))
        except queue.Full:
            self._failed("queue_full")
            log.error("storage queue full; a record was dropped")
            fut.set_exception(RuntimeError("storage queue full"))
        return fut

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Submit and await the result (errors re-raised)."""
        return await asyncio.wrap_future(self.submit(fn))

    async def durable(self, fn: Callable[[Session], T]) -> T:
        """Submit and await the commit. A waiter cancelled meanwhile (the client went away)
        does not cancel the write: what was decided to be stored is stored."""
        return await asyncio.shield(asyncio.wrap_future(self.submit(fn)))

    def record_turn(self, rec: TurnRecord) -> Future[None]:
        return self.submit(lambda s: finish_turn(s, rec))

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything queued so far is written."""
        self.submit(lambda s: None).result(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
