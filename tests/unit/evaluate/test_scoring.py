"""The shared-prefix scorer must give the same numbers as scoring each sequence on its own."""

import math

import pytest
import torch

from taigimed import chat
from taigimed.evaluate.scoring import encode_mcq, generate, score_mcq, text_bits

QUESTIONS = [
    (
        "病人發燒咳嗽三日" * (i % 3 + 1),
        {"A": "頭殼疼", "B": "腹肚疼" * (i % 2 + 1), "C": "嚨喉疼", "D": "目睭澀"},
    )
    for i in range(7)
]


def _prompts():
    ctx = [chat.render(chat.mcq_messages(q, o), add_generation_prompt=True) for q, o in QUESTIONS]
    conts = [[chat.mcq_assistant_answer(k, o) for k in sorted(o)] for _, o in QUESTIONS]
    return ctx, conts


def _flat(scores):
    return [x for s in scores for x in s.logliks]


def _naive_loglik(lm, ctx_ids, cont_ids):
    ids = torch.tensor([ctx_ids + cont_ids])
    with torch.no_grad():
        lp = torch.log_softmax(lm.model(ids).logits[0, :-1].float(), dim=-1)
    return lp[len(ctx_ids) - 1 :].gather(1, ids[0, len(ctx_ids) :, None]).sum().item()


def test_shared_prefix_logliks_match_one_sequence_at_a_time(tiny_lm):
    ctx, conts = _prompts()
    scores = score_mcq(tiny_lm, ctx, conts, batch_questions=3, gen_tokens=0)
    for c, cs, s in zip(ctx, conts, scores, strict=True):
        enc = encode_mcq(tiny_lm, c, cs)
        assert enc.forced, "the prompt's trailing newline moves into the continuation"
        naive = [_naive_loglik(tiny_lm, enc.context, x) for x in enc.continuations]
        assert s.logliks == pytest.approx(naive, abs=1e-4)
        assert s.generated is None
    # Batch size changes padding, never the numbers.
    again = score_mcq(tiny_lm, ctx, conts, batch_questions=7, gen_tokens=0)
    assert _flat(again) == pytest.approx(_flat(scores), abs=1e-4)


def test_greedy_answer_from_cache_equals_generate(sharp_lm):
    """Questions of unequal length, batched, answer as generate() does one prompt at a time."""
    ctx, conts = _prompts()
    scores = score_mcq(sharp_lm, ctx, conts, batch_questions=4, gen_tokens=6)
    without = score_mcq(sharp_lm, ctx, conts, batch_questions=4)
    assert _flat(scores) == pytest.approx(_flat(without), abs=1e-4), (
        "cache cropped after generating"
    )
    reference = generate(sharp_lm, ctx, max_new_tokens=6, batch_size=1)
    assert len(set(reference)) > 3, "the model must answer prompts differently"
    assert [s.generated.strip() for s in scores] == reference


def test_text_bits_is_token_nll_in_bits(tiny_lm):
    texts = ["阮阿公血壓懸，逐工攏愛食藥仔。", "頭殼疼", "Guá kin-á-ji̍t thâu-khak thiànn."]
    bits = text_bits(tiny_lm, texts, batch_size=2)
    tok = tiny_lm.tokenizer
    for text, b in zip(texts, bits, strict=True):
        ids = [tiny_lm.stop_ids[0], *tok.encode(text, add_special_tokens=False)]
        nll = -_naive_loglik(tiny_lm, ids[:1], ids[1:])
        assert b == pytest.approx(nll / math.log(2), rel=1e-4)


def test_generate_respects_per_prompt_limits(sharp_lm):
    """Each prompt stops at its own limit, whatever it shares a batch with."""
    ctx, _ = _prompts()
    limits = [2, 1, 5, 3]
    alone = [
        generate(sharp_lm, [c], max_new_tokens=12, limits=[n])[0]
        for c, n in zip(ctx[:4], limits, strict=True)
    ]
    batched = generate(sharp_lm, ctx[:4], max_new_tokens=12, batch_size=4, limits=limits)
    full = generate(sharp_lm, ctx[:4], max_new_tokens=12, batch_size=4)
    assert batched == alone
    for short, long in zip(batched, full, strict=True):
        assert long.startswith(short) and len(short) < len(long)


def test_shared_prefix_runs_once_and_changes_no_number(sharp_lm, monkeypatch):
    """The instruction every MCQ prompt opens with is cached once; the numbers and the
    greedy answers are those of scoring every prompt from its first token."""
    from taigimed.evaluate import scoring

    ctx, conts = _prompts()
    ids = [encode_mcq(sharp_lm, c, cs).context for c, cs in zip(ctx, conts, strict=True)]
    prefix = scoring._SharedPrefix.of(sharp_lm, ids)
    assert prefix.length >= scoring.MIN_SHARED_PREFIX
    assert all(i[: prefix.length] == ids[0][: prefix.length] for i in ids)
    assert prefix.length < min(len(i) for i in ids)

    shared = score_mcq(sharp_lm, ctx, conts, batch_questions=3, gen_tokens=4)
    monkeypatch.setattr(scoring, "MIN_SHARED_PREFIX", 10**9)
    assert scoring._SharedPrefix.of(sharp_lm, ids).length == 0
    unshared = score_mcq(sharp_lm, ctx, conts, batch_questions=3, gen_tokens=4)
    assert _flat(shared) == pytest.approx(_flat(unshared), abs=1e-4)
    assert [s.generated for s in shared] == [s.generated for s in unshared]


def test_prompts_sharing_nothing_are_scored_whole(tiny_lm):
    """A prompt that does not open like the others (another template) turns the prefix off."""
    ctx, conts = _prompts()
    odd = "Answer: " + ctx[0]
    scores = score_mcq(tiny_lm, [odd, *ctx[1:3]], conts[:3], batch_questions=3)
    enc = encode_mcq(tiny_lm, odd, conts[0])
    naive = [_naive_loglik(tiny_lm, enc.context, x) for x in enc.continuations]
    assert scores[0].logliks == pytest.approx(naive, abs=1e-4)


def test_no_questions_score_to_nothing(tiny_lm):
    assert score_mcq(tiny_lm, [], [], gen_tokens=4) == []
