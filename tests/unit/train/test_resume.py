"""Kill a real training process, resume it, and end where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from taigimed.config import load_config
from taigimed.workdir import Workdir

pytestmark = pytest.mark.slow

STEPS = 24
SETS = [f"train.stage1.max_steps={STEPS}", "train.stage1.checkpoint_every=4"]


def test_resume_after_kill_matches_uninterrupted(tmp_path, prepared_dir, mlflow_uri):
    from mlflow import MlflowClient

    from taigimed.train import run_stage

    wd = tmp_path / "killed"
    cmd = [sys.executable, "-m", "taigimed.cli", "train", "--stage", "1", "--config", "tiny"]
    cmd += ["--workdir", str(wd), "--data", str(prepared_dir)]
    for s in SETS:
        cmd += ["--set", s]
    env = os.environ | {"OMP_WAIT_POLICY": "PASSIVE", "MLFLOW_TRACKING_URI": mlflow_uri}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    try:
        while time.time() < deadline and not list(wd.glob("runs/stage1/*/checkpoints/step-*")):
            assert proc.poll() is None, "training exited before its first checkpoint"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (run_dir,) = wd.glob("runs/stage1/stage1-*")
    assert not (run_dir / "run.json").exists(), "killed too late: the run had finished"

    cfg = load_config("tiny", SETS)
    resumed = run_stage(
        cfg, Workdir.resolve(wd), 1, data_dir=prepared_dir, resume=True, tracking_uri=mlflow_uri
    )
    assert resumed == run_dir
    info = json.loads((run_dir / "run.json").read_text())
    assert info["metrics"]["steps"] == STEPS
    history = MlflowClient(mlflow_uri).get_metric_history(info["mlflow_run_id"], "train_loss")
    assert max(h.step for h in history) == STEPS

    straight = run_stage(
        cfg,
        Workdir.resolve(tmp_path / "straight"),
        1,
        data_dir=prepared_dir,
        tracking_uri=mlflow_uri,
    )
    expected = json.loads((straight / "run.json").read_text())["metrics"]
    assert info["metrics"]["val_loss_after"] == pytest.approx(expected["val_loss_after"], rel=1e-4)
