"""The MedRAG-style cross-check on the tiny model: closed and open book on the same items."""

from __future__ import annotations

import json

import pytest

from support import ASSETS, write_prepared
from taigimed import chat
from taigimed.config import load_config
from taigimed.evaluate.medrag import medrag_crosscheck, textbook_index
from taigimed.workdir import Workdir

BOOK = [
    ("textbooks-a-00000", "高血壓病人應減少鈉攝取，每日食鹽宜少，並規律運動。"),
    ("textbooks-a-00001", "痛風急性發作時關節紅腫熱痛，尿酸結晶沉積於關節。"),
    ("textbooks-a-00002", "糖尿病足部潰瘍需每日檢查足部，避免赤腳行走。"),
]


def read_asset(name: str) -> list[dict]:
    lines = (ASSETS / "evaluate" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def _record(doc_id: str, text: str) -> dict:
    return {
        "id": doc_id, "source": "textbooks", "kind": "text", "messages": [], "text": text,
        "difficulty": 0.0, "phase": 0,
    }  # fmt: skip


@pytest.fixture()
def prepared(tmp_path):
    rows = [_record(i, t) for i, t in BOOK]
    rows.append({**_record("medqa-x", ""), "source": "medqa", "kind": "chat"})
    folder = tmp_path / "data" / "v1"
    return write_prepared(folder, {"medqa_test": read_asset("medqa_test"), "stage1_train": rows})


def test_the_open_book_prompt_puts_the_reference_first():
    text = chat.mcq_user_prompt("問題文字", {"A": "甲", "B": "乙"}, context="參考的段落")
    assert text.startswith("參考資料：\n參考的段落\n")
    assert chat.mcq_user_prompt("問題文字", {"A": "甲"}) == chat.mcq_user_prompt(
        "問題文字", {"A": "甲"}, context=None
    )


def test_the_textbook_index_is_built_once_and_finds_the_chunk(prepared, tmp_path):
    from taigimed.evaluate.eval_sets import open_prepared

    wd = Workdir.resolve(tmp_path / "w")
    index, chunks = textbook_index(wd, open_prepared(prepared))
    assert set(chunks) == {i for i, _ in BOOK}  # textbook text only, not MedQA chat records
    assert index.search("痛風發作關節腫痛", 1)[0].doc_id == "textbooks-a-00001"
    again, _ = textbook_index(wd, open_prepared(prepared))  # loaded from disk
    assert again.doc_ids == index.doc_ids


def test_closed_and_open_book_scores_are_paired(prepared, tiny_model_dir, tmp_path):
    cfg = load_config("tiny")
    wd = Workdir.resolve(tmp_path / "w")
    report = medrag_crosscheck(cfg, wd, tiny_model_dir, n=6, k=2, data_dir=prepared)
    assert report["n"] == 6 and report["textbook_chunks"] == 3
    assert set(report["closed_book"]) == set(report["open_book"]) == {"acc", "acc_norm"}
    p = report["paired"]
    assert p["n"] == 6 and p["diff"] == (p["b_only"] - p["a_only"]) / 6
    assert len(report["items"]) == 6


def test_no_textbooks_is_a_clear_error(tmp_path):
    from taigimed.evaluate.eval_sets import open_prepared

    folder = write_prepared(
        tmp_path / "data" / "v2",
        {
            "medqa_test": read_asset("medqa_test"),
            "stage1_train": [_record("m", "x") | {"source": "medqa"}],
        },
    )
    with pytest.raises(ValueError, match="no textbook chunks"):
        textbook_index(Workdir.resolve(tmp_path / "w"), open_prepared(folder))
