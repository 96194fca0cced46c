"""Canary decisions from measured figures, and the Prometheus client's errors."""

from __future__ import annotations

import pytest

from support import free_port
from taigimed.monitor.analyze import (
    EXIT_INCONCLUSIVE,
    EXIT_PROMOTE,
    EXIT_ROLLBACK,
    Side,
    Verdict,
    decide,
    instance_selector,
)
from taigimed.monitor.config import CanaryConfig
from taigimed.monitor.prometheus import PrometheusClient, PrometheusError

CFG = CanaryConfig()


def side(**kw) -> Side:
    base = dict(
        url="http://c",
        selector='instance="c:80"',
        ready=True,
        requests=100.0,
        errors=0.0,
        error_rate=0.0,
        ttft_quantile_s=0.2,
        feedback=0.0,
        negative_feedback_ratio=None,
    )
    base.update(kw)
    return Side(**base)


def test_healthy_canary_is_promoted_with_reasons():
    decision, reasons = decide(side(), side(url="http://b"), CFG)
    assert decision == "promote"
    assert any("error rate" in r for r in reasons)
    assert any("TTFT" in r for r in reasons)


def test_errors_roll_back():
    decision, reasons = decide(side(errors=30, error_rate=0.3), side(), CFG)
    assert decision == "rollback"
    assert "above the ceiling" in reasons[0]


def test_small_error_increase_over_baseline_rolls_back():
    cfg = CanaryConfig(max_error_rate=0.5, max_error_rate_increase=0.01)
    decision, reasons = decide(side(error_rate=0.04), side(error_rate=0.01), cfg)
    assert decision == "rollback"
    assert "exceeds baseline" in reasons[0]


def test_slow_first_token_rolls_back():
    decision, reasons = decide(side(ttft_quantile_s=2.0), side(ttft_quantile_s=0.3), CFG)
    assert decision == "rollback"
    assert "TTFT" in reasons[0]


def test_not_ready_canary_rolls_back_even_without_traffic():
    decision, reasons = decide(side(ready=False, requests=0.0), side(), CFG)
    assert decision == "rollback"
    assert "not ready" in reasons[0]


def test_too_little_traffic_is_inconclusive():
    decision, reasons = decide(side(requests=3.0), side(), CFG)
    assert decision == "inconclusive"
    assert "min_requests" in reasons[0]


def test_negative_feedback_judged_only_with_enough_feedback():
    few = decide(side(feedback=3.0, negative_feedback_ratio=1.0), side(), CFG)
    assert few[0] == "promote"
    many = decide(
        side(feedback=40.0, negative_feedback_ratio=0.5),
        side(feedback=40.0, negative_feedback_ratio=0.1),
        CFG,
    )
    assert many[0] == "rollback"
    assert "negative-feedback" in many[1][0]


def test_no_ttft_samples_on_canary_rolls_back():
    decision, reasons = decide(side(ttft_quantile_s=None), side(), CFG)
    assert decision == "rollback"
    assert "no time-to-first-token samples" in reasons[0]


@pytest.mark.parametrize(
    ("decision", "code"),
    [("promote", EXIT_PROMOTE), ("rollback", EXIT_ROLLBACK), ("inconclusive", EXIT_INCONCLUSIVE)],
)
def test_exit_codes(decision, code):
    assert Verdict(decision).exit_code == code


def test_instance_selector():
    assert instance_selector("http://127.0.0.1:8001/") == 'instance="127.0.0.1:8001"'
    assert (
        instance_selector("https://taigimed.example.org") == 'instance="taigimed.example.org:443"'
    )
    with pytest.raises(ValueError, match="not a server URL"):
        instance_selector("http://")


def test_unreachable_prometheus_names_the_url():
    port = free_port()  # nothing listens there
    with pytest.raises(PrometheusError, match=f"127.0.0.1:{port}"):
        PrometheusClient(f"http://127.0.0.1:{port}", timeout_s=2).query("up")
