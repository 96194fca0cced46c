import pytest
import sacrebleu

from taigimed.evaluate.metrics import chrf_metric, item_values


def test_chrf_metric_equals_sacrebleu_corpus_chrf():
    hyps = ["我的頭殼足疼。", "你今仔日有食藥無？", "Guá ê thâu-khak thiànn.", ""]
    refs = ["我的頭殼足疼。", "你今仔日有食藥仔無？", "Guá ê thâu-khak tsiok thiànn.", "腹肚疼"]
    m, sentence = chrf_metric(hyps, refs, n_resamples=300, seed=1)
    assert m["value"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert m["n"] == 4 and m["ci_low"] <= m["value"] <= m["ci_high"]
    assert sentence[0] == pytest.approx(100.0) and sentence[3] == 0.0


def test_item_values_per_metric():
    res = {
        "items": [
            {"id": "a", "correct": True, "correct_norm": False},
            {"id": "b", "correct": False, "correct_norm": True},
            {"id": "s1", "metric": "bits_per_char", "value": 3.5},
        ],
        "open_items": [{"id": "o1", "metric": "chrf", "value": 12.0}],
    }
    assert item_values(res, "acc") == {"a": 1.0, "b": 0.0}
    assert item_values(res, "acc_norm") == {"a": 0.0, "b": 1.0}
    assert item_values(res, "bits_per_char") == {"s1": 3.5}
    assert item_values(res, "chrf") == {"o1": 12.0}
    with pytest.raises(KeyError, match="chrf_zh_han"):
        item_values(res, "chrf_zh_han")
