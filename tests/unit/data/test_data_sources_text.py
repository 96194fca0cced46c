"""Textbook, Sinica and parallel connectors on hand-made files."""

from pathlib import Path

import pytest

from taigimed.data.config import DataConfig
from taigimed.data.parallel_corpus import load_parallel
from taigimed.data.report import SourceReport
from taigimed.data.sinica import load_sinica, parse_sentence
from taigimed.data.textbooks import chunk_paragraphs, load_textbooks

DATA_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "data"


def test_textbook_rules_and_conversion():
    report = SourceReport("textbooks")
    cfg = DataConfig(min_text_chars=10, workers=1)
    chunks = load_textbooks(sorted((DATA_ASSETS / "textbooks").glob("*.txt")), cfg, report)
    text = "\n".join(c["text"] for c in chunks)
    assert report.removed["running_header"] == 2  # "2第一篇结论", "44第—篇常见症状"
    assert report.removed["page_number_line"] == 1
    assert report.removed["dot_leader_or_ocr_noise"] == 1
    assert report.removed["bare_heading"] == 2  # 第一篇绪论, 一、内科学概况
    assert report.removed["bibliography"] == 1
    assert report.removed["empty_line"] >= 1
    assert report.cleaned["ocr_fix"] == 1
    assert "步驟1：戴帽子" in text and "個人防護" in text and "消毒人員" in text  # OCR fixes
    assert "軟體" in text and "醫學探索疾病" in text  # s2twp with Taiwan terms
    assert "医" not in text
    assert report.read == sum(report.removed.values()) + 3  # three paragraphs kept


def test_chunking_respects_size_and_sentences():
    paras = ["甲" * 30 + "。", "乙" * 30 + "。", "丙" * 100 + "。" + "丁" * 20 + "。"]
    chunks = chunk_paragraphs(paras, 70)
    assert all(len(c) <= 110 for c in chunks)
    assert "".join(chunks).replace("\n", "") == "".join(paras)


def test_sinica_sentence_rebuilt_as_han_and_tailo():
    han, tailo, unified = parse_sentence(
        "一｜tsit8 丈｜tng7 差｜tsha1 ，｜, 差｜tsha1 遠-咧｜hng7-0leh4 。｜."
    )
    assert han == "一丈差，差遠咧。"
    assert tailo == "tsi̍t tn̄g tsha，tsha hn̄g--leh。"
    assert unified  # the ASCII "," and "." on the Tâi-lô side took the Han marks


def test_sinica_filters():
    report = SourceReport("sinica")
    rows = load_sinica(DATA_ASSETS / "sinica_small.txt", DataConfig(), report)
    assert report.read == 12
    assert report.removed["repeated_byline"] == 4
    assert report.removed["token_without_tailo"] == 1
    tailos = {r["tailo"] for r in rows}
    assert "i kóng SpO2 siunn kē，ài khì pēnn-īnn。" in tailos  # SpO2 untouched
    assert "thái-ià phuà--khì ah。" in tailos  # loanword marker and neutral tone
    assert len(rows) == 7  # the exact duplicate is left to the dedup step
    # Each row keeps its own segmentation (the cloze set blanks one of these words).
    for r in rows:
        assert r["words"] and all(w in r["han"] for w in r["words"]), r
    assert len({tuple(r["words"]) for r in rows}) == len({r["han"] for r in rows})


def test_parallel_complete_rows_only():
    report = SourceReport("parallel")
    rows = load_parallel(DATA_ASSETS / "parallel.jsonl", DataConfig(), report)
    assert len(rows) == 3
    assert report.removed == {"incomplete_row_no_translation": 1}
    assert rows[0] == {
        "id": "parallel-1",
        "source": "parallel",
        "zh": "我今天頭很痛。",
        "han": "我今仔日頭足疼。",
        "tailo": "guá kin-á-ji̍t thâu tsiok thiànn。",
        "topic": "none",  # the fixture has no Topic column; the hold-out stratifies by it
    }


def test_unreadable_textbook_reported(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(ValueError, match=r"bad\.txt: not UTF-8"):
        load_textbooks([bad], DataConfig(workers=1), SourceReport("textbooks"))
