import numpy as np
import pytest

from taigimed.evaluate.stats import bootstrap_ci, mcnemar, paired_bootstrap


def test_bootstrap_ci_mean_interval_and_seed():
    values = [1.0] * 30 + [0.0] * 70
    point, low, high = bootstrap_ci(values, n_resamples=2000, seed=3)
    assert point == pytest.approx(0.3)
    assert low < 0.3 < high
    # Normal approximation: half width about 1.96 * sqrt(0.21 / 100) = 0.09.
    assert high - low == pytest.approx(2 * 1.96 * np.sqrt(0.21 / 100), abs=0.03)
    assert bootstrap_ci(values, n_resamples=500, seed=3) == bootstrap_ci(
        values, n_resamples=500, seed=3
    )


def test_bootstrap_ci_with_weights_is_ratio_of_sums():
    bits, chars = [10.0, 30.0, 20.0], [10, 10, 20]
    point, low, high = bootstrap_ci(bits, weights=chars, n_resamples=500, seed=0)
    assert point == pytest.approx(60.0 / 40.0)
    assert low <= point <= high
    with pytest.raises(ValueError, match="one entry per value"):
        bootstrap_ci(bits, weights=[1, 2])


def test_paired_bootstrap_detects_shift_and_aligns_ids():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    same = paired_bootstrap(a, a.copy())
    assert same["diff"] == 0 and same["p_value"] == 1.0
    better = paired_bootstrap(a, a + 0.5 + rng.normal(scale=0.1, size=200))
    assert better["diff"] > 0.4 and better["ci_low"] > 0 and better["p_value"] < 0.01
    d = paired_bootstrap({"x": 0.0, "y": 1.0, "only_a": 5.0}, {"y": 0.0, "x": 0.0, "only_b": 9})
    assert d["n"] == 2 and d["diff"] == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap([1, 2], [1, 2, 3])
    with pytest.raises(TypeError):
        paired_bootstrap({"a": 1.0}, [1.0])


def test_mcnemar_exact_binomial():
    a = [True] * 10 + [False] * 10 + [True] * 5
    b = [False] * 10 + [False] * 10 + [True] * 5
    r = mcnemar(a, b)
    assert (r["a_only"], r["b_only"], r["n"]) == (10, 0, 25)
    assert r["p_value"] == pytest.approx(2 * 0.5**10)
    assert mcnemar(a, a)["p_value"] == 1.0
    assert mcnemar({"q1": 1, "q2": 0}, {"q2": 1, "q1": 1})["b_only"] == 1
