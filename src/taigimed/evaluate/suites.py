"""Scoring one set: MCQ accuracies, open-answer chrF, bits per character, translation chrF.

Each function returns the set's report section: ``metrics``, ``categories``,
``letter_distribution`` (MCQ) and per-item records used by paired tests.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from taigimed import chat
from taigimed.evaluate.balance import check_balance
from taigimed.evaluate.baselines import baseline_metrics, item_baselines
from taigimed.evaluate.eval_sets import Row
from taigimed.evaluate.metrics import chrf_metric, metric
from taigimed.evaluate.rubric import score_answers
from taigimed.evaluate.scoring import LoadedModel, generate, score_mcq, text_bits

Progress = Callable[[int], None]


def translation_messages(direction: str, text: str) -> list[chat.Message]:
    """The same user turn the training data uses for this direction (taigimed.data.records)."""
    from taigimed.data.records import HAN_TO_TAILO, ZH_TO_HAN

    instructions = {"zh-han": ZH_TO_HAN, "han-tl": HAN_TO_TAILO}
    if direction not in instructions:
        raise ValueError(f"translation direction must be zh-han or han-tl, got {direction!r}")
    return [{"role": "user", "content": instructions[direction] + text}]


def evaluate_mcq(
    lm: LoadedModel,
    items: Sequence[Row],
    *,
    n_resamples: int,
    seed: int,
    batch_questions: int,
    gen_tokens: int,
    progress: Progress | None = None,
    options_only: bool = False,
    references: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """acc / acc_norm (option log-likelihood, lm-eval definitions) and gen_acc (parsed letter),
    beside the baselines of ``taigimed.evaluate.baselines``.

    ``options_only`` scores every item a second time with the question left out, for the
    model's own options-only baseline (no generation: it costs less than the main pass).
    ``references`` (one per item) are placed before each question (open book).
    """
    contexts, conts, letters = [], [], []
    refs = references if references is not None else [None] * len(items)
    for it, ref in zip(items, refs, strict=True):
        opts = it["options"]
        contexts.append(chat.render(chat.mcq_messages(it["question"], opts, context=ref), True))
        letters.append(sorted(opts))
        conts.append([chat.mcq_assistant_answer(k, opts) for k in sorted(opts)])
    scores = score_mcq(lm, contexts, conts, batch_questions, gen_tokens, progress)
    blind = (
        score_options_only(lm, items, conts, batch_questions)
        if options_only
        else [None] * len(items)
    )
    fixed = item_baselines(items, seed)
    records = []
    for it, s, ls, cs, b, base in zip(items, scores, letters, conts, blind, fixed, strict=True):
        pred, pred_norm = _argmax_letters(s.logliks, ls, cs)
        if b is not None:
            b_pred, b_norm = _argmax_letters(b.logliks, ls, cs)
            base = {
                **base,
                "options_only_acc": float(b_pred == it["answer_idx"]),
                "options_only_acc_norm": float(b_norm == it["answer_idx"]),
            }
        rec = {
            "id": it["id"],
            "category": it["category"],
            "correct": pred == it["answer_idx"],
            "pred": pred,
            "gold": it["answer_idx"],
            "correct_norm": pred_norm == it["answer_idx"],
            "pred_norm": pred_norm,
            "logliks": [round(x, 5) for x in s.logliks],
            "baselines": base,
        }
        if s.generated is not None:
            rec["gen_pred"] = chat.parse_answer_letter(s.generated, ls)
            rec["gen_correct"] = rec["gen_pred"] == it["answer_idx"]
            rec["generated"] = s.generated
        records.append(rec)
    fields = {"acc": "correct", "acc_norm": "correct_norm"}
    if gen_tokens > 0:
        fields["gen_acc"] = "gen_correct"

    def block(recs):
        return {
            name: metric([float(r[f]) for r in recs], n_resamples, seed)
            for name, f in fields.items()
        }

    by_cat: dict[str, list] = defaultdict(list)
    for r in records:
        by_cat[r["category"]].append(r)
    all_letters = sorted({k for ls in letters for k in ls})
    dist = Counter(r["pred"] for r in records)
    result: dict[str, Any] = {
        "metrics": block(records),
        "baselines": baseline_metrics(records, n_resamples, seed),
        "balance": check_balance(items).to_dict(),
        "categories": {c: block(rs) for c, rs in sorted(by_cat.items())},
        "letter_distribution": {k: dist.get(k, 0) for k in all_letters},
        "gold_letter_distribution": {
            k: Counter(r["gold"] for r in records).get(k, 0) for k in all_letters
        },
        "items": records,
    }
    if gen_tokens > 0:
        gen = Counter(r["gen_pred"] or "none" for r in records)
        result["gen_letter_distribution"] = {k: gen.get(k, 0) for k in [*all_letters, "none"]}
    return result


def _argmax_letters(logliks, letters, conts) -> tuple[str, str]:
    """(acc prediction, acc_norm prediction) from option log-likelihoods."""
    ll = np.asarray(logliks)
    # lm-eval's acc_norm: log-likelihood divided by the choice's length in characters.
    norm = ll / np.array([len(c) for c in conts], dtype=float)
    return letters[int(np.argmax(ll))], letters[int(np.argmax(norm))]


def score_options_only(lm: LoadedModel, items: Sequence[Row], conts, batch_questions: int):
    """The same continuations scored after the MCQ prompt with its question left empty."""
    contexts = [chat.render(chat.mcq_messages("", it["options"]), True) for it in items]
    return score_mcq(lm, contexts, conts, batch_questions, 0, None)


def evaluate_open(
    lm: LoadedModel,
    rows: Sequence[Row],
    *,
    n_resamples: int,
    seed: int,
    batch_size: int,
    max_new_tokens: int,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Free answers to open Taigi medical questions judged by their rubric
    (``rubric_recall``, ``rubric_violations``: share of answers breaking a rule), with chrF
    against the reference answer as a secondary figure."""
    prompts = [
        chat.render(
            [
                {"role": "system", "content": chat.SYSTEM_PROMPT},
                {"role": "user", "content": r["question"]},
            ],
            True,
        )
        for r in rows
    ]
    answers = generate(lm, prompts, max_new_tokens, batch_size, progress)
    return score_open(answers, rows, n_resamples=n_resamples, seed=seed)


def score_open(
    answers: Sequence[str], rows: Sequence[Row], *, n_resamples: int, seed: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Rubric and chrF metrics, and per-item records, for generated open answers."""
    refs = [r["reference"] for r in rows]
    chrf, sentence = chrf_metric(answers, refs, n_resamples, seed)
    judged = score_answers(answers, rows)
    recall = [j.recall for j in judged]
    broke = [float(bool(j.violations)) for j in judged]
    metrics = {
        "rubric_recall": metric(recall, n_resamples, seed),
        "rubric_violations": metric(broke, n_resamples, seed),
        "chrf": chrf,
    }
    items = []
    for r, a, v, j in zip(rows, answers, sentence, judged, strict=True):
        items.append(
            {
                "id": r["id"],
                "metric": "rubric_recall",
                "value": j.recall,
                "facts_found": j.facts_found,
                "violations": j.violations,
                "pred": a,
            }
        )
        items.append(
            {"id": r["id"], "metric": "rubric_violations", "value": float(bool(j.violations))}
        )
        items.append(
            {"id": r["id"], "metric": "chrf", "value": v, "pred": a, "gold": r["reference"]}
        )
    return metrics, items


def evaluate_general(
    lm: LoadedModel,
    sentences: Sequence[Row],
    pairs: Sequence[Row],
    *,
    n_resamples: int,
    seed: int,
    batch_size: int,
    max_new_tokens: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Bits per character on held-out Taigi Han sentences; chrF++ for ZH→Han and Han→Tâi-lô."""
    texts = [unicodedata.normalize("NFC", s["han"]) for s in sentences]
    bits = text_bits(lm, texts, batch_size, progress)
    chars = [max(len(t), 1) for t in texts]
    metrics: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    categories: dict[str, dict[str, Any]] = {}
    if texts:
        # Pooled over the corpus (total bits / total characters), so long sentences weigh more.
        metrics["bits_per_char"] = metric(bits, n_resamples, seed, weights=chars)
        items += [
            {"id": s["id"], "metric": "bits_per_char", "value": b / c, "bits": b, "chars": c}
            for s, b, c in zip(sentences, bits, chars, strict=True)
        ]
        by_source: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(sentences):
            by_source[str(s.get("source") or "all")].append(i)
        for src, idx in sorted(by_source.items()):
            categories.setdefault(src, {})["bits_per_char"] = metric(
                [bits[i] for i in idx], n_resamples, seed, weights=[chars[i] for i in idx]
            )
    # chrF++ (word_order=2): Tâi-lô has spaces between words, so word n-grams count there;
    # Han text has none, where it adds little beyond chrF.
    for direction, name in (("zh-han", "chrfpp_zh_han"), ("han-tl", "chrfpp_han_tl")):
        sub = [p for p in pairs if p["direction"] == direction]
        if not sub:
            continue
        prompts = [
            chat.render(translation_messages(direction, p["source_text"]), True) for p in sub
        ]
        # A translation needs about as many tokens as its source (Tâi-lô: a few per syllable).
        limits = [3 * len(lm.tokenizer.encode(p["source_text"])) + 8 for p in sub]
        hyps = generate(lm, prompts, max_new_tokens, batch_size, progress, limits)
        m, sentence = chrf_metric(
            hyps, [p["target_text"] for p in sub], n_resamples, seed, word_order=2
        )
        metrics[name] = m
        items += [
            {"id": p["id"], "metric": name, "value": v, "pred": h, "gold": p["target_text"]}
            for p, h, v in zip(sub, hyps, sentence, strict=True)
        ]
    return {"metrics": metrics, "categories": categories, "items": items}
