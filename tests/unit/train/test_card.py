"""The model card states the deployment gate's forgetting check, never a second bound."""

from __future__ import annotations

import pytest

from taigimed.config import ConfigError, load_config
from taigimed.evaluate.gate import decide
from taigimed.train.card import write_model_card

RUN = {
    "run_name": "stage2-test",
    "base_model": "tiny-random",
    "start_model": "runs/stage1/model",
    "data_version": "v-test",
    "data_dir": "data/v-test",
    "config_fingerprint": "f" * 64,
    "mlflow_run_id": "abc",
}


def _card(tmp_path, cfg, before: float, after: float) -> str:
    metrics = {"medical_val_loss_before": before, "medical_val_loss_after": after}
    write_model_card(tmp_path / "card.md", cfg, 2, {**RUN, "metrics": metrics})
    return (tmp_path / "card.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("after", "passes"), [(2.09, True), (2.16, False)])
def test_card_and_gate_give_the_same_verdict(tmp_path, after, passes):
    cfg = load_config("gpu-7b")  # max_forgetting 0.05: a 4.5 % rise passes, 8 % does not
    card = _card(tmp_path, cfg, 2.0, after)
    rise = f"{(after - 2.0) / 2.0:+.1%}"  # +4.5% or +8.0%, worked out here
    assert f"medical validation loss rose by {rise}, " in card
    assert ("within the bound of 5%" in card) is passes
    assert ("**exceeds** the bound of 5%" in card) is not passes
    metrics = {"medical_val_loss_before": 2.0, "medical_val_loss_after": after}
    cfg.gate.min_stage2_gain = None
    gate = decide({"sets": {}}, cfg.gate.model_copy(update={"at_least": {}, "at_most": {}}),
                  stage2_metrics=metrics)  # fmt: skip
    forgetting = next(c for c in gate.checks if c.name.startswith("forgetting"))
    assert forgetting.passed is passes


def test_card_says_when_the_check_cannot_be_computed(tmp_path):
    cfg = load_config("tiny")
    write_model_card(tmp_path / "card.md", cfg, 2, {**RUN, "metrics": {}})
    assert "not computed: stage 2 run.json lacks medical_val_loss_before" in (
        tmp_path / "card.md"
    ).read_text(encoding="utf-8")


def test_the_old_training_bound_is_refused():
    with pytest.raises(ConfigError, match=r"train\.forgetting_bound"):
        load_config("tiny", ["train.forgetting_bound=0.1"])
