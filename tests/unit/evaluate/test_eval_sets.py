import json
import re
from collections import Counter

import pytest

from taigimed.evaluate.eval_sets import (
    EvalDataError,
    builtin_set_dir,
    check_mcq,
    load_extra_mcq,
    load_taigi_medical,
    stratified_sample,
)

CATEGORIES = {"symptoms", "body_parts", "conditions", "medicines", "seek_care"}
HAN = re.compile(r"[\u4e00-\u9fff]")
TAILO_DIACRITIC = re.compile(r"[\u0300-\u030d]|[áàâāéèêēíìîīóòôōúùûū]|o͘")


def test_taigi_medical_set_schema_counts_and_balance():
    mcq, open_q = load_taigi_medical()
    raw = [json.loads(x) for x in (builtin_set_dir() / "taigi_medical_mcq.jsonl").open()]
    assert len(mcq) >= 150 and len(open_q) >= 30
    assert {r["category"] for r in mcq} == CATEGORIES
    assert min(Counter(r["category"] for r in mcq).values()) >= 25
    letters = Counter(r["answer_idx"] for r in mcq)
    assert set(letters) == {"A", "B", "C", "D"}
    assert max(letters.values()) - min(letters.values()) <= 1
    for row in raw:
        assert HAN.search(row["question"]), row["id"]
        assert row["tailo"].strip() and not HAN.search(row["tailo"]), row["id"]
        assert set(row["options"]) == {"A", "B", "C", "D"}
        assert row["options"][row["answer_idx"]] == row["answer"], row["id"]
        assert len(set(row["options"].values())) == 4, row["id"]
    # Tâi-lô is written with its tone diacritics, not as bare ASCII.
    assert sum(bool(TAILO_DIACRITIC.search(r["tailo"])) for r in raw) > 0.8 * len(raw)
    for row in open_q:
        assert row["tailo"].strip() and row["reference"].strip() and HAN.search(row["reference"])
    ids = [r["id"] for r in raw] + [r["id"] for r in open_q]
    assert len(ids) == len(set(ids))
    card = (builtin_set_dir() / "DATA_CARD.md").read_text(encoding="utf-8")
    assert "not clinically validated" in card.lower()


def _item(**kw):
    base = {"id": "q1", "question": "問題？", "options": {"A": "a", "B": "b"}, "answer_idx": "A"}
    return {**base, **kw}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_item(question=""), "'question'"),
        (_item(options={"A": "a", "C": "c"}), "A, B, C"),
        (_item(answer_idx="E"), "'answer_idx'"),
        (_item(options={"A": "a", "B": ""}), "non-empty"),
    ],
)
def test_check_mcq_names_the_bad_field(row, message):
    with pytest.raises(EvalDataError, match=message) as err:
        check_mcq([row], "exam.jsonl")
    assert "exam.jsonl item 1" in str(err.value)


def test_extra_mcq_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "exam.jsonl"
    bad.write_text(json.dumps(_item()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(EvalDataError, match=r"exam.jsonl:2: not valid JSON"):
        load_extra_mcq(bad)
    with pytest.raises(EvalDataError, match="not found"):
        load_extra_mcq(tmp_path / "missing.jsonl")
    good = tmp_path / "ok.jsonl"
    good.write_text(json.dumps({**_item(), "id": None}) + "\n", encoding="utf-8")
    assert load_extra_mcq(good)[0]["id"] == "ok-1"


def test_stratified_sample_is_seeded_and_proportional():
    rows = [{"i": i, "c": "big" if i < 80 else "small"} for i in range(100)]
    s1 = stratified_sample(rows, 20, seed=7, key=lambda r: r["c"])
    assert s1 == stratified_sample(rows, 20, seed=7, key=lambda r: r["c"])
    assert s1 != stratified_sample(rows, 20, seed=8, key=lambda r: r["c"])
    assert Counter(r["c"] for r in s1) == {"big": 16, "small": 4}
    assert [r["i"] for r in s1] == sorted(r["i"] for r in s1)
    assert stratified_sample(rows, None, 0, key=lambda r: r["c"]) == rows
    assert len(stratified_sample(rows, 7, 0, key=lambda r: r["c"])) == 7
