"""Our option log-likelihood accuracy equals the real lm-evaluation-harness on the same prompts."""

import json
from pathlib import Path

import pytest

from taigimed.evaluate.crosscheck import lm_eval_mcq
from taigimed.evaluate.eval_sets import check_mcq, load_taigi_medical, stratified_sample
from taigimed.evaluate.suites import evaluate_mcq

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "evaluate"


def read_asset(name):
    return [json.loads(x) for x in (ASSETS / f"{name}.jsonl").open(encoding="utf-8") if x.strip()]


@pytest.mark.slow
def test_acc_equals_lm_eval(tiny_model_dir, tiny_lm, tmp_path):
    taigi = stratified_sample(load_taigi_medical()[0], 10, 0, key=lambda r: r["category"])
    items = taigi + check_mcq(read_asset("medqa_test"), "medqa_test")
    ref = lm_eval_mcq(Path(tiny_model_dir), items, tmp_path / "task")
    ours = evaluate_mcq(tiny_lm, items, n_resamples=100, seed=0, batch_questions=4, gen_tokens=0)
    assert ours["metrics"]["acc"]["value"] == pytest.approx(ref["acc"])
    assert ours["metrics"]["acc_norm"]["value"] == pytest.approx(ref["acc_norm"])
    for it in ours["items"]:
        theirs = ref["items"][it["id"]]
        assert it["logliks"] == pytest.approx(theirs["logliks"], abs=1e-3)
        assert float(it["correct"]) == theirs["acc"]
        assert float(it["correct_norm"]) == theirs["acc_norm"]
