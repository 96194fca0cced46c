"""Model-side scorers: option log-likelihoods, bits per character, greedy generation.

MCQ scoring is the expensive part on CPU. The token prefix every prompt shares (the
system prompt and chat header, half of a MedQA prompt) is run once per call and its KV
cache reused by every batch. Each question's remaining prompt is run once, together with
all of its options laid out after it and kept apart by an attention mask, so one forward
pass scores every option (questions of similar length batched, prompts left-padded); the
KV cache, cropped back to the prompts, then continues them for a short greedy answer
(generative accuracy). Tokenisation mirrors
lm-evaluation-harness (``encode(context + continuation)`` split at ``len(encode(context))``), so the
log-likelihoods, and therefore ``acc``/``acc_norm``, match what ``lm-eval`` computes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

Progress = Callable[[int], None]


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    max_context: int
    stop_ids: list[int]
    pad_id: int


def load_model(
    model_dir: str | Path, dtype: str, max_context: int, trust_remote_code: bool = False
) -> LoadedModel:
    """A causal LM and its tokenizer from a local folder (or hub id), in eval mode.

    ``trust_remote_code`` is ``model.trust_remote_code``, as training and serving pass it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from taigimed import chat

    trust = {"trust_remote_code": trust_remote_code}
    tok = AutoTokenizer.from_pretrained(str(model_dir), **trust)
    model = AutoModelForCausalLM.from_pretrained(
        str(model_dir), dtype=getattr(torch, dtype), **trust
    )
    model.eval()
    stop = chat.stop_token_ids(tok)
    pad = tok.pad_token_id if tok.pad_token_id is not None else stop[0]
    return LoadedModel(model, tok, max_context, stop, pad)


def _encode(lm: LoadedModel, text: str) -> list[int]:
    return lm.tokenizer.encode(text)


@dataclass
class MCQScore:
    logliks: list[float]
    generated: str | None


@dataclass
class EncodedMCQ:
    context: list[int]
    continuations: list[list[int]]
    forced: list[int]  # the context's trailing whitespace, fed before generating


def encode_mcq(lm: LoadedModel, context: str, continuations: Sequence[str]) -> EncodedMCQ:
    """Token ids exactly as lm-eval splits them.

    Like lm-eval, trailing whitespace of the context (the newline after
    ``<|im_start|>assistant``) moves to the front of every continuation, and each
    continuation is ``encode(context + continuation)`` minus ``len(encode(context))``.
    """
    stripped = context.rstrip()
    tail = context[len(stripped) :]
    ctx = _encode(lm, stripped)
    conts = []
    for c in continuations:
        whole = _encode(lm, stripped + tail + c)
        cont = whole[len(ctx) :]
        if not cont:
            raise ValueError(f"continuation {c!r} encodes to no tokens")
        conts.append(cont)
    forced = _encode(lm, context)[len(ctx) :] if tail else []
    longest = max(len(c) for c in conts)
    return EncodedMCQ(ctx[-(lm.max_context - longest) :], conts, forced)


@torch.inference_mode()
def score_mcq(
    lm: LoadedModel,
    contexts: Sequence[str],
    continuations: Sequence[Sequence[str]],
    batch_questions: int = 8,
    gen_tokens: int = 0,
    progress: Progress | None = None,
) -> list[MCQScore]:
    """Summed log-probability of each continuation given its context, plus an optional
    greedy answer of ``gen_tokens`` tokens, for every question."""
    if getattr(lm, "backend", None) == "gguf":  # scoring_gguf.GGUFModel: llama.cpp does it
        return lm.score_mcq(contexts, continuations, batch_questions, gen_tokens, progress)
    encoded = [encode_mcq(lm, c, conts) for c, conts in zip(contexts, continuations, strict=True)]
    # Longest first: similar lengths share a batch (little padding), and memory
    # peaks on the first batch rather than at the end of a long run.
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i].context))
    prefix = _SharedPrefix.of(lm, [e.context for e in encoded])
    results: list[MCQScore | None] = [None] * len(encoded)
    for start in range(0, len(order), batch_questions):
        batch = order[start : start + batch_questions]
        scored = _score_batch(lm, [encoded[i] for i in batch], gen_tokens, prefix)
        for i, s in zip(batch, scored, strict=True):
            results[i] = s
        if progress:
            progress(len(batch))
    return results  # type: ignore[return-value]


def _left_pad(seqs: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, width - len(s) :] = torch.tensor(s, dtype=torch.long)
        mask[row, width - len(s) :] = 1
    return ids, mask


# Copying a cached prefix into a batch is far cheaper than recomputing it, but a prefix of
# a few tokens (BOS, a chat header) is not worth the extra forward pass that builds it.
MIN_SHARED_PREFIX = 8


def shared_prefix_length(contexts: Sequence[list[int]]) -> int:
    """Tokens at the start of every prompt that ``score_mcq`` runs once; 0 when too few."""
    if not contexts:
        return 0
    first = contexts[0]
    # Every prompt keeps at least its last token outside the prefix: the first
    # option token is predicted from that position's logits.
    n = min(len(c) for c in contexts) - 1
    for c in contexts[1:]:
        n = next((i for i in range(n) if c[i] != first[i]), n)
    return n if n >= MIN_SHARED_PREFIX else 0


@dataclass
class _SharedPrefix:
    """The token prefix all prompts of one scoring call share, run through the model once."""

    length: int
    cache: object | None  # the prefix's KV cache, batch size 1; None when length is 0

    @classmethod
    def of(cls, lm: LoadedModel, contexts: Sequence[list[int]]) -> _SharedPrefix:
        n = shared_prefix_length(contexts)
        if n == 0:
            return cls(0, None)
        out = lm.model(input_ids=torch.tensor([contexts[0][:n]]), use_cache=True, logits_to_keep=1)
        return cls(n, out.cache)

    def cache_for(self, rows: int):
        """A private copy of the prefix cache repeated for ``rows`` rows (the batch's
        forward pass appends to it)."""
        if self.cache is None:
            return None
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(rows)
        return cache


def _score_batch(
    lm: LoadedModel, batch: list[EncodedMCQ], gen_tokens: int, prefix: _SharedPrefix
) -> list[MCQScore]:
    """One forward pass per batch: each row holds its prompt and, after it, all of its
    options side by side, kept apart by a 4-D attention mask (every option sees the
    prompt and its own earlier tokens, never another option) and numbered from the
    prompt's end. No option re-reads the prompt and no KV cache is copied per option.
    The shared prefix is not run again: every row continues its cache.

    Prompts are left-padded to a common length so the cache, cropped back to the
    prompts afterwards, continues all rows at once for the greedy answers.
    """
    tree = _option_tree(batch, lm.pad_id, prefix.length)
    out = lm.model(
        input_ids=tree.ids,
        attention_mask=tree.allow[:, None],
        position_ids=tree.pos,
        cache=prefix.cache_for(len(batch)),
        use_cache=True,
        logits_to_keep=tree.keep,
    )
    logits = out.logits.float()  # (rows, 1 + option tokens, vocab)
    log_z = torch.logsumexp(logits, dim=-1)
    token_lp = logits[tree.t_row, tree.t_at, tree.t_tok] - log_z[tree.t_row, tree.t_at]
    sums = torch.zeros(tree.n_options).index_add_(0, tree.t_option, token_lp).tolist()

    generated: list[str | None] = [None] * len(batch)
    if gen_tokens > 0:
        out.cache.crop(tree.prompt_width - tree.ids.shape[1])  # drop the option slots
        generated = _greedy_from_cache(
            lm,
            out.cache,
            logits[:, 0],
            torch.cat(
                [torch.ones(len(batch), prefix.length, dtype=torch.long), tree.prompt_mask], 1
            ),
            tree.last_pos,
            gen_tokens,
            [e.forced for e in batch],
        )
    scores, k = [], 0
    for q, e in enumerate(batch):
        n = len(e.continuations)
        scores.append(MCQScore(sums[k : k + n], generated[q]))
        k += n
    return scores


@dataclass
class _OptionTree:
    ids: (
        torch.Tensor
    )  # (rows, width): left-padded prompt after the prefix, then every option's tokens
    pos: torch.Tensor  # position ids: options restart where their prompt ends
    allow: torch.Tensor  # (rows, width, prefix + width) bool: which position may attend to which
    keep: torch.Tensor  # positions whose logits are needed: the prompt's end, then options
    prompt_width: int
    prompt_mask: torch.Tensor  # (rows, prompt_width) 1 on real prompt tokens
    last_pos: torch.Tensor  # position id of each row's last prompt token
    # One entry per scored token: its row, its index into ``keep``, its id, its option.
    t_row: torch.Tensor
    t_at: torch.Tensor
    t_tok: torch.Tensor
    t_option: torch.Tensor
    n_options: int


def _option_tree(batch: list[EncodedMCQ], pad: int, prefix: int = 0) -> _OptionTree:
    """The batch's rows after a cached ``prefix`` of that many tokens every prompt shares.

    Mask columns are the prefix's positions followed by the row's own slots.
    """
    # An option's last token is only predicted, never fed, so it takes no slot.
    feeds = [[c[:-1] for c in e.continuations] for e in batch]
    lp = max(len(e.context) for e in batch) - prefix
    width = lp + max(sum(len(f) for f in fs) for fs in feeds)
    rows = len(batch)
    ids = torch.full((rows, width), pad, dtype=torch.long)
    pos = torch.zeros((rows, width), dtype=torch.long)
    # Every position sees itself, so padding rows of the mask are never empty (NaN).
    allow = torch.zeros((rows, width, prefix + width), dtype=torch.bool)
    allow[:, :, prefix:] = torch.eye(width, dtype=torch.bool)
    prompt_mask = torch.zeros((rows, lp), dtype=torch.long)
    causal = torch.ones((width, width), dtype=torch.bool).tril()
    t_row, t_at, t_tok, t_option = [], [], [], []
    option = 0
    for r, (e, fs) in enumerate(zip(batch, feeds, strict=True)):
        n_ctx = len(e.context)
        n_own = n_ctx - prefix  # the prompt's tokens after the shared prefix
        s = lp - n_own
        ids[r, s:lp] = torch.tensor(e.context[prefix:])
        pos[r, s:lp] = torch.arange(prefix, n_ctx)
        prompt_mask[r, s:] = 1
        allow[r, s:lp, :prefix] = True
        allow[r, s:lp, prefix + s : prefix + lp] = causal[:n_own, :n_own]
        at = lp
        for cont, feed in zip(e.continuations, fs, strict=True):
            n = len(feed)
            ids[r, at : at + n] = torch.tensor(feed, dtype=torch.long)
            pos[r, at : at + n] = n_ctx + torch.arange(n)
            allow[r, at : at + n, :prefix] = True
            allow[r, at : at + n, prefix + s : prefix + lp] = True
            allow[r, at : at + n, prefix + at : prefix + at + n] = causal[:n, :n]
            # Token 0 is predicted at the prompt's end (keep index 0), token j at the
            # slot of token j - 1 (keep index 1 + that slot's offset after the prompt).
            t_at += [0] + [1 + at - lp + j for j in range(n)]
            t_tok += cont
            t_row += [r] * len(cont)
            t_option += [option] * len(cont)
            option += 1
            at += n
    return _OptionTree(
        ids=ids,
        pos=pos,
        allow=allow,
        keep=torch.arange(lp - 1, width),
        prompt_width=lp,
        prompt_mask=prompt_mask,
        last_pos=pos[:, lp - 1],
        t_row=torch.tensor(t_row),
        t_at=torch.tensor(t_at),
        t_tok=torch.tensor(t_tok),
        t_option=torch.tensor(t_option),
        n_options=option,
    )


def _greedy_from_cache(lm, cache, first_logits, mask, last_pos, n_tokens, forced) -> list[str]:
    """Greedy answers continuing the cached prompts; the cache is cropped back afterwards.

    ``forced[row]`` (the prompt's trailing newline, which lm-eval-style scoring
    keeps out of the cached context) is fed before that row's greedy tokens.
    """
    stop = set(lm.stop_ids)
    rows = len(forced)
    out: list[list[int]] = [[] for _ in range(rows)]
    finished = [False] * rows
    logits = first_logits
    step_mask = mask
    fed = 0
    for step in range(max(len(f) for f in forced) + n_tokens):
        greedy = logits.argmax(-1).tolist()
        token = []
        for r in range(rows):
            if step < len(forced[r]):
                token.append(forced[r][step])
                continue
            token.append(greedy[r])
            if not finished[r]:
                if greedy[r] in stop:
                    finished[r] = True
                else:
                    out[r].append(greedy[r])
                    finished[r] = len(out[r]) >= n_tokens
        if all(finished):
            break
        tok = torch.tensor(token, dtype=torch.long)[:, None]
        step_mask = torch.cat([step_mask, torch.ones_like(tok)], dim=1)
        logits = lm.model(
            input_ids=tok,
            attention_mask=step_mask,
            position_ids=(last_pos + step + 1)[:, None],
            cache=cache,
            use_cache=True,
        ).logits[:, -1, :]
        fed += 1
    if fed:
        cache.crop(-fed)
    return [lm.tokenizer.decode(ids, skip_special_tokens=True) for ids in out]


@torch.inference_mode()
def text_bits(
    lm: LoadedModel, texts: Sequence[str], batch_size: int = 16, progress: Progress | None = None
) -> list[float]:
    """Negative log-likelihood of each text in bits, every token conditioned on what precedes it.

    The first token is conditioned on a single boundary token (BOS, else EOS), as
    lm-eval's rolling log-likelihood does; texts longer than the context are scored
    in consecutive windows, each opened by the same boundary token.
    """
    if getattr(lm, "backend", None) == "gguf":
        return lm.text_bits(texts, batch_size, progress)
    tok = lm.tokenizer
    boundary = tok.bos_token_id if tok.bos_token_id is not None else lm.stop_ids[0]
    window = lm.max_context - 1
    pieces: list[tuple[int, list[int]]] = []
    for i, text in enumerate(texts):
        ids = tok.encode(text, add_special_tokens=False)
        for s in range(0, max(len(ids), 1), window):
            pieces.append((i, [boundary, *ids[s : s + window]]))
    bits = [0.0] * len(texts)
    order = sorted(range(len(pieces)), key=lambda k: -len(pieces[k][1]))
    for start in range(0, len(order), batch_size):
        chunk = [pieces[k] for k in order[start : start + batch_size]]
        width = max(len(p) for _, p in chunk)
        ids = torch.full((len(chunk), width), lm.pad_id, dtype=torch.long)
        valid = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (_, p) in enumerate(chunk):
            ids[row, : len(p)] = torch.tensor(p)
            valid[row, : len(p)] = 1
        logits = lm.model(input_ids=ids, attention_mask=valid).logits[:, :-1].float()
        lp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        tgt_lp = lp.gather(2, ids[:, 1:, None]).squeeze(2) * valid[:, 1:]
        for (i, _), nll in zip(chunk, (-tgt_lp.sum(dim=1)).tolist(), strict=True):
            bits[i] += nll / math.log(2)
        if progress:
            progress(len({i for i, _ in chunk}))
    return bits


def answer_caps(n: int, max_new_tokens: int, limits: Sequence[int] | None) -> list[int]:
    """Each prompt's own cap on new tokens: its limit, at most ``max_new_tokens``, at least 1."""
    return [max(1, min(max_new_tokens, limits[i] if limits else max_new_tokens)) for i in range(n)]


@torch.inference_mode()
def generate(
    lm: LoadedModel,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 16,
    progress: Progress | None = None,
    limits: Sequence[int] | None = None,
) -> list[str]:
    """Greedy completions of already-rendered prompts, stopping at end of turn.

    ``limits`` caps each prompt's new tokens below ``max_new_tokens`` (e.g. from the
    source length of a translation), so an untrained model that never stops costs
    only what a plausible answer could need. A batch decodes to its largest cap and
    every answer is cut at its own, so no answer depends on what shares its batch.
    """
    if getattr(lm, "backend", None) == "gguf":
        return lm.generate(prompts, max_new_tokens, batch_size, progress, limits)
    tok = lm.tokenizer
    encoded = [_encode(lm, p)[-(lm.max_context - max_new_tokens) :] for p in prompts]
    caps = answer_caps(len(prompts), max_new_tokens, limits)
    # Equal caps share a batch (no row decodes far past its own), then equal lengths.
    order = sorted(range(len(encoded)), key=lambda i: (-caps[i], -len(encoded[i])))
    out: list[str] = [""] * len(prompts)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        ids, mask = _left_pad([encoded[i] for i in batch], lm.pad_id)
        gen = lm.model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=max(caps[i] for i in batch),
            do_sample=False,
            eos_token_id=lm.stop_ids,
            pad_token_id=lm.pad_id,
        )
        for i, row in zip(batch, gen[:, ids.shape[1] :].tolist(), strict=True):
            kept = []
            for t in row[: caps[i]]:
                if t in lm.stop_ids:
                    break
                kept.append(t)
            out[i] = tok.decode(kept, skip_special_tokens=True).strip()
        if progress:
            progress(len(batch))
    return out
