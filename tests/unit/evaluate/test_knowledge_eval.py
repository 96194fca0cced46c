"""Retrieval metrics and the rag grounding harness on the test cards."""

from __future__ import annotations

import json

import pytest

from taigimed.evaluate.knowledge import (
    QuestionSetError,
    evaluate_retrieval,
    load_questions,
    rag_grounding,
)

ROWS = [
    {"id": "q1", "question": "高血壓的人飲食要注意什麼？", "script": "mandarin_traditional",
     "cards": ["test-hypertension-salt"]},
    {"id": "q2", "question": "阮阿公跤頭趺足疼", "script": "taigi_han",
     "cards": ["test-knee-pain"]},
    {"id": "q3", "question": "明天會不會下雨要不要帶傘", "script": "mandarin_traditional",
     "cards": []},
]  # fmt: skip


def test_retrieval_metrics_per_script_and_abstention(test_kb):
    report = evaluate_retrieval(test_kb, ROWS, 3, None, n_resamples=100)  # the decision's own
    overall = report["overall"]
    assert overall["n_on_topic"] == 2 and overall["n_off_topic"] == 1
    assert overall["recall@1"]["value"] == 1.0 and overall["mrr"]["value"] == 1.0
    assert overall["abstention_recall"]["value"] == 1.0  # the weather question got no card
    assert set(report["by_script"]) == {"mandarin_traditional", "taigi_han"}
    wrong = [{**ROWS[0], "cards": ["test-quit-smoking"]}]
    assert (
        evaluate_retrieval(test_kb, wrong, 1, 0.0, n_resamples=100)["overall"]["recall@1"]["value"]
        == 0.0
    )


def test_a_question_set_naming_an_unknown_card_is_refused(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({**ROWS[0], "cards": ["no-such-card"]}) + "\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"q1\): unknown card id\(s\) \['no-such-card'\]"):
        load_questions(path, {"test-hypertension-salt"})
    path.write_text('{"id": "x", "question": "q"}\n', encoding="utf-8")
    with pytest.raises(QuestionSetError, match="missing 'script'"):
        load_questions(path)


def test_rag_grounding_asks_only_answered_questions_and_judges_every_answer(test_kb, tiny_lm):
    report = rag_grounding(test_kb, tiny_lm, ROWS, 3, None, 0.6, max_new_tokens=12, n_resamples=100)
    assert report["n"] == 2  # the off-topic question never reaches the model
    assert sum(report["verdicts"].values()) == 2
    assert set(report["verdicts"]) <= {
        "shown", "loop", "echo", "repeat", "wrong_script", "unsupported", "empty"
    }  # fmt: skip
    shown = report["verdicts"].get("shown", 0)
    assert report["grounding_rate"]["value"] == shown / 2
