"""Drift report: production inputs (the serving database) vs prepared training data."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from support import write_prepared
from taigimed.cli import app as cli_app
from taigimed.config import load_config
from taigimed.data.records import record
from taigimed.monitor.drift import DriftError, drift_report, js_distance
from taigimed.serve.storage.db import make_engine, session_factory, upgrade
from taigimed.serve.storage.models import Conversation, Message
from taigimed.workdir import Workdir

TRAINING_TURNS = ["我頭殼痛，欲按怎？", "阮阿公咳嗽足久矣", "腹肚痛愛食啥物藥？", "暗時睏袂去"] * 10
# Production drifted: Simplified Mandarin, longer, and chest-pain emergencies.
PRODUCTION_TURNS = [
    "我爸爸突然胸口很痛，喘不过气，还冒冷汗，该怎么办？我们现在在家里，请告诉我要做什么。",
    "我妈妈说话不清楚，一边的手没有力气，这是什么情况？需要马上去医院吗？请尽快回答我。",
] * 10


def test_js_distance_bounds():
    assert js_distance({"a": 5}, {"a": 1}) == pytest.approx(0.0)
    assert js_distance({"a": 1}, {"b": 1}) == pytest.approx(1.0)
    assert 0 < js_distance({"a": 1, "b": 1}, {"a": 3, "b": 1}) < 1


def _serving_db(root, turns):
    wd = Workdir.resolve(root)
    url = f"sqlite:///{wd.ensure(wd.serve) / 'taigimed.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        for i, text in enumerate(turns):
            s.add(Conversation(id=f"c{i}", channel="http"))
            s.add(Message(id=f"m{i}", conversation_id=f"c{i}", seq=0, role="user", content=text))
        s.commit()
    engine.dispose()


def _prepared_data(root, turns):
    records = [
        record(f"r{i}", "test", "chat", messages=[
            {"role": "user", "content": t}, {"role": "assistant", "content": "好"}
        ])
        for i, t in enumerate(turns)
    ]  # fmt: skip
    write_prepared(root / "data" / "v1", {"stage2_train": records})
    (root / "data" / "current.json").write_text(json.dumps({"path": str(root / "data" / "v1")}))


def test_drifted_production_is_flagged_with_plots(tmp_path):
    root = tmp_path / "work"
    _serving_db(root, PRODUCTION_TURNS)
    _prepared_data(root, TRAINING_TURNS)
    out = tmp_path / "drift"
    report = drift_report(load_config("tiny"), Workdir.resolve(root), out)
    assert report["production"]["n"] == len(PRODUCTION_TURNS)
    assert report["drifted"]["script"] and report["drifted"]["length"]
    assert report["drifted"]["red_flag_rate"]
    assert report["production"]["red_flag_rate"] > report["training"]["red_flag_rate"]
    for name in ("report.md", "report.html", "drift.json", "script.png", "length.png", "topic.png"):
        assert (out / name).stat().st_size > 0
    md = (out / "report.md").read_text()
    assert "**yes**" in md and "![script](script.png)" in md
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_same_distribution_is_not_flagged_and_cli_runs(tmp_path):
    root = tmp_path / "work"
    _serving_db(root, TRAINING_TURNS)
    _prepared_data(root, TRAINING_TURNS)
    out = tmp_path / "drift"
    result = CliRunner().invoke(
        cli_app, ["deploy", "drift", "--config", "tiny", "--workdir", str(root), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "drifted: none" in result.output
    assert not any(json.loads((out / "drift.json").read_text())["drifted"].values())


def test_missing_inputs_say_what_to_do(tmp_path):
    root = tmp_path / "work"
    _serving_db(root, [])
    with pytest.raises(DriftError, match="no user messages"):
        drift_report(load_config("tiny"), Workdir.resolve(root), tmp_path / "o")
    _serving_db(tmp_path / "w2", PRODUCTION_TURNS)
    with pytest.raises(DriftError, match="taigimed data prepare"):
        drift_report(load_config("tiny"), Workdir.resolve(tmp_path / "w2"), tmp_path / "o")


def test_the_rules_in_effect_judge_red_flags_and_are_recorded(tmp_path):
    from taigimed.safety.rules import DEFAULT_RULES, load_rules

    root = tmp_path / "work"
    _serving_db(root, PRODUCTION_TURNS)
    _prepared_data(root, TRAINING_TURNS)
    shipped = load_rules().version
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        DEFAULT_RULES.read_text(encoding="utf-8").replace(
            f"version: {shipped}", "version: 2099.1.1", 1
        ),
        encoding="utf-8",
    )
    cfg = load_config("tiny")
    cfg.serve.safety.rules_path = str(clinic)
    report = drift_report(cfg, Workdir.resolve(root), tmp_path / "drift")
    assert report["rules_version"] == "2099.1.1" and report["rules_path"] == str(clinic)
    assert "rules version 2099.1.1" in (tmp_path / "drift" / "report.md").read_text()
    default = drift_report(load_config("tiny"), Workdir.resolve(root), tmp_path / "d2")
    assert default["rules_version"] == shipped
