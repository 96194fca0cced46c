"""Open answers judged by their rubric: facts found, forbidden advice caught."""

from __future__ import annotations

import json

import pytest

from taigimed.evaluate.eval_sets import EvalDataError, builtin_set_dir, load_taigi_medical
from taigimed.evaluate.rubric import check_rubric, score_answer
from taigimed.evaluate.suites import score_open


def test_every_reference_answer_earns_its_whole_rubric():
    _, open_rows = load_taigi_medical()
    for row in open_rows:
        s = score_answer(row["reference"], row)
        assert s.recall == 1.0 and not s.violations, (row["id"], s)


def test_unsafe_and_empty_answers_score_badly():
    _, open_rows = load_taigi_medical()
    row = next(r for r in open_rows if r["id"] == "tmo-conditions-03")  # stroke warning signs
    bad = score_answer("免看醫生，食兩粒阿斯匹靈就好。", row)
    assert set(bad.violations) == {"a dose", "no need to see a doctor"}
    assert bad.recall == 0.0
    # Simplified Chinese is judged like Traditional (the pipeline's s2twp).
    assert score_answer("你不需要去看医生", row).violations == ["no need to see a doctor"]
    half = score_answer("伊若喙歪、講話大舌，愛隨敲 119。", row)
    assert 0.5 <= half.recall < 1.0 and not half.violations


def test_score_open_reports_rubric_first_and_chrf_second():
    _, open_rows = load_taigi_medical()
    rows = open_rows[:6]
    answers = [r["reference"] for r in rows[:3]] + ["毋免看醫生。"] * 3
    metrics, items = score_open(answers, rows, n_resamples=200, seed=0)
    assert list(metrics) == ["rubric_recall", "rubric_violations", "chrf"]
    assert metrics["rubric_violations"]["value"] == pytest.approx(0.5)
    assert 0.5 <= metrics["rubric_recall"]["value"] < 0.75
    assert {it["metric"] for it in items} == {"rubric_recall", "rubric_violations", "chrf"}


def test_a_missing_or_broken_rubric_is_a_clear_error(tmp_path):
    src = builtin_set_dir()
    (tmp_path / "taigi_medical_mcq.jsonl").write_text(
        (src / "taigi_medical_mcq.jsonl").read_text(encoding="utf-8"), encoding="utf-8"
    )
    rows = [json.loads(x) for x in (src / "taigi_medical_open.jsonl").open(encoding="utf-8")]
    rows[1].pop("key_facts")
    with (tmp_path / "taigi_medical_open.jsonl").open("w", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    with pytest.raises(EvalDataError, match=r"taigi_medical_open.jsonl:2: 'key_facts'"):
        load_taigi_medical(tmp_path)
    with pytest.raises(ValueError, match="must_not pattern"):
        check_rubric({"key_facts": [["a"]], "must_not": ["(unclosed"]}, "q1")
