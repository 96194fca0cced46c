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
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from taigimed import chat
from taigimed.serve.context import fit_history
from taigimed.serve.engines.base import Engine, EngineError, GenerationParams
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

    def prepare(self, turn: Turn) -> tuple[TurnContext, list[dict[str, str]], int]:
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
        return ctx, prompt, n_prompt

    async def open(self, turn: Turn, prepared) -> None:
        """Store the user's message and an in-progress answer row before anything is generated,
        so a crash mid-answer leaves the question on record (marked interrupted at the next
        start-up). Raises SessionNotOwned (answer 404) or StorageUnavailable (answer 503)."""
        ctx = prepared[0]
        start = TurnStart(
            conversation_id=turn.conversation_id,
            channel=turn.channel,
            request_id=turn.request_id,
            response_id=turn.response_id,
            new_messages=self._new_messages(turn, ctx),
            api_key_id=turn.api_key_id,
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

    async def run(self, turn: Turn, prepared=None) -> AsyncIterator[StreamEvent]:
        """Stream one turn; ``prepared`` is ``prepare(turn)`` when the route already ran it
        (to answer PromptTooLong with a 400 before any streaming starts).

        The answer is committed to storage before the end event is yielded, so a client
        that got the end of an answer can rely on it being stored."""
        t0 = time.perf_counter()
        if prepared is None:
            prepared = await asyncio.to_thread(self.prepare, turn)
        if not turn.opened:
            await self.open(turn, prepared)
        ctx, prompt, n_prompt = prepared
        log.info(
            "turn start",
            extra={
                "session_id": turn.session_id,
                "channel": turn.channel,
                "user_text": text_for_log(turn.user_text, self.privacy_mode, log),
                "prompt_tokens": n_prompt,
            },
        )
        for hook in self.hooks.pre_model:
            reply = hook(ctx)
            if reply is not None:
                async for ev in self._immediate(turn, ctx, reply, t0):
                    yield ev
                return

        out = _Sent(turn.params.stop)  # what the user has been sent, cut at a stop string
        answer: list[str] = []  # the (amended) answer, also when held for review
        held = ctx.review_status == "pending"
        state: dict[str, Any] = {"finish": None, "completion": 0, "ttft": None, "done": False}
        buffer = SentenceBuffer() if self.hooks.post_model else None
        last = None
        try:
            async with asyncio.timeout(self.timeout_s):
                stream = self.engine.generate_stream(prompt, turn.params)
                async with contextlib.aclosing(stream):
                    async for ev in stream:
                        pieces = [ev.text] if buffer is None else buffer.add(ev.text)
                        if ev.finish_reason is not None:
                            state["finish"] = ev.finish_reason
                            state["completion"] = ev.completion_tokens or 0
                            n_prompt = ev.prompt_tokens or n_prompt
                            if buffer is not None:
                                pieces += buffer.flush()
                        for piece in pieces:
                            piece = self._amend(ctx, piece)
                            if not held:
                                piece = out.add(piece)
                            if not piece:
                                continue
                            now = time.perf_counter()
                            if state["ttft"] is None:
                                state["ttft"] = now - t0
                                self.metrics.ttft.labels(**self.metrics.labels).observe(
                                    state["ttft"]
                                )
                            elif last is not None:
                                self.metrics.itl.labels(**self.metrics.labels).observe(now - last)
                            last = now
                            answer.append(piece)
                            if not held:
                                yield StreamEvent("delta", piece, turn.response_id)
                        if out.stopped:
                            state["finish"] = "stop"
                            break
            full = "".join(answer)
            for hook in self.hooks.post_model:
                if out.stopped:
                    break
                suffix = hook.finish(ctx, full)
                if not held:
                    # A stop string the client asked for is never sent, not even in the
                    # disclaimer: the answer ends where it would appear.
                    suffix = out.add(suffix)
                    if out.stopped:
                        state["finish"] = "stop"
                if suffix:
                    full += suffix
                    answer.append(suffix)
                    if not held:
                        yield StreamEvent("delta", suffix, turn.response_id)
            if held:
                notice = out.add(ctx.meta.get("hold_message") or DEFAULT_HOLD_MESSAGE)
                yield StreamEvent("delta", notice, turn.response_id)
            state["done"] = True
            state["sent_tokens"] = self._count_text(out.text)
            self._finish_metrics(state, n_prompt, t0)
            end = self._end(turn, ctx, state, n_prompt, held)
            state["submitted"] = True
            await self._commit(turn, ctx, "".join(answer), state, n_prompt, t0, held)
            yield end
        except TimeoutError as exc:
            state["failed"] = "timeout"
            self.metrics.error("timeout")
            raise GenerationTimeout(
                f"the answer took longer than {self.timeout_s:.0f} s and was stopped"
            ) from exc
        except EngineError:
            state["failed"] = "engine"
            self.metrics.error("engine")
            raise
        finally:
            if not state["done"] and "failed" not in state:
                self.metrics.error("disconnected")  # the client went away mid-answer
            if not state.get("submitted"):
                self._store(turn, ctx, "".join(answer), state, n_prompt, t0, held)

    def _count_text(self, text: str) -> int:
        try:
            return self.engine.count_text_tokens(text) if text else 0
        except Exception:  # counting is for the usage report; never fail an answer over it
            log.exception("counting the sent tokens failed")
            return 0

    async def _commit(self, turn, ctx, answer, state, n_prompt, t0, held) -> None:
        """Make the finished answer durable, or raise StorageUnavailable (never silent)."""
        await self._finish_durably(self._turn_record(turn, ctx, answer, state, n_prompt, t0, held))

    async def _finish_durably(self, rec) -> None:
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

    def _finish_metrics(self, state: dict, n_prompt: int, t0: float) -> None:
        m = self.metrics
        elapsed = time.perf_counter() - t0
        m.success.labels(**m.labels).inc()
        m.e2e.labels(**m.labels).observe(elapsed)
        m.prompt_tokens.labels(**m.labels).inc(n_prompt)
        m.generation_tokens.labels(**m.labels).inc(state["completion"])
        if state["ttft"] is not None and state["completion"] > 1 and elapsed > state["ttft"]:
            rate = (state["completion"] - 1) / (elapsed - state["ttft"])
            m.tokens_per_s.labels(**m.labels).observe(rate)

    def _end(self, turn: Turn, ctx: TurnContext, state: dict, n_prompt: int, held: bool):
        for t in ctx.triggers:
            self.metrics.safety_trigger(t.category)
        return StreamEvent(
            "end",
            response_id=turn.response_id,
            finish_reason=state["finish"] or "stop",
            prompt_tokens=n_prompt,
            completion_tokens=state.get("sent_tokens", state["completion"]),
            reply_kind="review_pending" if held else "model",
            triggers=[asdict(t) for t in ctx.triggers],
            meta=ctx.meta,
            review_status=ctx.review_status,
        )

    def _turn_record(self, turn, ctx, answer, state, n_prompt, t0, held) -> TurnRecord:
        partial = not state["done"]
        return self._record(
            turn,
            ctx,
            answer,
            t0,
            ttft_s=state["ttft"],
            partial=partial,
            finish_reason=state["finish"] if not partial else None,
            reply_kind="review_pending" if held else "model",
            model_version=self.engine.info.model_version,
            engine=self.engine.info.name,
            prompt_tokens=n_prompt,
            completion_tokens=state.get("sent_tokens", state["completion"]) or None,
            review_status=ctx.review_status,
        )

    def _store(self, turn, ctx, answer, state, n_prompt, t0, held) -> None:
        """A turn cut short (client gone, timeout, engine failure): stored in the background;
        if the process dies first, the in-progress row is marked interrupted at start-up."""
        if not state["done"]:
            log.info("turn cut short; stored as partial", extra={"response_id": turn.response_id})
        rec = self._turn_record(turn, ctx, answer, state, n_prompt, t0, held)
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
