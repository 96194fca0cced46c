"""The deployment gate on hand-made reports: floors, champion regressions, forgetting."""

from __future__ import annotations

import pytest

from taigimed.evaluate.config import GateConfig
from taigimed.evaluate.gate import GateDecision, decide, metric_value


def _report(correct: list[bool], bpc: list[float] | None = None) -> dict:
    items = [{"id": f"q{i}", "correct": c, "correct_norm": c} for i, c in enumerate(correct)]
    acc = sum(correct) / len(correct)
    sets = {
        "medqa_tw": {
            "metrics": {"acc": {"value": acc, "n": len(correct), "ci_low": 0, "ci_high": 1}},
            "items": items,
        }
    }
    if bpc is not None:
        sets["taigi_general"] = {
            "metrics": {"bits_per_char": {"value": sum(bpc) / len(bpc), "n": len(bpc)}},
            "items": [
                {"id": f"s{i}", "metric": "bits_per_char", "value": v} for i, v in enumerate(bpc)
            ],
        }
    return {"schema": 1, "sets": sets}


STAGE2_OK = {
    "medical_val_loss_before": 2.0,
    "medical_val_loss_after": 2.1,
    "val_loss_before": 4.0,
    "val_loss_after": 3.0,
}


def test_floors_and_ceilings():
    gate = GateConfig(at_least={"medqa_tw.acc": 0.5}, at_most={"taigi_general.bits_per_char": 5.0})
    good = _report([True] * 6 + [False] * 4, bpc=[4.0] * 10)
    d = decide(good, gate, stage2_metrics=STAGE2_OK)
    assert d.passed, d.reasons
    assert {c.name for c in d.checks} >= {"medqa_tw.acc >= 0.5", "taigi_general.bits_per_char <= 5"}

    bad = _report([True] * 4 + [False] * 6, bpc=[6.0] * 10)
    d = decide(bad, gate, stage2_metrics=STAGE2_OK)
    assert not d.passed
    assert any(r.startswith("medqa_tw.acc >= 0.5: 0.4") for r in d.reasons)
    assert any("bits_per_char <= 5: 6" in r for r in d.reasons)


def test_a_missing_metric_fails_and_says_which():
    gate = GateConfig(at_least={"taigi_medical.acc": 0.3})
    d = decide(_report([True, False]), gate, stage2_metrics=STAGE2_OK)
    assert not d.passed
    assert "no metric taigi_medical.acc" in d.reasons[0]
    assert metric_value(_report([True, False]), "medqa_tw.acc") == 0.5


def test_significant_regression_against_the_champion_fails():
    gate = GateConfig(no_regression_on=["medqa_tw.acc"], min_paired_items=20)
    champion = _report([True] * 80 + [False] * 20)
    worse = _report([True] * 50 + [False] * 50)  # 30 items lost, none gained: p << 0.05
    d = decide(worse, gate, champion_report=champion, stage2_metrics=STAGE2_OK)
    assert not d.passed
    assert "McNemar on 100 items" in d.reasons[0]

    slightly = _report([True] * 78 + [False] * 22)  # 2 items lost: not significant
    assert decide(slightly, gate, champion_report=champion, stage2_metrics=STAGE2_OK).passed
    better = _report([True] * 100)
    assert decide(better, gate, champion_report=champion, stage2_metrics=STAGE2_OK).passed


def test_bits_per_char_regression_uses_paired_bootstrap_and_lower_is_better():
    gate = GateConfig(no_regression_on=["taigi_general.bits_per_char"], min_paired_items=20)
    champ = _report([True], bpc=[3.0 + 0.01 * i for i in range(40)])
    worse = _report([True], bpc=[3.5 + 0.01 * i for i in range(40)])
    d = decide(worse, gate, champion_report=champ, stage2_metrics=STAGE2_OK)
    assert not d.passed and "paired bootstrap on 40 items" in d.reasons[0]
    improved = _report([True], bpc=[2.5 + 0.01 * i for i in range(40)])
    assert decide(improved, gate, champion_report=champ, stage2_metrics=STAGE2_OK).passed


def test_champion_comparisons_need_shared_items_and_a_champion():
    gate = GateConfig(no_regression_on=["medqa_tw.acc"], min_paired_items=20)
    d = decide(
        _report([True] * 5), gate, champion_report=_report([True] * 5), stage2_metrics=STAGE2_OK
    )
    assert d.passed and "only 5 items in common" in d.checks[0].detail
    d = decide(_report([True] * 5), gate, stage2_metrics=STAGE2_OK)
    assert d.passed and "no model holds the alias 'production'" in d.checks[0].detail


def test_forgetting_bound():
    gate = GateConfig(max_forgetting=0.10)
    report = _report([True])
    assert decide(report, gate, stage2_metrics=STAGE2_OK).passed  # +5 %
    d = decide(report, gate, stage2_metrics={**STAGE2_OK, "medical_val_loss_after": 2.4})
    assert not d.passed and d.checks[-2].value == pytest.approx(0.2)
    d = decide(report, gate, stage2_metrics={})
    assert not d.passed and "lacks medical_val_loss_before" in d.reasons[0]
    off = GateConfig(forgetting_before=None, min_stage2_gain=None)
    assert decide(report, off, stage2_metrics={}).passed


def test_stage2_must_improve_its_taigi_loss():
    gate = GateConfig(min_stage2_gain=0.05)
    report = _report([True])
    assert decide(report, gate, stage2_metrics=STAGE2_OK).passed  # 25 % lower
    flat = {**STAGE2_OK, "val_loss_after": 3.9}
    d = decide(report, gate, stage2_metrics=flat)
    assert not d.passed and "Taigi validation loss by >= 5%: 0.025" in d.reasons[0]


def test_decision_round_trips_through_json():
    d = decide(
        _report([True]), GateConfig(at_least={"medqa_tw.acc": 0.5}), stage2_metrics=STAGE2_OK
    )
    again = GateDecision.from_dict(d.to_dict())
    assert again == d


def test_adjustment_needs_exactly_one_operation():
    from pydantic import ValidationError

    from taigimed.evaluate.config import Adjustment

    with pytest.raises(ValidationError, match="exactly one of multiply or add"):
        Adjustment(field="train.stage2.max_steps", multiply=2, add=1)


def test_every_gate_command_prints_the_verdict_then_one_reason_a_line():
    from taigimed.evaluate.candidate import decision_lines

    refused = {"passed": False, "reasons": ["medqa_tw.acc 0.2 < 0.3", "forgetting 0.4 > 0.1"]}
    assert decision_lines(refused) == [
        "gate refused:",
        "  - medqa_tw.acc 0.2 < 0.3",
        "  - forgetting 0.4 > 0.1",
    ]
    assert decision_lines({"passed": True, "reasons": ["all checks passed"]})[0] == "gate passed:"
