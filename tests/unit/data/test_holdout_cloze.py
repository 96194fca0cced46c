"""Held-out evaluation material: the stratified parallel hold-out and the Sinica cloze set."""

from __future__ import annotations

from collections import Counter

from taigimed.data.cloze import BLANK, build_cloze
from taigimed.data.holdout import stratified_holdout
from taigimed.evaluate.balance import check_balance


def test_stratified_holdout_is_exact_proportional_and_stable():
    rows = [{"id": f"p{i}", "topic": "health" if i < 60 else "food"} for i in range(100)]
    held = stratified_holdout(rows, 50, seed=3, stratum=lambda r: r["topic"])
    assert len(held) == 50
    by_topic = Counter("health" if int(i[1:]) < 60 else "food" for i in held)
    assert by_topic == {"health": 30, "food": 20}
    # Adding rows elsewhere does not reshuffle who is held out within a topic.
    more = [*rows, {"id": "x1", "topic": "travel"}]
    again = stratified_holdout(more, 50, seed=3, stratum=lambda r: r["topic"])
    assert len(held & again) >= 45
    assert stratified_holdout(rows, 500, 3, lambda r: r["topic"]) == {r["id"] for r in rows}
    assert stratified_holdout(rows, 0, 3, lambda r: r["topic"]) == set()


def _sentences(prefix: str, n: int) -> list[dict]:
    vocab2 = ["阿公", "阿媽", "學校", "公園", "病院", "車站", "菜市", "廟口", "銀行", "厝內"]
    verbs = ["行路", "食飯", "讀冊", "唱歌", "洗衫", "駛車", "睏晝", "買菜", "寫字", "跳舞"]
    out = []
    for i in range(n):
        a, b = vocab2[i % 10], verbs[(i * 3) % 10]
        words = ["伊", "今仔日", "佇", a, b]
        out.append({"id": f"{prefix}-{i:06d}", "han": "".join(words) + "。", "words": words})
    return out


def test_cloze_items_come_from_test_sentences_and_carry_no_length_or_letter_signal():
    train, test = _sentences("train", 200), _sentences("sinica", 40)
    items = build_cloze(test, train, n=40, seed=1)
    assert 30 <= len(items) <= 40
    test_ids = {s["id"] for s in test}
    for it in items:
        sid = it["id"].removeprefix("cloze-")
        assert sid in test_ids
        sentence = next(s for s in test if s["id"] == sid)
        assert BLANK in it["question"] and it["answer"] not in it["question"]
        assert it["options"][it["answer_idx"]] == it["answer"]
        assert len(set(it["options"].values())) == 4
        assert len({len(o) for o in it["options"].values()}) == 1  # one length for all
        assert not set(it["options"].values()) - {it["answer"]} & set(sentence["words"])
    report = check_balance(items)
    assert report.passed, report.summary()
    assert build_cloze(test, train, n=40, seed=1) == items  # seeded
    assert build_cloze(test, train, n=0, seed=1) == []
