"""Position and length balance of every shipped MCQ set, and the check failing a biased copy."""

from __future__ import annotations

import json

import pytest

from taigimed.evaluate.balance import check_balance, option_length
from taigimed.evaluate.baselines import baseline_metrics, item_baselines
from taigimed.evaluate.eval_sets import builtin_set_dir, check_mcq, read_jsonl


def _shipped_mcq_sets():
    # The authored evaluation sets, and the demo MedQA sample used when no MedQA is configured.
    demo = builtin_set_dir().parents[1] / "data" / "demo" / "medqa_tw_demo.jsonl"
    return [*sorted(builtin_set_dir().glob("*_mcq.jsonl")), demo]


@pytest.mark.parametrize("path", _shipped_mcq_sets(), ids=lambda p: p.name)
def test_every_shipped_mcq_set_is_balanced(path):
    items = check_mcq(read_jsonl(path), str(path))
    report = check_balance(items)
    assert report.passed, report.summary()
    assert report.longest_share <= 0.30 and report.shortest_share >= 0.20


def test_a_length_only_baseline_is_within_chance_on_the_taigi_medical_set():
    items = check_mcq(read_jsonl(builtin_set_dir() / "taigi_medical_mcq.jsonl"), "mcq")
    records = [{"baselines": b} for b in item_baselines(items, seed=0)]
    m = baseline_metrics(records, n_resamples=1000, seed=0)
    chance = m["chance"]["value"]
    for name in ("always_longest", "always_shortest", "majority_letter"):
        assert m[name]["ci_low"] <= chance <= m[name]["ci_high"], (name, m[name])


def test_a_length_biased_copy_fails_the_check(tmp_path):
    """Broken input: make every correct option the longest by padding it."""
    items = check_mcq(read_jsonl(builtin_set_dir() / "taigi_medical_mcq.jsonl"), "mcq")
    biased = []
    for it in items:
        longest = max(option_length(v) for v in it["options"].values())
        opts = dict(it["options"])
        gold = it["answer_idx"]
        opts[gold] = opts[gold] + "，" + "足" * (longest - option_length(opts[gold]) + 2)
        biased.append({**it, "options": opts})
    report = check_balance(biased)
    assert not report.passed
    assert report.correct_longest == len(items)
    assert "lengthen distractors" in report.problems[0]
    assert "longest in 100%" in report.summary()


def test_letter_habit_is_caught():
    items = [
        {"options": {"A": "aa", "B": "b", "C": "ccc", "D": "dd"}, "answer_idx": "A"}
        for _ in range(20)
    ]
    report = check_balance(items)
    assert any("letter A holds 100%" in p for p in report.problems)
    records = [{"baselines": b} for b in item_baselines(items, seed=0)]
    assert baseline_metrics(records, 200, 0)["majority_letter"]["value"] == 1.0


def test_cli_prints_the_check_for_an_extra_file(tmp_path):
    from typer.testing import CliRunner

    from taigimed.cli import app

    rows = [
        {
            "id": f"q{i}",
            "question": "問？",
            "options": {"A": "長長長長的答案", "B": "短"},
            "answer_idx": "A",
        }
        for i in range(10)
    ]
    path = tmp_path / "exam.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = CliRunner().invoke(app, ["eval", "--extra-mcq", str(path)])
    assert out.exit_code == 1, out.output
    assert "NOT balanced" in out.output and "exam.jsonl" in out.output
