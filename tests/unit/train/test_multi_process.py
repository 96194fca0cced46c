"""`accelerate launch --num_processes 2` on CPU (gloo, DDP) on the tiny recipe: the run trains,
and leaves what one process leaves — one run folder, one MLflow run, the same kind of model.

FSDP cannot run here: accelerate (1.15, ``AcceleratorState`` in accelerate/state.py) turns an
FSDP config into FSDP only for GPU-class devices and into plain multi-CPU DDP with ``--cpu``;
``test_fsdp_on_cpu_is_ddp_in_accelerate`` pins that, so the day accelerate runs FSDP on CPU
this file must grow an FSDP run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accelerate() -> str:
    exe = Path(sys.executable).with_name("accelerate")
    return str(exe) if exe.exists() else shutil.which("accelerate")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["OMP_NUM_THREADS"] = "1"  # two processes on a shared 2-core machine
    env["TAIGIMED_HOME"] = str(tmp_path / "home")
    return env


def _train(launcher: list[str], stage: int, wd: Path, data: Path, uri: str, env, *sets):
    cmd = [*launcher, "-m", "taigimed.cli", "train", "--stage", str(stage), "--config", "tiny",
           "--workdir", str(wd), "--data", str(data), "--tracking-uri", uri]  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr[-3000:]
    return Path(r.stdout.strip().splitlines()[-1])


def _two(port: int) -> list[str]:
    return [_accelerate(), "launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", str(port)]  # fmt: skip


def _tensors(model_dir: Path) -> dict[str, tuple]:
    from safetensors import safe_open

    with safe_open(model_dir / "model.safetensors", "pt") as f:
        return {k: (tuple(f.get_tensor(k).shape), f.get_tensor(k).dtype) for k in f.keys()}  # noqa: SIM118


def test_two_processes_train_and_save_what_one_does(tmp_path, prepared_dir):
    from mlflow import MlflowClient

    env = _env(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    one_wd, two_wd = tmp_path / "one", tmp_path / "two"
    one = _train([sys.executable], 1, one_wd, prepared_dir, uri, env)
    two = _train(_two(_free_port()), 1, two_wd, prepared_dir, uri, env)
    # stage 2 (LoRA: adapter + merged model, logged to MLflow) on two processes too
    two2 = _train(_two(_free_port()), 2, two_wd, prepared_dir, uri, env)

    assert [p.name for p in (two_wd / "runs" / "stage1").glob("stage1-*")] == [two.name]
    info1, info2 = (json.loads((d / "run.json").read_text()) for d in (one, two))
    assert info2["metrics"]["steps"] == info1["metrics"]["steps"] == 6
    # both processes' rows count: every step covers the whole batch
    assert info2["metrics"]["tokens"] == info1["metrics"]["tokens"]
    assert info2["metrics"]["val_loss_after"] < info2["metrics"]["val_loss_before"]
    assert _tensors(two / "model") == _tensors(one / "model")
    c1, c2 = (json.loads((d / "model" / "config.json").read_text()) for d in (one, two))
    assert c1 == c2

    info3 = json.loads((two2 / "run.json").read_text())
    assert info3["start_model"] == str(two / "model")
    assert (two2 / "adapter" / "adapter_config.json").exists()
    assert _tensors(two2 / "model") == _tensors(one / "model")
    client = MlflowClient(uri)
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string=f"attributes.run_name = '{two2.name}'",
    )
    assert len(runs) == 1  # one MLflow run, not one per process
    artifacts = {a.path for a in client.list_artifacts(runs[0].info.run_id)}
    assert {"adapter", "model", "run.json"} <= artifacts
    history = client.get_metric_history(runs[0].info.run_id, "train_loss")
    assert [h.step for h in history] == list(range(1, 7))  # logged once per step


def test_fsdp_on_cpu_is_ddp_in_accelerate(tmp_path):
    script = tmp_path / "state.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from accelerate import Accelerator\n"
        "a = Accelerator(cpu=True)\n"
        "out = Path(sys.argv[1]) / f'rank{a.process_index}.txt'\n"
        "out.write_text(f'{a.distributed_type.name} {a.num_processes}')\n"
    )
    # the shipped FSDP config, on CPU (`use_cpu: true`: the launcher's --cpu alone would start
    # a single plain process)
    config = tmp_path / "fsdp-cpu.yaml"
    text = (REPO / "configs/accelerate/fsdp.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("use_cpu: false", "use_cpu: true"), encoding="utf-8")
    cmd = [_accelerate(), "launch", "--config_file", str(config), "--num_processes", "2",
           "--main_process_port", str(_free_port()), str(script), str(tmp_path)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    # one file per rank: the two ranks share the launcher's stdout, where their lines interleave
    states = sorted(p.read_text() for p in tmp_path.glob("rank*.txt"))
    assert states == ["MULTI_CPU 2", "MULTI_CPU 2"], states


def test_pipeline_launches_a_stage_on_two_processes(tmp_path, prepared_dir, monkeypatch):
    """train.num_processes=2: `pipeline run`'s training step goes through accelerate launch."""
    from taigimed.config import load_config
    from taigimed.pipeline import steps
    from taigimed.workdir import Workdir

    for k, v in _env(tmp_path).items():
        monkeypatch.setenv(k, v)
    cfg = load_config("tiny", ["train.num_processes=2", "train.device=cpu"])
    wd = Workdir.resolve(tmp_path / "work")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    trained = steps.train_stage(cfg, wd, 1, str(prepared_dir), None, False, uri)
    info = json.loads((Path(trained.run_dir) / "run.json").read_text())
    assert info["metrics"]["steps"] == 6 and info["config_fingerprint"] == cfg.fingerprint(
        "model", "train", "seed"
    )
    assert (Path(trained.run_dir) / "model" / "model.safetensors").exists()


def test_the_gpu_recipes_accelerate_config_is_shipped():
    from taigimed.config import ConfigError, load_config
    from taigimed.pipeline.steps import accelerate_config_path

    cfg = load_config("gpu-7b")
    assert (
        accelerate_config_path(cfg.train.accelerate_config) == REPO / "configs/accelerate/ddp.yaml"
    )
    with pytest.raises(ConfigError, match="neither a file"):
        accelerate_config_path("accelerate/ddp8.yaml")
