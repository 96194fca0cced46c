"""`taigimed deploy load`: benign turns to canary and baseline alike, none when real traffic
is enough, and prompts that move neither the safety alerts nor the dosing checks."""

from __future__ import annotations

import pytest

from taigimed.rollout.load import BENIGN_PROMPTS, parse_duration, synthetic_load
from taigimed.safety.dose import find_doses
from taigimed.safety.rules import load_rules
from taigimed.safety.triage import triage


def test_prompts_are_no_red_flag_and_no_dose():
    rules = load_rules()
    for text in BENIGN_PROMPTS:
        assert not triage(rules, text).triggered, text
        assert not find_doses(text), text


def test_every_server_gets_a_turn_each_round(make_client):
    a, b = make_client(), make_client()
    slept = []
    result = synthetic_load({"canary": a, "stable": b}, 3, 7.0, sleep=slept.append)
    assert result.sent == {"canary": 3, "stable": 3}
    assert result.failed == {"canary": 0, "stable": 0}
    assert slept == [7.0, 7.0]


def test_no_load_while_real_traffic_is_enough(make_client):
    a = make_client()
    answers = iter([True, False, True])
    result = synthetic_load({"canary": a}, 3, 0, enough=lambda: next(answers), sleep=lambda s: None)
    assert result.sent == {"canary": 1} and result.skipped_rounds == 2


def test_a_dead_server_is_counted_not_raised():
    import httpx

    with httpx.Client(base_url="http://127.0.0.1:9", timeout=2) as dead:
        result = synthetic_load({"dead": dead}, 1, 0)
    assert result.failed == {"dead": 1}


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("5", 5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_a_bad_duration_names_the_form():
    with pytest.raises(ValueError, match="30m"):
        parse_duration("half an hour")
