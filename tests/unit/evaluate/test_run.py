"""evaluate_model and `taigimed eval` end to end on the tiny model and hand-made data."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taigimed.cli import app
from taigimed.config import load_config
from taigimed.evaluate import evaluate_model
from taigimed.evaluate.eval_sets import EvalDataError

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "evaluate"


def _check_metric(m):
    assert set(m) == {"value", "n", "ci_low", "ci_high"}
    assert m["n"] > 0
    assert m["ci_low"] <= m["value"] + 1e-9 and m["value"] <= m["ci_high"] + 1e-9


@pytest.fixture(scope="module")
def report(tiny_model_dir, prepared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "challenger.json"
    cfg = load_config("tiny")
    extra = ASSETS / "medqa_test.jsonl"
    result = evaluate_model(
        cfg, None, tiny_model_dir, out, extra_mcq=[extra], data_dir=prepared_dir
    )
    return result, out


def test_report_json_schema_and_sample(report):
    result, out = report
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert result["schema"] == 1
    assert set(result["sets"]) == {
        "medqa_tw",
        "taigi_medical",
        "taigi_general",
        "taigi_cloze",
        "extra:medqa_test.jsonl",
    }
    sample = result["sample"]
    assert sample["full"] is False and sample["sample_per_set"] == 10 and sample["seed"] == 1234
    # The authored set has 150 items: the tiny recipe scores a stratified 10 of them.
    assert sample["per_set_n"]["taigi_medical"] == 10
    assert sample["per_set_n"]["medqa_tw"] == 8  # fixture is smaller than the sample size
    for name in ("medqa_tw", "taigi_medical", "extra:medqa_test.jsonl"):
        res = result["sets"][name]
        assert {"acc", "acc_norm", "gen_acc"} <= set(res["metrics"])
        for m in res["metrics"].values():
            _check_metric(m)
        assert sum(res["letter_distribution"].values()) == sample["per_set_n"][name]
        assert len(res["items"]) == sample["per_set_n"][name]
        item = res["items"][0]
        assert {"id", "correct", "pred", "gold"} <= set(item)
        acc = sum(it["correct"] for it in res["items"]) / len(res["items"])
        assert res["metrics"]["acc"]["value"] == pytest.approx(acc)
        for cat in res["categories"].values():
            assert sum(1 for _ in cat) >= 2
    assert result["sets"]["medqa_tw"]["items"] == result["sets"]["extra:medqa_test.jsonl"]["items"]
    assert set(result["sets"]["medqa_tw"]["categories"]) == {
        "internal_medicine",
        "pharmacology",
        "surgery",
    }
    assert {"chrf", "rubric_recall", "rubric_violations"} <= set(
        result["sets"]["taigi_medical"]["metrics"]
    )
    for name in ("medqa_tw", "taigi_medical", "taigi_cloze", "extra:medqa_test.jsonl"):
        res = result["sets"][name]
        assert set(res["baselines"]) == {
            "chance",
            "majority_letter",
            "always_longest",
            "always_shortest",
            "options_only_acc",
            "options_only_acc_norm",
        }
        for m in res["baselines"].values():
            _check_metric(m)
        assert "passed" in res["balance"] and res["balance"]["n"] >= len(res["items"])
        assert res["power"]["acc"]["n"] == len(res["items"]) and res["power"]["acc"]["mde"] > 0
    assert result["sets"]["taigi_cloze"]["balance"]["passed"]
    # Balance is stated for the whole set, not the 10-item sample.
    assert result["sets"]["taigi_medical"]["balance"]["n"] == 150
    assert result["sets"]["taigi_medical"]["balance"]["passed"]
    rubric = result["sets"]["taigi_medical"]["power"]["rubric_recall"]
    assert rubric["n"] == result["sample"]["per_set_n"]["taigi_medical_open"]
    general = result["sets"]["taigi_general"]
    assert set(general["metrics"]) == {"bits_per_char", "chrfpp_zh_han", "chrfpp_han_tl"}
    assert set(general["power"]) == set(general["metrics"])
    bpc = [it for it in general["items"] if it["metric"] == "bits_per_char"]
    pooled = sum(it["bits"] for it in bpc) / sum(it["chars"] for it in bpc)
    assert general["metrics"]["bits_per_char"]["value"] == pytest.approx(pooled)
    assert general["metrics"]["bits_per_char"]["value"] > 1.0  # a random model is poor


def test_markdown_report_with_plots_and_champion(report, tmp_path):
    from taigimed.evaluate.report import write_report

    result, out = report
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "seeded, stratified sample" in md and "(n=10)" in md
    for name in result["sets"]:
        assert f"## {name}" in md
    pngs = sorted(p.name for p in out.parent.glob("*.png"))
    assert "challenger_medqa_tw.png" in pngs and len(pngs) == 5
    assert "| always_longest |" in md and "| options_only_acc_norm |" in md
    assert "Minimal detectable paired difference" in md and "Set balance (all " in md
    assert "rubric_recall" in md and "rubric_violations (lower is better)" in md
    # A champion report adds its column and bars.
    path = write_report(result, tmp_path / "vs.json", champion=result)
    text = path.read_text(encoding="utf-8")
    assert "| metric | challenger | champion |" in text
    assert (tmp_path / "vs_taigi_general.png").stat().st_size > 1000


def test_bad_extra_mcq_fails_before_loading_the_model(tmp_path, prepared_dir):
    bad = tmp_path / "hospital.jsonl"
    bad.write_text('{"question": "Q?", "options": {"A": "x", "B": "y"}, "answer_idx": "Z"}\n')
    cfg = load_config("tiny")
    with pytest.raises(EvalDataError, match=r"hospital\.jsonl item 1: 'answer_idx'"):
        evaluate_model(
            cfg, None, tmp_path / "no-model", tmp_path / "r.json", [bad], False, None, prepared_dir
        )
    assert not (tmp_path / "r.json").exists()


def test_missing_prepared_data_names_the_command(tmp_path):
    cfg = load_config("tiny")
    with pytest.raises(EvalDataError, match="taigimed data prepare"):
        evaluate_model(cfg, tmp_path / "wd", tmp_path / "m", tmp_path / "r.json")


def test_eval_cli_full_on_one_set(tiny_model_dir, tmp_path):
    out = tmp_path / "cli.json"
    args = [
        "eval",
        "--config",
        "tiny",
        "--model",
        str(tiny_model_dir),
        "--out",
        str(out),
        "--set",
        "eval.sets=[taigi_medical]",
        "--set",
        "eval.generative=false",
        "--workdir",
        str(tmp_path / "wd"),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["sample"]["full"] is True
    assert data["sample"]["per_set_n"]["taigi_medical"] == 150
    assert "gen_acc" not in data["sets"]["taigi_medical"]["metrics"]
    assert "taigi_medical (n=150): acc " in res.output
    bad = CliRunner().invoke(app, ["eval", "--model", str(tmp_path), "--out", str(out)])
    assert bad.exit_code == 2 and "no config.json" in bad.output


def test_interrupted_run_resumes_finished_sets(tiny_model_dir, prepared_dir, tmp_path, monkeypatch):
    import taigimed.evaluate.run as run_mod

    cfg = load_config("tiny", ["eval.sets=[medqa_tw, taigi_general]", "eval.generative=false"])
    out = tmp_path / "r.json"

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "evaluate_general", interrupted)
    with pytest.raises(KeyboardInterrupt):
        evaluate_model(cfg, None, tiny_model_dir, out, data_dir=prepared_dir)
    assert not out.exists()
    assert (tmp_path / ".r.json.parts" / "medqa_tw.json").exists()
    monkeypatch.undo()

    def must_not_rescore(*a, **k):
        raise AssertionError("medqa_tw was finished before the interruption")

    monkeypatch.setattr(run_mod, "evaluate_mcq", must_not_rescore)
    report = evaluate_model(cfg, None, tiny_model_dir, out, data_dir=prepared_dir)
    assert set(report["sets"]) == {"medqa_tw", "taigi_general"}
    assert report["sets"]["medqa_tw"]["metrics"]["acc"]["n"] == 8
    assert not (tmp_path / ".r.json.parts").exists()
