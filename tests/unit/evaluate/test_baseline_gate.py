"""The gate against question-free baselines: a model that only follows option length fails.

The "models" here are scorers plugged in where the language model's option scorer sits,
so everything after scoring (predictions, baselines, options-only pass, report fields, the
gate's one-sided tests) runs for real on the shipped, balanced Taigi medical set.
"""

from __future__ import annotations

import pytest

from taigimed.evaluate import suites
from taigimed.evaluate.config import GateConfig
from taigimed.evaluate.eval_sets import load_taigi_medical
from taigimed.evaluate.gate import decide
from taigimed.evaluate.scoring import MCQScore

KEYS = ["taigi_medical.acc", "taigi_medical.acc_norm"]


def _length_lover(lm, contexts, continuations, batch_questions, gen_tokens, progress):
    # Higher "log-likelihood" for longer options, whatever the question: pure length habit.
    return [MCQScore([float(len(c)) for c in conts], None) for conts in continuations]


def _knower(items):
    by_question = {it["question"]: it for it in items}

    def score(lm, contexts, continuations, batch_questions, gen_tokens, progress):
        out = []
        for ctx, conts in zip(contexts, continuations, strict=True):
            item = next((it for q, it in by_question.items() if f"問題：{q}\n" in ctx), None)
            gold = item["answer_idx"] if item else "A"  # without the question: letter A
            out.append(MCQScore([0.0 if c.startswith(gold + ".") else -9.0 for c in conts], None))
        return out

    return score


def _report(monkeypatch, scorer) -> dict:
    items, _ = load_taigi_medical()
    monkeypatch.setattr(suites, "score_mcq", scorer)
    res = suites.evaluate_mcq(
        None,
        items,
        n_resamples=200,
        seed=0,
        batch_questions=8,
        gen_tokens=0,
        options_only=True,
    )
    return {"schema": 1, "sets": {"taigi_medical": res}}


def test_a_length_biased_model_fails_the_gate(monkeypatch):
    report = _report(monkeypatch, _length_lover)
    res = report["sets"]["taigi_medical"]
    # On the balanced set its accuracy is the always-longest baseline, i.e. about chance.
    assert res["metrics"]["acc"]["value"] == pytest.approx(
        res["baselines"]["always_longest"]["value"], abs=0.05
    )
    assert res["metrics"]["acc"]["ci_low"] <= 0.25 <= res["metrics"]["acc"]["ci_high"]
    assert res["baselines"]["options_only_acc"]["value"] == res["metrics"]["acc"]["value"]
    d = decide(report, GateConfig(above_baseline=KEYS), stage2_metrics=None)
    assert not d.passed
    failed = [c for c in d.checks if c.name.startswith("taigi_medical.acc") and not c.passed]
    assert len(failed) == 2, d.reasons
    assert all("one-sided" in c.detail for c in failed)


def test_a_model_that_reads_the_question_passes(monkeypatch):
    items, _ = load_taigi_medical()
    report = _report(monkeypatch, _knower(items))
    res = report["sets"]["taigi_medical"]
    assert res["metrics"]["acc"]["value"] == 1.0
    assert res["baselines"]["options_only_acc"]["value"] == pytest.approx(38 / 150)
    gate = GateConfig(above_baseline=KEYS, min_stage2_gain=None, forgetting_before=None)
    d = decide(report, gate)
    assert d.passed, d.reasons


def test_advisory_mode_records_but_does_not_block(monkeypatch):
    report = _report(monkeypatch, _length_lover)
    gate = GateConfig(
        above_baseline=KEYS,
        above_baseline_advisory=True,
        min_stage2_gain=None,
        forgetting_before=None,
    )
    d = decide(report, gate)
    assert d.passed
    assert any(r.startswith("advisory, not blocking: taigi_medical.acc") for r in d.reasons)
    assert any("smoke test" in r for r in d.reasons)
    assert [c.blocking for c in d.checks] == [False, False]
