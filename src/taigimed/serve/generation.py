"""The one async token generator behind SSE, plain JSON and the WebSocket.

standardise → pre-model hooks → fit history into the context → engine stream →
post-model hooks (sentence-sized pieces) → store (in the background) and count.
Whatever way a turn ends — finished, timed out, client gone — what the user saw
is stored, marked partial when it was cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from taigimed import chat
from taigimed.serve.context import fit_history
from taigimed.serve.engines.base import (
    Engine,
    EngineError,
    EngineRequestRejected,
    GenerationParams,
)
from taigimed.serve.hooks import Hooks, ImmediateReply, TurnContext
from taigimed.serve.logs import text_for_log
from taigimed.serve.metrics import Metrics
from taigimed.serve.storage.writer import (
    SessionNotOwned,
    StorageWriter,
    StoredMessage,
    TurnRecord,
    TurnStart,
    finish_turn,
    start_turn,
)

log = logging.getLogger("taigimed.serve.generation")
SENTENCE_ENDS = "。！？!?\n；"
CHUNK_MAX_CHARS = 120
DEFAULT_HOLD_MESSAGE = (
    "你的回答當咧予醫護人員檢查，檢查好就會送來。"
    " (Lí ê huê-tap tng-teh hōo i-hōo jîn-guân kiám-tsa.)"
)


class GenerationTimeout(RuntimeError):
    """The answer took longer than ``serve.generation_timeout_s``; what came is stored partial."""


class StorageUnavailable(RuntimeError):
    """The turn could not be stored; it is answered with an error, never silently dropped."""


class _Sent:
    """The text sent to the client so far, cut at the first of the request's stop strings:
    post-model text (dose note, disclaimer) must not bring back what the engine cut."""

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.text = ""
        self.stopped = False

    def add(self, piece: str) -> str:
        if self.stopped or not piece:
            return ""
        combined = self.text + piece
        cut = None
        for s in self.stops:
            at = combined.find(s, max(0, len(self.text) - len(s) + 1))
            if at >= 0 and (cut is None or at < cut):
                cut = at
        if cut is not None:
            piece = combined[len(self.text) : max(cut, len(self.text))]
            self.stopped = True
        self.text += piece
        return piece


@dataclass
class Turn:
    """One user turn to answer. ``history`` excludes the system prompt and the new message."""

    request_id: str
    session_id: str
    conversation_id: str
    channel: str  # "http" or "ws"
    history: list[dict[str, str]]
    user_text: str
    params: GenerationParams
    store_history: bool = False  # HTTP without a session: store the request's history too
    api_key_id: int | None = None  # the owner: another key's session id gets a 404
    # False: the session must exist already (an anonymous caller cannot pick a new id)
    create_session: bool = True
    opened: bool = False  # the question and an in-progress answer row are stored
    response_id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")


@dataclass
class StreamEvent:
    """A piece of the answer (``kind='delta'``) or its end (``kind='end'``)."""

    kind: str
    text: str = ""
    response_id: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reply_kind: str = "model"
    triggers: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    review_status: str | None = None
    partial: bool = False


class SentenceBuffer:
    """Collect streamed text and release it in sentence-sized pieces for post-model hooks.

    A '.' ends a sentence only before whitespace, so '2.5 mg' is never split.
    """

    def __init__(self, max_chars: int = CHUNK_MAX_CHARS):
        self.buf = ""
        self.max_chars = max_chars

    def add(self, text: str) -> list[str]:
        self.buf += text
        cut = -1
        for i, ch in enumerate(self.buf):
            if ch in SENTENCE_ENDS or (
                ch in ".;:" and i + 1 < len(self.buf) and self.buf[i + 1].isspace()
            ):
                cut = i
        if cut < 0 and len(self.buf) >= self.max_chars:
            cut = len(self.buf) - 1
        if cut < 0:
            return []
        piece, self.buf = self.buf[: cut + 1], self.buf[cut + 1 :]
        return [piece]

    def flush(self) -> list[str]:
        piece, self.buf = self.buf, ""
        return [piece] if piece else []


class Prepared(NamedTuple):
    """A turn made ready for the model by ``TurnRunner.prepare``."""

    ctx: TurnContext
    prompt: list[dict[str, str]]  # the system prompt and the history that fits
    prompt_tokens: int


@dataclass
class _ModelAnswer:
    """One model answer while it streams: what was generated, what was sent, and when.

    ``parts`` is the (amended) answer, also when it is held for review and only a notice
    is sent; ``sent`` is what the user received. Whatever way the turn ends, ``stored``
    says whether its record has been handed to storage yet.
    """

    turn: Turn
    ctx: TurnContext
    started: float  # time.perf_counter() when the turn began
    prompt_tokens: int
    sent: _Sent
    held: bool  # held for clinician review: the answer is stored, a notice is sent
    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    completion_tokens: int = 0  # as the engine counted them
    sent_tokens: int | None = None  # of what was sent, counted once the answer is done
    ttft: float | None = None
    last_piece_at: float | None = None
    done: bool = False
    failed: str | None = None  # "timeout" or "engine"
    stored: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def reply_kind(self) -> str:
        return "review_pending" if self.held else "model"

    @property
    def usage_tokens(self) -> int:
        """The completion tokens to report: those sent, once known, else the engine's."""
        return self.completion_tokens if self.sent_tokens is None else self.sent_tokens


class TurnRunner:
    """Runs turns; one per app, shared by every route."""

    def __init__(
        self,
        engine: Engine,
        hooks: Hooks,
        writer: StorageWriter,
        metrics: Metrics,
        *,
        timeout_s: float,
        privacy_mode: bool = True,
    ):
        self.engine = engine
        self.hooks = hooks
        self.writer = writer
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.privacy_mode = privacy_mode
        self.system = {"role": "system", "content": chat.SYSTEM_PROMPT}

    def prepare(self, turn: Turn) -> Prepared:
        """Standardise and fit (sync: tokenising). Raises PromptTooLong for a 400."""
        text, meta = turn.user_text, {}
        for standardize in self.hooks.standardizers:
            text, more = standardize(text)
            meta.update(more)
        messages = [*turn.history, {"role": "user", "content": text}]
        ctx = TurnContext(turn.request_id, turn.session_id, messages, turn.user_text, meta)
        budget = self.engine.info.max_context - turn.params.max_tokens
        prompt, n_prompt, dropped = fit_history(
            self.system, messages, self.engine.count_tokens, budget
        )
        if dropped:
            ctx.meta["history_dropped"] = dropped
        return Prepared(ctx, prompt, n_prompt)

    async def open(self, turn: Turn, prepared: Prepared) -> None:
        """Store the user's message and an in-progress answer row before anything is generated,
        so a crash mid-answer leaves the question on record (marked interrupted at the next
        start-up). Raises SessionNotOwned (answer 404) or StorageUnavailable (answer 503)."""
        start = TurnStart(
            conversation_id=turn.conversation_id,
            channel=turn.channel,
            request_id=turn.request_id,
            response_id=turn.response_id,
            new_messages=self._new_messages(turn, prepared.ctx),
            api_key_id=turn.api_key_id,
            create=turn.create_session,
        )
        try:
            await self.writer.durable(lambda s: start_turn(s, start))
        except SessionNotOwned:
            raise
        except Exception as exc:
            raise StorageUnavailable(
                "the conversation could not be stored, so it was not answered; try again"
            ) from exc
        turn.opened = True

    async def run(self, turn: Turn, prepared: Prepared | None = None) -> AsyncIterator[StreamEvent]:
        """Stream one turn; ``prepared`` is ``prepare(turn)`` when the route already ran it
        (to answer PromptTooLong with a 400 before any streaming starts).

        The answer is committed to storage before the end event is yielded, so a client
        that got the end of an answer can rely on it being stored."""
        started = time.perf_counter()
        if prepared is None:
            prepared = await asyncio.to_thread(self.prepare, turn)
        if not turn.opened:
            await self.open(turn, prepared)
        ctx = prepared.ctx
        log.info(
            "turn start",
            extra={
                "session_id": turn.session_id,
                "channel": turn.channel,
                "user_text": text_for_log(turn.user_text, self.privacy_mode, log),
                "prompt_tokens": prepared.prompt_tokens,
            },
        )
        if (reply := self._pre_model(ctx)) is not None:
            async for ev in self._immediate(turn, ctx, reply, started):
                yield ev
            return

        if ctx.context:  # a hook gave reference text (rag): fit the history around it
            prepared = await asyncio.to_thread(self._with_context, turn, prepared)
        ans = _ModelAnswer(
            turn,
            ctx,
            started,
            prepared.prompt_tokens,
            sent=_Sent(turn.params.stop),
            held=ctx.review_status == "pending",
        )
        try:
            async with contextlib.aclosing(self._generate(prepared.prompt, ans)) as pieces:
                async for piece in pieces:
                    if (piece := self._take(ans, piece)) and not ans.held:
                        yield StreamEvent("delta", piece, turn.response_id)
            for suffix in self._suffixes(ans):
                if not ans.held:
                    yield StreamEvent("delta", suffix, turn.response_id)
            if ans.held:
                yield StreamEvent("delta", self._hold_notice(ans), turn.response_id)
            end = self._finish(ans)
            await self._commit(ans)
            yield end
        except TimeoutError as exc:
            ans.failed = "timeout"
            self.metrics.error("timeout")
            raise GenerationTimeout(
                f"the answer took longer than {self.timeout_s:.0f} s and was stopped"
            ) from exc
        except EngineRequestRejected:
            ans.failed = "engine"
            self.metrics.error("invalid_request")  # the client's values, not a model failure
            raise
        except EngineError:
            ans.failed = "engine"
            self.metrics.error("engine")
            raise
        finally:
            if not ans.done and ans.failed is None:
                self.metrics.error("disconnected")  # the client went away mid-answer
            if not ans.stored:
                self._store(ans)

    def _with_context(self, turn: Turn, prepared: Prepared) -> Prepared:
        """``prepared`` with the hooks' reference text after the system prompt."""
        ctx = prepared.ctx
        system = {"role": "system", "content": f"{chat.SYSTEM_PROMPT}\n\n{ctx.context}"}
        budget = self.engine.info.max_context - turn.params.max_tokens
        prompt, n_prompt, dropped = fit_history(
            system, ctx.messages, self.engine.count_tokens, budget
        )
        if dropped:
            ctx.meta["history_dropped"] = dropped
        return Prepared(ctx, prompt, n_prompt)

    def _pre_model(self, ctx: TurnContext) -> ImmediateReply | None:
        """The first pre-model hook's immediate reply, if one answers the turn itself."""
        for hook in self.hooks.pre_model:
            if (reply := hook(ctx)) is not None:
                return reply
        return None

    async def _generate(
        self, prompt: list[dict[str, str]], ans: _ModelAnswer
    ) -> AsyncIterator[str]:
        """The engine's answer within the time limit, in sentence-sized pieces when post-model
        hooks read it (token pieces otherwise), until a stop string has been sent.

        Closing this generator (the client went away) stops the engine's stream."""
        buffer = SentenceBuffer() if self.hooks.post_model else None
        async with asyncio.timeout(self.timeout_s):
            stream = self.engine.generate_stream(prompt, ans.turn.params)
            async with contextlib.aclosing(stream):
                async for ev in stream:
                    pieces = [ev.text] if buffer is None else buffer.add(ev.text)
                    if ev.finish_reason is not None:
                        ans.finish_reason = ev.finish_reason
                        ans.completion_tokens = ev.completion_tokens or 0
                        ans.prompt_tokens = ev.prompt_tokens or ans.prompt_tokens
                        if buffer is not None:
                            pieces += buffer.flush()
                    for piece in pieces:
                        yield piece
                    if ans.sent.stopped or ans.ctx.stop_generation:
                        ans.finish_reason = "stop"
                        return

    def _take(self, ans: _ModelAnswer, piece: str) -> str:
        """One piece of the model's answer, amended by the post-model hooks and cut at a stop
        string, kept in the answer and timed; "" when nothing of it is left to send."""
        piece = self._amend(ans.ctx, piece)
        if not ans.held:
            piece = ans.sent.add(piece)
        if not piece:
            return ""
        now = time.perf_counter()
        if ans.ttft is None:
            ans.ttft = now - ans.started
            self.metrics.ttft.labels(**self.metrics.labels).observe(ans.ttft)
        elif ans.last_piece_at is not None:
            self.metrics.itl.labels(**self.metrics.labels).observe(now - ans.last_piece_at)
        ans.last_piece_at = now
        ans.parts.append(piece)
        return piece

    def _suffixes(self, ans: _ModelAnswer) -> Iterator[str]:
        """What the post-model hooks append once the answer is complete (the disclaimer),
        each kept in the answer as it is yielded."""
        for hook in self.hooks.post_model:
            if ans.sent.stopped:
                break
            suffix = hook.finish(ans.ctx, ans.text)
            if not ans.held:
                # A stop string the client asked for is never sent, not even in the
                # disclaimer: the answer ends where it would appear.
                suffix = ans.sent.add(suffix)
                if ans.sent.stopped:
                    ans.finish_reason = "stop"
            if suffix:
                ans.parts.append(suffix)
                yield suffix

    def _hold_notice(self, ans: _ModelAnswer) -> str:
        """What a user whose answer is held for review is sent instead of it."""
        return ans.sent.add(ans.ctx.meta.get("hold_message") or DEFAULT_HOLD_MESSAGE)

    def _finish(self, ans: _ModelAnswer) -> StreamEvent:
        """Mark the answer done and count it; returns its end event (not yet sent)."""
        ans.done = True
        ans.sent_tokens = self._count_text(ans.sent.text)
        self._finish_metrics(ans)
        for t in ans.ctx.triggers:
            self.metrics.safety_trigger(t.category)
        return StreamEvent(
            "end",
            response_id=ans.turn.response_id,
            finish_reason=ans.finish_reason or "stop",
            prompt_tokens=ans.prompt_tokens,
            completion_tokens=ans.usage_tokens,
            reply_kind=ans.reply_kind,
            triggers=[asdict(t) for t in ans.ctx.triggers],
            meta=ans.ctx.meta,
            review_status=ans.ctx.review_status,
        )

    def _count_text(self, text: str) -> int:
        try:
            return self.engine.count_text_tokens(text) if text else 0
        except Exception:  # counting is for the usage report; never fail an answer over it
            log.exception("counting the sent tokens failed")
            return 0

    async def _commit(self, ans: _ModelAnswer) -> None:
        """Make the finished answer durable, or raise StorageUnavailable (never silent)."""
        ans.stored = True  # a failure is answered with an error, not stored in the background
        await self._finish_durably(self._turn_record(ans))

    async def _finish_durably(self, rec: TurnRecord) -> None:
        """Commit a finished turn before its end is sent; a failure is counted and raised."""
        try:
            await self.writer.durable(lambda s: finish_turn(s, rec))
        except Exception as exc:
            self.metrics.error("storage")
            raise StorageUnavailable(
                "the answer could not be stored; it is not final, ask again"
            ) from exc

    def _amend(self, ctx: TurnContext, piece: str) -> str:
        for hook in self.hooks.post_model:
            piece = hook.amend_chunk(ctx, piece)
        return piece

    def _finish_metrics(self, ans: _ModelAnswer) -> None:
        m = self.metrics
        elapsed = time.perf_counter() - ans.started
        m.success.labels(**m.labels).inc()
        m.e2e.labels(**m.labels).observe(elapsed)
        m.prompt_tokens.labels(**m.labels).inc(ans.prompt_tokens)
        m.generation_tokens.labels(**m.labels).inc(ans.completion_tokens)
        n = ans.completion_tokens
        if ans.ttft is not None and n > 1 and elapsed > ans.ttft:
            m.tokens_per_s.labels(**m.labels).observe((n - 1) / (elapsed - ans.ttft))

    def _turn_record(self, ans: _ModelAnswer) -> TurnRecord:
        partial = not ans.done
        return self._record(
            ans.turn,
            ans.ctx,
            ans.text,
            ans.started,
            ttft_s=ans.ttft,
            partial=partial,
            finish_reason=None if partial else ans.finish_reason,
            reply_kind=ans.reply_kind,
            model_version=self.engine.info.model_version,
            engine=self.engine.info.name,
            prompt_tokens=ans.prompt_tokens,
            completion_tokens=ans.usage_tokens or None,
            review_status=ans.ctx.review_status,
        )

    def _store(self, ans: _ModelAnswer) -> None:
        """A turn cut short (client gone, timeout, engine failure): stored in the background;
        if the process dies first, the in-progress row is marked interrupted at start-up."""
        if not ans.done:
            log.info(
                "turn cut short; stored as partial", extra={"response_id": ans.turn.response_id}
            )
        rec = self._turn_record(ans)
        self.writer.submit(lambda s: finish_turn(s, rec))

    def _new_messages(self, turn: Turn, ctx: TurnContext) -> list[StoredMessage]:
        new = (
            [StoredMessage(m["role"], m["content"]) for m in turn.history]
            if turn.store_history
            else []
        )
        new.append(StoredMessage("user", ctx.user_text, turn.user_text, dict(ctx.meta) or None))
        return new

    def _record(self, turn: Turn, ctx: TurnContext, answer: str, t0: float, **fields) -> TurnRecord:
        """One exchange: the turn's new messages, the answer, and ``fields`` (what differs
        between a model answer and a hook's immediate reply)."""
        return TurnRecord(
            conversation_id=turn.conversation_id,
            channel=turn.channel,
            request_id=turn.request_id,
            response_id=turn.response_id,
            new_messages=self._new_messages(turn, ctx),
            answer=answer,
            latency_s=time.perf_counter() - t0,
            api_key_id=turn.api_key_id,
            triggers=list(ctx.triggers),
            meta=dict(ctx.meta) or None,
            **fields,
        )

    async def _immediate(
        self, turn: Turn, ctx: TurnContext, reply: ImmediateReply, t0: float
    ) -> AsyncIterator[StreamEvent]:
        """An answer from a pre-model hook: sent whole, stored, its triggers counted."""
        ctx.triggers.extend(reply.triggers)
        for t in ctx.triggers:
            self.metrics.safety_trigger(t.category)
        self.metrics.success.labels(**self.metrics.labels).inc()
        log.info("immediate reply", extra={"kind": reply.kind, "response_id": turn.response_id})
        # No model ran: no engine, version or token counts to store. Stored (durably)
        # before it is sent, like every answer.
        rec = self._record(
            turn,
            ctx,
            reply.text,
            t0,
            ttft_s=time.perf_counter() - t0,
            partial=False,
            finish_reason="stop",
            reply_kind=reply.kind,
            model_version=None,
            engine=None,
            prompt_tokens=None,
            completion_tokens=None,
        )
        await self._finish_durably(rec)
        yield StreamEvent("delta", reply.text, turn.response_id)
        yield StreamEvent(
            "end",
            response_id=turn.response_id,
            finish_reason="stop",
            reply_kind=reply.kind,
            triggers=[asdict(t) for t in ctx.triggers],
            meta=ctx.meta,
        )
