"""The built-in engine: a transformers causal LM on CPU or GPU with continuous batching.

One worker thread owns the model, so the event loop never waits on it. Between
decode steps it admits newly arrived requests: they are prefilled together and
their KV cache is left-padded and joined to the running batch; finished or
cancelled rows leave the batch at once (``batch_select_indices``). So requests
are decoded together, never queued behind one lock, and a late arrival does not
wait for a long answer to finish.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from taigimed import chat
from taigimed.serve.engines.base import (
    GREEDY_BELOW,
    Engine,
    EngineError,
    EngineInfo,
    GenerationParams,
    TokenEvent,
)

log = logging.getLogger("taigimed.serve.engine")
SEED_MIN, SEED_MAX = -(2**63), 2**64 - 1  # what torch.Generator.manual_seed accepts


class RowError(EngineError):
    """One request in a batch failed; it alone is ended, the rest go on."""


def apply_thread_settings(torch_threads: int | None, omp_wait_policy: str | None) -> None:
    """OMP settings must be in the environment before torch starts its thread pool."""
    if omp_wait_policy:
        os.environ.setdefault("OMP_WAIT_POLICY", omp_wait_policy)
    if torch_threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(torch_threads))
        import torch

        torch.set_num_threads(torch_threads)


@dataclass
class _Request:
    prompt_ids: list[int]
    params: GenerationParams
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue
    cancelled: threading.Event = field(default_factory=threading.Event)
    generated: list[int] = field(default_factory=list)
    emitted: int = 0  # characters of decoded text already sent
    generator: object | None = None  # torch.Generator when a seed is given
    failed: Exception | None = None  # this row's own failure: it leaves the batch alone

    def send(self, event: TokenEvent) -> None:
        self.loop.call_soon_threadsafe(self.out.put_nowait, event)


class BuiltinEngine(Engine):
    def __init__(
        self,
        model_dir: str | Path,
        *,
        model_id: str,
        model_version: str,
        source: str,
        max_context: int,
        dtype: str = "float32",
        device: str = "auto",
        max_batch_size: int = 8,
        batch_wait_ms: float = 5.0,
        torch_threads: int | None = None,
        omp_wait_policy: str | None = "PASSIVE",
        trust_remote_code: bool = False,
    ):
        apply_thread_settings(torch_threads, omp_wait_policy)
        self.model_dir = str(model_dir)
        self._trust_remote_code = trust_remote_code  # model.trust_remote_code
        self.info = EngineInfo(
            name="builtin",
            model_id=model_id,
            model_version=model_version,
            source=source,
            max_context=max_context,
            detail={"path": self.model_dir, "device": device, "max_batch_size": max_batch_size},
        )
        self._dtype = dtype
        self._device_pref = device
        self.max_batch_size = max_batch_size
        self.batch_wait_s = batch_wait_ms / 1000
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._running = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = False
        self.max_batch_seen = 0  # largest batch decoded together (tests, benchmark)
        self._load_lock = threading.Lock()
        # split_special_tokens works by switching a flag on the shared Rust tokenizer for the
        # length of one call, and requests are tokenised on several threads at once: one
        # owner of that switch, or another request's markup is spelt out (or a typed control
        # token becomes a real one). Tokenising takes well under a millisecond.
        self._tokenize_lock = threading.Lock()
        self.tokenizer = None
        self.model = None

    # -- loading ---------------------------------------------------------------------------
    def _load(self) -> None:
        with self._load_lock:
            if self.model is not None:
                return
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            device = self._device_pref
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            self.device = torch.device(device)
            self.info.detail["device"] = device
            trust = {"trust_remote_code": self._trust_remote_code}
            tok = AutoTokenizer.from_pretrained(self.model_dir, **trust)
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            model = AutoModelForCausalLM.from_pretrained(
                self.model_dir, dtype=getattr(torch, self._dtype), **trust
            )
            model.to(self.device).eval()
            self.eos_ids = set(chat.stop_token_ids(tok))
            self.tokenizer, self.model = tok, model
            self._thread = threading.Thread(
                target=self._worker, name="taigimed-engine", daemon=True
            )
            self._thread.start()

    def _plain(self, text: str) -> list[int]:
        """Token ids of ``text`` as plain text: a '<|im_start|>' typed by a user is spelt out
        in ordinary tokens, never the control token (which would let them write a system
        turn)."""
        if not text:
            return []
        return self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)[
            "input_ids"
        ]

    def tokenize(self, prompt_messages: Sequence[dict[str, str]]) -> list[int]:
        """The ChatML prompt: markup from ``chat.render_segments`` is tokenised with its
        special tokens, message content always as plain text."""
        self._load()
        with self._tokenize_lock:
            return self._tokenize(prompt_messages)

    def _tokenize(self, prompt_messages: Sequence[dict[str, str]]) -> list[int]:
        ids: list[int] = []
        for m in prompt_messages:
            ids += self.tokenizer(f"{chat.IM_START}{m['role']}\n", add_special_tokens=False)[
                "input_ids"
            ]
            ids += self._plain(m["content"])
            ids += self.tokenizer(f"{chat.IM_END}\n", add_special_tokens=False)["input_ids"]
        ids += self.tokenizer(f"{chat.IM_START}assistant\n", add_special_tokens=False)["input_ids"]
        return ids

    def count_text_tokens(self, text: str) -> int:
        self._load()
        with self._tokenize_lock:
            return len(self._plain(text))

    def count_tokens(self, prompt_messages: Sequence[dict[str, str]]) -> int:
        return len(self.tokenize(prompt_messages))

    async def warmup(self) -> None:
        await asyncio.to_thread(self._load)
        msgs = [
            {"role": "system", "content": chat.SYSTEM_PROMPT},
            {"role": "user", "content": "hi"},
        ]
        async for _ in self.generate_stream(msgs, GenerationParams(max_tokens=2)):
            pass
        self._ready = True

    async def health(self) -> bool:
        return self._ready and self._thread is not None and self._thread.is_alive()

    def queue_depth(self) -> tuple[int, int]:
        return (self._running, self._queue.qsize())

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)

    # -- the async side --------------------------------------------------------------------
    @staticmethod
    def check_params(params: GenerationParams) -> None:
        """Refuse what would fail inside the batch, before it gets there."""
        if params.seed is not None and not SEED_MIN <= params.seed <= SEED_MAX:
            raise EngineError(f"seed must be between {SEED_MIN} and {SEED_MAX}")
        if not (params.temperature >= 0 and params.temperature < float("inf")):
            raise EngineError(f"temperature must be a finite number >= 0, got {params.temperature}")
        if not 0 < params.top_p <= 1:
            raise EngineError(f"top_p must be in (0, 1], got {params.top_p}")

    async def generate_stream(
        self, prompt_messages: Sequence[dict[str, str]], params: GenerationParams
    ) -> AsyncIterator[TokenEvent]:
        self.check_params(params)
        ids = await asyncio.to_thread(self.tokenize, prompt_messages)
        req = _Request(ids, params, asyncio.get_running_loop(), asyncio.Queue())
        self._queue.put(req)
        finished = False
        try:
            while True:
                event = await req.out.get()
                if isinstance(event, Exception):
                    raise EngineError(str(event)) from event
                yield event
                if event.finish_reason is not None:
                    finished = True
                    return
        finally:
            if not finished:
                req.cancelled.set()  # the worker drops the row at its next step

    # -- the worker thread -----------------------------------------------------------------
    def _worker(self) -> None:
        import torch

        state = None  # (cache, mask, positions, last_tokens, rows)
        while not self._stop.is_set():
            try:
                with torch.inference_mode():
                    state = self._step(state)
            except Exception as exc:  # fail the batch, keep the worker alive
                log.exception("built-in engine step failed")
                for req in state[4] if state else []:
                    req.send(exc)
                state = None
                self._running = 0

    def _take_new(self, block: bool, room: int) -> list[_Request]:
        new: list[_Request] = []
        try:
            new.append(self._queue.get(timeout=0.2) if block else self._queue.get_nowait())
        except queue.Empty:
            return new
        deadline = time.monotonic() + (self.batch_wait_s if block else 0)
        while len(new) < room:
            try:
                new.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        new = [r for r in new if not r.cancelled.is_set()]
        self._running += len(new)  # running from admission, before their prefill
        return new

    def _step(self, state):
        import torch

        rows = state[4] if state else []
        room = self.max_batch_size - len(rows)
        if room > 0:
            new = self._take_new(block=not rows, room=room)
            if new:
                state = self._merge(state, self._prefill(new))
        if state is None:
            self._running = 0
            return None
        cache, mask, pos, last, rows = state
        self._running = len(rows)
        self.max_batch_seen = max(self.max_batch_seen, len(rows))
        out = self.model(
            input_ids=last[:, None],
            attention_mask=torch.cat([mask, mask.new_ones(len(rows), 1)], dim=1),
            position_ids=pos[:, None],
            cache=cache,
            use_cache=True,
        )
        mask = torch.cat([mask, mask.new_ones(len(rows), 1)], dim=1)
        state = self._advance(out.cache, mask, pos + 1, out.logits[:, -1, :], rows)
        self._running = len(state[4]) if state else 0
        return state

    def _prefill(self, reqs: list[_Request]):
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(r.prompt_ids) for r in reqs)
        ids = torch.full((len(reqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(reqs), width), dtype=torch.long)
        for i, r in enumerate(reqs):
            ids[i, width - len(r.prompt_ids) :] = torch.tensor(r.prompt_ids)
            mask[i, width - len(r.prompt_ids) :] = 1
            if r.params.seed is not None:
                try:
                    r.generator = torch.Generator().manual_seed(r.params.seed)
                except (RuntimeError, OverflowError, ValueError) as exc:
                    r.failed = RowError(f"seed {r.params.seed} is not usable: {exc}")
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        pos = mask.sum(-1)
        # Sample each newcomer's first token now; ``_advance`` does that and prunes.
        return self._advance(out.cache, mask, pos, out.logits[:, -1, :], reqs)

    def _merge(self, running, new):
        """Join two batches: left-pad the shorter KV cache and mask, concatenate rows."""
        import torch
        import torch.nn.functional as F

        if running is None:
            return new
        if new is None:
            return running
        c1, m1, p1, l1, r1 = running
        c2, m2, p2, l2, r2 = new
        width = max(m1.shape[1], m2.shape[1])

        def lpad(t, dim_from_end: int, n: int):
            if n == 0:
                return t
            spec = [0, 0] * (dim_from_end - 1) + [n, 0]
            return F.pad(t, spec)

        for a, b in zip(c1.layers, c2.layers, strict=True):
            a.keys = torch.cat(
                [lpad(a.keys, 2, width - m1.shape[1]), lpad(b.keys, 2, width - m2.shape[1])]
            )
            a.values = torch.cat(
                [lpad(a.values, 2, width - m1.shape[1]), lpad(b.values, 2, width - m2.shape[1])]
            )
        mask = torch.cat([lpad(m1, 1, width - m1.shape[1]), lpad(m2, 1, width - m2.shape[1])])
        return c1, mask, torch.cat([p1, p2]), torch.cat([l1, l2]), r1 + r2

    def _sample(self, logits, rows: list[_Request]):
        """One token per row; a row whose sampling fails gets ``failed`` set and token -1
        (it is ended by ``_advance``), so it never takes the batch down with it."""
        chosen = []
        for i, r in enumerate(rows):
            if r.failed is not None:
                chosen.append(-1)
                continue
            try:
                chosen.append(self._sample_row(logits[i], r))
            except Exception as exc:
                log.warning("one request failed while sampling: %s", exc)
                r.failed = RowError(f"sampling failed for this request: {exc}")
                chosen.append(-1)
        return chosen

    def _sample_row(self, logits, r: _Request) -> int:
        import torch

        row = logits.float()
        if r.params.temperature < GREEDY_BELOW:
            return int(row.argmax())
        probs = torch.softmax(row / r.params.temperature, dim=-1)
        if r.params.top_p < 1.0:
            sorted_p, idx = probs.sort(descending=True)
            keep = sorted_p.cumsum(-1) - sorted_p < r.params.top_p
            probs = torch.zeros_like(probs).scatter(0, idx[keep], sorted_p[keep])
        if not bool(torch.isfinite(probs).all()) or float(probs.sum()) <= 0:
            raise ValueError(
                f"temperature {r.params.temperature} / top_p {r.params.top_p} left no "
                "finite probabilities"
            )
        return int(torch.multinomial(probs.cpu(), 1, generator=r.generator))

    def _advance(self, cache, mask, pos, logits, rows: list[_Request]):
        """Append one sampled token per row, stream text, drop finished rows."""
        import torch

        tokens = self._sample(logits, rows)
        keep: list[int] = []
        for i, (r, tok) in enumerate(zip(rows, tokens, strict=True)):
            if r.cancelled.is_set():
                continue
            if r.failed is not None:
                r.send(r.failed)  # ends this request at once, with its own error
                continue
            finish = None
            if tok in self.eos_ids:
                finish = "stop"
            else:
                r.generated.append(tok)
                if len(r.generated) >= r.params.max_tokens:
                    finish = "length"
            text = self.tokenizer.decode(r.generated, skip_special_tokens=True)
            hold = 0 if finish else max((len(s) - 1 for s in r.params.stop), default=0)
            for s in r.params.stop:
                at = text.find(s)
                if at >= 0:
                    text, finish, hold = text[:at], "stop", 0
            if text.endswith("\ufffd"):
                if finish is None:
                    # Half a UTF-8 character: hold it back until the rest arrives.
                    hold = len(text) - len(text.rstrip("\ufffd"))
                else:
                    text = text.rstrip("\ufffd")  # cut off mid-character: drop the half
            upto = max(r.emitted, len(text) - hold)
            piece = text[r.emitted : upto]
            r.emitted = upto
            if finish is not None:
                r.send(
                    TokenEvent(
                        piece,
                        finish_reason=finish,
                        prompt_tokens=len(r.prompt_ids),
                        completion_tokens=len(r.generated),
                    )
                )
            else:
                if piece:
                    r.send(TokenEvent(piece))
                keep.append(i)
        if not keep:
            return None
        last = torch.tensor([tokens[i] for i in keep], device=mask.device)
        if len(keep) < len(rows):
            index = torch.tensor(keep, device=mask.device)
            cache.batch_select_indices(index)
            mask, pos = mask[index], pos[index]
        return cache, mask, pos, last, [rows[i] for i in keep]
