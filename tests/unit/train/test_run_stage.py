"""End to end on the tiny model: both stages, files, the MLflow run, and loss going down."""

import json
from pathlib import Path

import pytest

from taigimed.config import load_config
from taigimed.workdir import Workdir

pytestmark = pytest.mark.slow


def test_two_stages_write_models_runs_and_learn(tmp_path, prepared_dir, mlflow_uri):
    from mlflow import MlflowClient
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from taigimed import chat
    from taigimed.train import run_stage
    from taigimed.train.precision import resolve_precision

    cfg = load_config("tiny")
    wd = Workdir.resolve(tmp_path / "work")
    # stage 1 lets the machine choose: bf16 autocast here if the CPU has bf16 units
    auto = load_config("tiny", ["train.precision=auto"])
    run1 = run_stage(auto, wd, 1, data_dir=prepared_dir, tracking_uri=mlflow_uri)
    run2 = run_stage(cfg, wd, 2, data_dir=prepared_dir, tracking_uri=mlflow_uri)

    info1 = json.loads((run1 / "run.json").read_text())
    info2 = json.loads((run2 / "run.json").read_text())
    assert info2["start_model"] == str(run1 / "model")
    machine = resolve_precision("auto", "cpu")
    assert info1["precision"] == machine.as_record()
    assert info2["precision"] == {
        "requested": "fp32",
        "used": "fp32",
        "reason": "set in the recipe",
    }
    assert json.loads((wd.runs / "stage2" / "latest.json").read_text())["run_dir"] == str(run2)
    for info in (info1, info2):
        m = info["metrics"]
        assert m["val_loss_after"] < m["val_loss_before"]
        assert m["steps"] == 6 and m["useful_tokens"] < m["tokens"]
        assert info["data_version"] == "v-test"
    m2 = info2["metrics"]
    # The card's forgetting verdict, worked out here from the run's own numbers and the
    # bound configs/tiny.yaml documents (gate.max_forgetting: 0.5), not by the card's code.
    before, after = m2["medical_val_loss_before"], m2["medical_val_loss_after"]
    assert cfg.gate.max_forgetting == 0.5
    rise = (after - before) / abs(before)
    verdict = "within" if rise <= 0.5 else "**exceeds**"
    assert (run2 / "adapter" / "adapter_config.json").exists()
    card = (run2 / "model" / "MODEL_CARD.md").read_text()
    assert "v-test" in card and "tiny-random" in card
    assert f"medical validation loss rose by {rise:+.1%}, {verdict} the bound of 50%" in card

    tok = AutoTokenizer.from_pretrained(run2 / "model")
    assert tok.chat_template == chat.CHAT_TEMPLATE
    AutoModelForCausalLM.from_pretrained(run2 / "model")  # merged, loads without peft

    client = MlflowClient(mlflow_uri)
    run = client.get_run(info2["mlflow_run_id"])
    assert run.data.params["stage.method"] == "lora"
    assert run.data.params["train.precision_used"] == "fp32"
    run1_params = client.get_run(info1["mlflow_run_id"]).data.params
    assert run1_params["train.precision"] == "auto"
    assert run1_params["train.precision_used"] == machine.precision
    assert f"precision: {machine.precision}" in (run1 / "model" / "MODEL_CARD.md").read_text()
    assert run.data.metrics["val_loss_after"] == pytest.approx(m2["val_loss_after"])
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert [h.step for h in history] == list(range(1, 7))
    names = {i.dataset.name for i in run.inputs.dataset_inputs}
    assert {"stage2_train@v-test", "stage1_validation@v-test"} <= names
    # One digest per artifact, taken where it was written: the model folder's in run.json,
    # the manifest file's sha256, and each dataset's Arrow digest as MLflow records it.
    from taigimed.artifacts import file_sha256, folder_digest
    from taigimed.data.load import load_prepared

    assert info2["model_digest"] == folder_digest(run2 / "model")
    assert info2["data_manifest_sha256"] == file_sha256(Path(prepared_dir) / "manifest.json")
    prepared = load_prepared(prepared_dir)
    digests = {i.dataset.name: i.dataset.digest for i in run.inputs.dataset_inputs}
    assert digests["stage2_train@v-test"] == prepared.digest("stage2_train")[:16]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"run.json", "MODEL_CARD.md", "adapter", "model", "config.json"} <= artifacts


def test_stage2_without_stage1_says_what_to_run(tmp_path, prepared_dir, mlflow_uri):
    from taigimed.train import run_stage
    from taigimed.train.model import TrainSetupError

    with pytest.raises(TrainSetupError, match="train --stage 1"):
        run_stage(
            load_config("tiny"),
            Workdir.resolve(tmp_path),
            2,
            data_dir=prepared_dir,
            tracking_uri=mlflow_uri,
        )


def test_missing_dataset_is_a_clear_error(tmp_path, prepared_dir):
    import shutil

    from taigimed.data.load import PreparedDataError
    from taigimed.train import run_stage

    broken = tmp_path / "data"
    shutil.copytree(prepared_dir, broken)
    shutil.rmtree(broken / "datasets" / "stage1_validation")
    with pytest.raises(PreparedDataError, match=r"stage1_validation.*taigimed data prepare"):
        run_stage(load_config("tiny"), Workdir.resolve(tmp_path / "w"), 1, data_dir=broken)


def test_resume_refuses_a_run_started_with_another_config(tmp_path, prepared_dir):
    from taigimed.train import run_stage
    from taigimed.train.model import TrainSetupError

    wd = Workdir.resolve(tmp_path / "w")
    unfinished = wd.runs / "stage1" / "stage1-20260101-000000"
    (unfinished / "checkpoints" / "step-000002").mkdir(parents=True)
    state = {"config_fingerprint": "another recipe", "start_model": "x", "metrics_before": {}}
    (unfinished / "state.json").write_text(json.dumps(state))
    with pytest.raises(TrainSetupError, match=r"cannot resume stage1-20260101-000000.*--resume"):
        run_stage(load_config("tiny"), wd, 1, data_dir=prepared_dir, resume=True)
    assert not (unfinished / "run.json").exists()
