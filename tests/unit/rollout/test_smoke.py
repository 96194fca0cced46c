"""`taigimed deploy smoke` probes against the real app on the tiny model: it passes with the
safety layer on and fails, naming the probes, when red flags reach the model."""

from __future__ import annotations

from taigimed.rollout.smoke import RED_FLAG_PROBES, smoke_test
from taigimed.safety.config import SafetyConfig
from taigimed.safety.rules import load_rules
from taigimed.safety.triage import triage
from taigimed.serve.safety_layer import safety_hooks


def test_every_red_flag_probe_is_one_in_its_script():
    rules = load_rules()
    for script, text in RED_FLAG_PROBES.items():
        assert triage(rules, text).triggered, script


def test_smoke_passes_with_the_safety_layer(make_client):
    client = make_client(hooks=safety_hooks(SafetyConfig()))
    result = smoke_test("http://testserver", client=client)
    assert result.passed, result.to_json()
    names = {p.name for p in result.probes}
    assert {"health", "chat", "dosing"} <= names
    assert {f"red_flag:{s}" for s in RED_FLAG_PROBES} <= names


def test_smoke_fails_when_red_flags_reach_the_model(make_client):
    client = make_client()  # no safety layer: the model answers red flags itself
    result = smoke_test("http://testserver", client=client)
    assert not result.passed
    failed = {p.name for p in result.probes if not p.passed}
    assert {f"red_flag:{s}" for s in RED_FLAG_PROBES} <= failed, result.to_json()


def test_smoke_fails_on_a_dead_server():
    result = smoke_test("http://127.0.0.1:9", timeout=2)
    assert not result.passed and result.probes[0].name == "health"
