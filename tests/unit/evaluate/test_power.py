import math

import pytest

from taigimed.evaluate import power, stats


def test_mde_matches_the_closed_form_and_shrinks_with_n():
    # (1.96 + 0.84) * sqrt(0.5 / 150) ≈ 0.162
    assert power.mde_binary(150, 0.5) == pytest.approx(0.1617, abs=1e-3)
    assert power.mde_binary(600, 0.5) == pytest.approx(power.mde_binary(150, 0.5) / 2)
    assert power.n_for_mde(0.15) == 175
    assert power.mde_binary(power.n_for_mde(0.1), 0.5) <= 0.1
    assert math.isinf(power.mde_binary(0, 0.5))
    with pytest.raises(ValueError, match="detectable difference"):
        power.n_for_mde(1.5)


def test_set_power_states_n_and_basis():
    out = power.set_power(
        {"acc": {}, "chrf": {}}, {"acc": [1.0, 0.0] * 50, "chrf": [10.0, 30.0] * 50}, 0.05, 0.8
    )
    assert out["acc"]["n"] == 100 and "McNemar" in out["acc"]["basis"]
    assert out["acc"]["mde"] == pytest.approx(power.mde_binary(100, 0.5))
    assert "bootstrap" in out["chrf"]["basis"] and out["chrf"]["mde"] > 0


def test_above_baseline_one_sided_tests():
    model = [1] * 40 + [0] * 60
    assert stats.above_baseline(model, [0.25] * 100)["p_value"] < 0.01  # 0.40 vs chance
    same = stats.above_baseline(model, model)
    assert same["p_value"] == 1.0 and same["test"] == "one-sided McNemar"
    # Worse than the baseline: a one-sided test never calls that "above".
    assert stats.above_baseline([0] * 100, [0.25] * 100)["p_value"] > 0.5


def test_no_variation_never_claims_a_zero_detectable_difference():
    out = power.set_power(
        {"gen_acc": {}, "chrf": {}}, {"gen_acc": [0.0] * 40, "chrf": [0.0] * 40}, 0.05, 0.8
    )
    assert out["gen_acc"]["mde"] == pytest.approx(power.mde_binary(40, 0.5))
    assert "worst-case" in out["gen_acc"]["basis"]
    assert out["chrf"]["mde"] is None and "not estimable" in out["chrf"]["basis"]
