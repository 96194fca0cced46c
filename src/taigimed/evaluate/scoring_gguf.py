"""The GGUF scorer: the same three measurements as ``scoring``, run by llama.cpp on the GGUF
file that is served.

Token ids come from the model folder's Hugging Face tokenizer, split exactly as
``scoring.encode_mcq`` splits them, so only the arithmetic differs from the torch
scorer. Each question's prompt is decoded once on sequence 0; its cache is shared
(unified KV buffer, ``seq_cp`` copies no data) by one sequence per option, and all
options are decoded in one batch with logits kept only where they are read. The
greedy answer continues sequence 0. Free generation decodes up to
``batch_size`` prompts side by side, one token each per step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from taigimed.evaluate.scoring import MCQScore, answer_caps, encode_mcq

# Sequence 0 holds the prompt; options take 1..MAX_OPTIONS.
MAX_OPTIONS = 8
# Cache cells beyond the context for the options decoded after a prompt.
OPTION_CELLS = 1024


def _log_softmax_at(logits: np.ndarray, tokens: Sequence[int]) -> np.ndarray:
    """log p(tokens[i] | row i), in float64 so summed option scores match torch's float32."""
    rows = logits.astype(np.float64)
    peak = rows.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(rows - peak).sum(axis=1)) + peak[:, 0]
    return rows[np.arange(len(tokens)), list(tokens)] - log_z


class GGUFModel:
    """A GGUF file run by llama.cpp plus the model folder's tokenizer; quacks like
    ``scoring.LoadedModel`` for the suites (tokenizer, max_context, stop_ids, pad_id)."""

    backend = "gguf"

    def __init__(
        self,
        gguf_path: str | Path,
        tokenizer_dir: str | Path,
        max_context: int,
        n_threads: int | None = None,
        batch_sequences: int = 16,
    ):
        from transformers import AutoTokenizer

        from taigimed import chat
        from taigimed.models.llamacpp import LlamaRuntime

        tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
        self.tokenizer = tok
        self.max_context = max_context
        self.stop_ids = chat.stop_token_ids(tok)
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else self.stop_ids[0]
        self.path = Path(gguf_path)
        self.n_seq = max(MAX_OPTIONS + 1, batch_sequences)
        # One unified cache for every sequence: a prompt and its options, or several
        # side-by-side generations (generate() splits batches that would not fit).
        self.cache_cells = max(max_context + OPTION_CELLS, max_context * 4)
        self.rt = LlamaRuntime(
            gguf_path,
            n_ctx=self.cache_cells,
            n_seq_max=self.n_seq,
            n_threads=n_threads,
        )

    # -- building blocks -------------------------------------------------------------
    def _prompt(self, ids: Sequence[int], seq: int, want_all: bool = False) -> np.ndarray:
        """Decode ``ids`` on ``seq`` from position 0; logits of the last token (or all)."""
        out = []
        nb = self.rt.n_batch
        for s in range(0, len(ids), nb):
            chunk = ids[s : s + nb]
            last = s + len(chunk) == len(ids)
            entries = [
                (t, s + j, seq, want_all or (last and j == len(chunk) - 1))
                for j, t in enumerate(chunk)
            ]
            out.append(self.rt.decode(entries))
        return np.concatenate(out)

    def _greedy(self, prompts, forced, caps) -> list[list[int]]:
        """Greedy continuations of ``prompts`` (token ids), side by side in sequences.

        ``forced[i]`` is fed before prompt i's greedy tokens; ``caps[i]`` bounds them.
        """
        self.rt.clear()
        stop = set(self.stop_ids)
        n = len(prompts)
        logits = {i: self._prompt(p, i)[-1] for i, p in enumerate(prompts)}
        pos = {i: len(p) for i, p in enumerate(prompts)}
        out: list[list[int]] = [[] for _ in range(n)]
        step = {i: 0 for i in range(n)}
        live = [i for i in range(n) if caps[i] > 0]
        while live:
            entries = []
            for i in live:
                if step[i] < len(forced[i]):
                    tok = forced[i][step[i]]
                else:
                    tok = int(np.argmax(logits[i]))
                    if tok in stop:
                        caps[i] = 0
                        continue
                    out[i].append(tok)
                    if len(out[i]) >= caps[i]:
                        caps[i] = 0
                        continue
                step[i] += 1
                if pos[i] >= self.max_context:
                    caps[i] = 0
                    continue
                entries.append((tok, pos[i], i, True))
                pos[i] += 1
            if entries:
                rows = self.rt.decode(entries)
                for (_, _, i, _), row in zip(entries, rows, strict=True):
                    logits[i] = row
            live = [i for i in live if caps[i] > 0]
        return out

    # -- the scorer API ----------------------------------------------------------------
    def score_mcq(self, contexts, continuations, batch_questions=8, gen_tokens=0, progress=None):
        results = []
        for ctx, conts in zip(contexts, continuations, strict=True):
            enc = encode_mcq(self, ctx, conts)
            if len(enc.continuations) > MAX_OPTIONS:
                raise ValueError(f"at most {MAX_OPTIONS} options per question are scored")
            self.rt.clear()
            first = self._prompt(enc.context, 0)[-1]
            n_ctx = len(enc.context)
            entries, spans = [], []
            for k, cont in enumerate(enc.continuations, start=1):
                self.rt.seq_cp(0, k, -1, -1)
                start = len(entries)
                entries += [(t, n_ctx + j, k, True) for j, t in enumerate(cont[:-1])]
                spans.append((start, len(entries)))
            rows = []
            for s in range(0, len(entries), self.rt.n_batch):
                rows.append(self.rt.decode(entries[s : s + self.rt.n_batch]))
            option_logits = np.concatenate(rows) if rows else np.empty((0, self.rt.n_vocab))
            logliks = []
            for (a, b), cont in zip(spans, enc.continuations, strict=True):
                lg = np.concatenate([first[None], option_logits[a:b]])
                logliks.append(float(_log_softmax_at(lg, cont).sum()))
            generated = None
            if gen_tokens > 0:
                for k in range(1, len(enc.continuations) + 1):
                    self.rt.seq_rm(k)
                generated = self._continue(first, enc.forced, n_ctx, gen_tokens)
            results.append(MCQScore(logliks, generated))
            if progress:
                progress(1)
        return results

    def _continue(self, first: np.ndarray, forced: list[int], pos: int, n_tokens: int) -> str:
        """Greedy answer on sequence 0, whose cache holds the prompt up to ``pos``."""
        stop = set(self.stop_ids)
        logits, out = first, []
        for step in range(len(forced) + n_tokens):
            if step < len(forced):
                tok = forced[step]
            else:
                tok = int(np.argmax(logits))
                if tok in stop:
                    break
                out.append(tok)
                if len(out) >= n_tokens:
                    break
            logits = self.rt.decode([(tok, pos, 0, True)])[0]
            pos += 1
        return self.tokenizer.decode(out, skip_special_tokens=True)

    def text_bits(self, texts, batch_size=16, progress=None):
        tok = self.tokenizer
        boundary = tok.bos_token_id if tok.bos_token_id is not None else self.stop_ids[0]
        window = self.max_context - 1
        bits = [0.0] * len(texts)
        for i, text in enumerate(texts):
            ids = tok.encode(text, add_special_tokens=False)
            for s in range(0, max(len(ids), 1), window):
                piece = [boundary, *ids[s : s + window]]
                if len(piece) < 2:
                    continue
                self.rt.clear()
                logits = self._prompt(piece[:-1], 0, want_all=True)
                nll = -_log_softmax_at(logits, piece[1:]).sum()
                bits[i] += float(nll) / math.log(2)
            if progress:
                progress(1)
        return bits

    def generate(self, prompts, max_new_tokens, batch_size=16, progress=None, limits=None):
        encoded = [
            self.tokenizer.encode(p)[-(self.max_context - max_new_tokens) :] for p in prompts
        ]
        caps = answer_caps(len(prompts), max_new_tokens, limits)
        # As in the torch scorer: equal caps batch together, each answer stops at its own.
        order = sorted(range(len(encoded)), key=lambda i: (-caps[i], -len(encoded[i])))
        width = max(1, min(batch_size, self.n_seq))
        out = [""] * len(prompts)
        for start in range(0, len(order), width):
            batch = order[start : start + width]
            # Side-by-side sequences share the cache: split a batch that would not fit.
            groups, group, cells = [], [], 0
            for i in batch:
                need = len(encoded[i]) + caps[i]
                if group and cells + need > self.cache_cells:
                    groups.append(group)
                    group, cells = [], 0
                group.append(i)
                cells += need
            groups.append(group)
            for g in groups:
                gen = self._greedy([encoded[i] for i in g], [[] for _ in g], [caps[i] for i in g])
                for i, ids in zip(g, gen, strict=True):
                    out[i] = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
            if progress:
                progress(len(batch))
        return out

    def close(self) -> None:
        self.rt.close()


def load_gguf_model(
    gguf_path: str | Path, tokenizer_dir: str | Path, max_context: int, batch_sequences: int = 16
) -> GGUFModel:
    return GGUFModel(gguf_path, tokenizer_dir, max_context, batch_sequences=batch_sequences)
