"""Stage 1 on the tiny model, tracked by a real `mlflow server` on a loopback port."""

import importlib.util
import json
from pathlib import Path

import pytest

import support

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture()
def mlflow_server(tmp_path):
    with support.mlflow_server(tmp_path / "server") as url:
        yield url, tmp_path / "server" / "artifacts"


def test_stage1_tracked_on_a_real_server(tmp_path, mlflow_server, tiny_model_dir):
    from mlflow import MlflowClient

    helper = Path(__file__).parents[1] / "unit" / "train" / "prepared_data.py"
    spec = importlib.util.spec_from_file_location("train_prepared_data", helper)
    prepared_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepared_data)
    from taigimed.config import load_config
    from taigimed.train import run_stage
    from taigimed.workdir import Workdir

    url, artifacts = mlflow_server
    data = prepared_data.make_prepared(tmp_path / "data" / "v-srv")
    cfg = load_config("tiny", ["train.stage1.max_steps=3", "train.log_model_artifact=every"])
    wd = Workdir.resolve(tmp_path / "work")
    run_dir = run_stage(cfg, wd, 1, data_dir=data, tracking_uri=url)

    info = json.loads((run_dir / "run.json").read_text())
    client = MlflowClient(url)
    run = client.get_run(info["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert [h.step for h in client.get_metric_history(run.info.run_id, "train_loss")] == [1, 2, 3]
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"run.json", "model"}
    # artifacts went through the server into its own store, not into the work directory
    assert list(artifacts.rglob("run.json"))
    assert not (wd.mlflow / "mlflow.db").exists()
