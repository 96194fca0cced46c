"""MedQA connector: every cleaning rule and filter on hand-made rows, and bad input."""

from pathlib import Path

import pytest

from taigimed.data.config import DataConfig
from taigimed.data.medqa import category, load_medqa
from taigimed.data.report import DataFormatError, SourceReport

DATA_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "data"


def _load(files, on_error="raise"):
    report = SourceReport("medqa", on_error)
    rows = load_medqa(files, DataConfig(), report, "medqa")
    return rows, report


def test_filters_count_every_reason():
    rows, report = _load({"dev": DATA_ASSETS / "medqa" / "dev.jsonl"})
    assert report.read == 18
    assert dict(report.removed) == {
        "question_is_exam_number": 1,
        "depends_on_previous_question": 1,
        "refers_to_missing_figure": 1,
        "question_too_short": 1,
        "duplicate_options": 1,
        "answer_idx_not_an_option": 1,
        "answer_text_mismatch": 1,
    }
    # duplicates are left to the dedup step; 10 good rows + 1 exact duplicate survive here
    assert len(rows["dev"]) == 11
    assert report.read == len(rows["dev"]) + sum(report.removed.values())


def test_cleaning_rules_apply_and_are_counted():
    rows, report = _load({"dev": DATA_ASSETS / "medqa" / "dev.jsonl"})
    questions = [r["question"] for r in rows["dev"]]
    assert "有關流感疫苗的敘述，下列何者正確？" in questions  # "15 " stripped
    assert report.cleaned["leading_exam_number"] == 1
    assert any("血列異常" in q for q in questions)  # U+F99C folded by NFC
    assert any(q.startswith("血液檢查") for q in questions)  # Kangxi ⾎ folded
    assert any(q.startswith("HbA1c 7%代表") for q in questions)  # full-width folded
    assert report.cleaned["compatibility_ideographs_folded"] == 1
    assert report.cleaned["kangxi_radicals_folded"] == 1
    assert report.flagged["private_use_characters"] == 1
    first = rows["dev"][0]
    assert set(first) >= {"id", "question", "options", "answer_idx", "answer", "category", "source"}
    assert first["answer"] == first["options"][first["answer_idx"]]


def test_malformed_json_names_file_and_line():
    path = DATA_ASSETS / "medqa_malformed.jsonl"
    with pytest.raises(DataFormatError, match=r"medqa_malformed\.jsonl:2: malformed JSON"):
        _load({"dev": path})


def test_skip_counts_and_reports_bad_rows():
    rows, report = _load({"dev": DATA_ASSETS / "medqa_malformed.jsonl"}, on_error="skip")
    assert len(rows["dev"]) == 2
    assert len(report.skipped) == 2
    assert "medqa_malformed.jsonl:2: malformed JSON" in report.skipped[0]
    assert ":4: MedQA schema: 'options' must be an object" in report.skipped[1]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("懷孕 20 週的孕婦出現下列何種症狀需就醫？", "obstetrics_gynecology"),
        ("服用抗凝血藥物 warfarin 的劑量調整？", "pharmacology"),
        ("下列關於人體的敘述何者正確？", "general"),
    ],
)
def test_category(question, expected):
    assert category(question) == expected
