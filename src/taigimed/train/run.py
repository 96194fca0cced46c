"""``run_stage``: one training stage from prepared data to a tracked, saved model.

Stage 1 starts from the configured base model and learns medical Mandarin
(``stage1_train``); stage 2 starts from stage 1's newest model and learns Taigi
(``stage2_train``, curriculum order, with replayed medical records), and records the
medical loss before and after, which the gate's forgetting check reads.

``run_stage`` reads top to bottom: the machine, the run folder (new or resumed), the
inputs, then inside the MLflow run: score, train, score again, save. The helpers below
it come in the order it calls them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from taigimed.artifacts import folder_digest, git_commit
from taigimed.artifacts import write_json_atomic as _write_json
from taigimed.config import Config
from taigimed.train import card, data
from taigimed.train.config import STAGE_DATASETS, StageConfig, TrainConfig
from taigimed.train.loop import latest_checkpoint, mean_loss, step_plan, train_steps
from taigimed.train.model import (
    TrainSetupError,
    autocast_dtype,
    check_device_features,
    load_model,
    pick_device,
    save_outputs,
)
from taigimed.train.precision import PrecisionChoice, resolve_precision
from taigimed.train.records import budget_indices, encode_dataset
from taigimed.workdir import Workdir


@dataclass
class _Machine:
    """Where and how this stage runs: the device, this machine's precision, the accelerator."""

    device: str
    precision: PrecisionChoice
    train_cfg: TrainConfig  # the recipe's train section with this machine's precision
    accelerator: Any

    @property
    def amp(self) -> torch.dtype | None:
        return autocast_dtype(self.train_cfg)


@dataclass
class _RunFolder:
    """A run folder and its ``state.json`` (empty until the MLflow run has started)."""

    path: Path
    fingerprint: str
    state: dict = field(default_factory=dict)

    def save_state(self) -> None:
        _write_json(self.path / "state.json", self.state)


@dataclass
class _StageInputs:
    """What a stage starts from: the model, its tokenizer, the prepared data, encoded."""

    start_model: str
    tokenizer: Any
    prepared: data.TrainingData
    train_name: str
    val_name: str
    train_examples: list
    val_sets: dict[str, list]


def run_stage(
    cfg: Config,
    workdir: Workdir,
    stage: int,
    data_dir: str | Path | None = None,
    init_model: str | Path | None = None,
    resume: bool = False,
    tracking_uri: str | None = None,
) -> Path:
    """Train one stage and return its run folder (see docs/architecture.md "Training")."""
    import mlflow

    from taigimed.tracking import ensure_experiment

    if stage not in STAGE_DATASETS:
        raise ValueError(f"stage must be 1 or 2, got {stage}")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads spin otherwise
    stage_cfg = getattr(cfg.train, f"stage{stage}")
    machine = _prepare_machine(cfg, stage_cfg)
    torch.manual_seed(cfg.seed)

    # A new run folder, or the unfinished one (with the inputs it started from) on resume.
    # Under `accelerate launch` the main process decides and the others follow: one run
    # folder, one MLflow run, one saved model, however many processes train.
    acc = machine.accelerator
    stage_root = workdir.ensure(workdir.runs / f"stage{stage}")
    fingerprint = cfg.fingerprint("model", "train", "seed")
    folder = None
    if acc.is_main_process:
        folder = _resumable_run(stage_root, fingerprint) if resume else None
        if folder is None:
            folder = _RunFolder(_new_run_dir(stage_root, stage), fingerprint)
    folder = _shared(acc, folder)
    if folder.state:
        # a resumed run keeps its inputs even if stage 1 or the data moved on meanwhile
        init_model = init_model or folder.state["start_model"]
        data_dir = data_dir or folder.state.get("data_dir")

    with acc.main_process_first():  # e.g. the tiny base is built once, then read by all
        inputs = _load_inputs(cfg, workdir, stage, data_dir, init_model)
    plan = step_plan(inputs.train_examples, stage_cfg, cfg.seed)
    ckpt_root = workdir.ensure(folder.path / "checkpoints")
    resume_from = latest_checkpoint(ckpt_root) if folder.state else None
    main = acc.is_main_process
    experiment_id = ensure_experiment(cfg, workdir, tracking_uri) if main else None

    with (
        mlflow.start_run(
            run_id=folder.state.get("mlflow_run_id"),
            experiment_id=experiment_id,
            run_name=folder.path.name,
            nested=mlflow.active_run() is not None,  # e.g. inside a pipeline's parent run
        )
        if main
        else nullcontext()
    ) as run:
        if main and not folder.state:
            _start_tracking(cfg, stage, folder, run.info.run_id, inputs, machine)
        folder.state.setdefault("metrics_before", {})
        model = load_model(
            inputs.start_model,
            machine.train_cfg,
            stage_cfg,
            machine.device,
            cfg.model.trust_remote_code,
        )
        score = _validation_scorer(cfg, stage_cfg, model, inputs, machine)
        if not folder.state["metrics_before"]:
            folder.state["metrics_before"] = score()  # every rank: FSDP forwards are collective
            if main:
                folder.save_state()
                mlflow.log_metrics(
                    {f"{k}_loss_before": v for k, v in folder.state["metrics_before"].items()}
                )

        def log_metrics(m, step):
            if main:
                mlflow.log_metrics(m, step=step)

        prog = train_steps(
            model,
            plan,
            machine.train_cfg,
            stage_cfg,
            machine.device,
            _filler_id(inputs.tokenizer),
            ckpt_root,
            resume_from,
            log_metrics,
            acc,
        )
        model = acc.unwrap_model(model)

        metrics = _metrics(folder.state["metrics_before"], score(), prog, inputs.val_name, stage)
        model = _full_model(acc, model, inputs, machine, stage_cfg, cfg)
        if main:
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if _numeric(v)})
            _save_and_log(cfg, stage, folder, inputs, machine, model, metrics)
    acc.wait_for_everyone()
    if main:
        _publish_latest(stage_root, folder.path, ckpt_root)
    acc.wait_for_everyone()  # every process returns once latest.json names the run
    return folder.path


def _shared(acc, folder: _RunFolder | None) -> _RunFolder:
    """The main process's run folder, on every process."""
    if acc.num_processes == 1:
        return folder
    from accelerate.utils import broadcast_object_list

    box = [(str(folder.path), folder.fingerprint, folder.state) if folder else None]
    path, fingerprint, state = broadcast_object_list(box, from_process=0)[0]
    return _RunFolder(Path(path), fingerprint, dict(state))


def _full_model(acc, model, inputs: _StageInputs, machine: _Machine, stage_cfg, cfg: Config):
    """The trained model with whole tensors, on the main process (None elsewhere).

    DDP and one process: every process already holds the whole model. FSDP: each holds a
    shard, so the full state dict is gathered (a collective: every process calls it) and
    loaded into a fresh copy of the starting model on the main process.
    """
    from accelerate.utils import DistributedType

    if acc.distributed_type != DistributedType.FSDP:
        return model if acc.is_main_process else None
    full = acc.get_state_dict(model)  # whole tensors on the CPU of the main process
    if not acc.is_main_process:
        return None
    fresh = load_model(
        inputs.start_model, machine.train_cfg, stage_cfg, "cpu", cfg.model.trust_remote_code
    )
    fresh.load_state_dict(full)
    return fresh


def _prepare_machine(cfg: Config, stage_cfg: StageConfig) -> _Machine:
    from accelerate import Accelerator

    device = pick_device(cfg.train)
    precision = resolve_precision(cfg.train.precision, device)
    # the recipe (and its fingerprint) keeps "auto"; the loop gets this machine's choice
    train_cfg = cfg.train.model_copy(update={"precision": precision.precision})
    check_device_features(train_cfg, stage_cfg, device)
    return _Machine(device, precision, train_cfg, Accelerator(cpu=device == "cpu"))


def _resumable_run(stage_root: Path, fingerprint: str) -> _RunFolder | None:
    """The newest unfinished run, if its model/train/seed config is this one."""
    run_dir = _unfinished_run(stage_root)
    if run_dir is None:
        return None
    state = json.loads((run_dir / "state.json").read_text())
    if state.get("config_fingerprint") != fingerprint:
        raise TrainSetupError(
            f"cannot resume {run_dir.name}: the model/train/seed config changed since it "
            "started; rerun with the same --config/--set, or drop --resume to start afresh"
        )
    return _RunFolder(run_dir, fingerprint, state)


def _unfinished_run(stage_root: Path) -> Path | None:
    """The newest run folder with a checkpoint but no run.json."""
    candidates = [
        d
        for d in sorted(stage_root.glob("stage*-*"))
        if not (d / "run.json").exists() and latest_checkpoint(d / "checkpoints")
    ]
    return candidates[-1] if candidates else None


def _new_run_dir(stage_root: Path, stage: int) -> Path:
    run_dir = stage_root / f"stage{stage}-{time.strftime('%Y%m%d-%H%M%S')}"
    suffix = 1
    while run_dir.exists():
        run_dir = stage_root / f"stage{stage}-{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
        suffix += 1
    return run_dir


def _load_inputs(
    cfg: Config,
    workdir: Workdir,
    stage: int,
    data_dir: str | Path | None,
    init_model: str | Path | None,
) -> _StageInputs:
    """The start model's tokenizer, the training examples (within the step budget) and the
    validation sets, encoded."""
    from transformers import AutoTokenizer

    prepared = data.open_prepared(workdir, data_dir)
    start_model = _start_model(cfg, workdir, stage, init_model)
    tokenizer = AutoTokenizer.from_pretrained(
        start_model, trust_remote_code=cfg.model.trust_remote_code
    )
    stage_cfg = getattr(cfg.train, f"stage{stage}")
    train_name, val_name, *also_scored = STAGE_DATASETS[stage]
    train_ds = prepared.dataset(train_name)
    need = stage_cfg.max_steps * stage_cfg.batch_rows * stage_cfg.seq_len
    keep = budget_indices(train_ds, tokenizer, need, stage_cfg.shuffle, cfg.seed)
    train_examples = encode_dataset(train_ds.select(keep), tokenizer, stage_cfg.seq_len)
    val_sets = {}
    for name in (val_name, *also_scored):
        ds = prepared.dataset(name)
        limit = stage_cfg.eval_max_examples
        if limit is not None and limit < len(ds):
            # a fixed random sample: validation files may be sorted by source or phase
            ds = ds.select(sorted(random.Random(cfg.seed).sample(range(len(ds)), limit)))
        val_sets[name] = encode_dataset(ds, tokenizer, stage_cfg.seq_len)
    return _StageInputs(
        start_model, tokenizer, prepared, train_name, val_name, train_examples, val_sets
    )


def _start_model(cfg: Config, workdir: Workdir, stage: int, init_model: str | Path | None) -> str:
    if init_model is not None:
        return str(init_model)
    if stage == 1:
        from taigimed.models.resolve import resolve_base

        return resolve_base(cfg.model, workdir)
    latest = workdir.runs / "stage1" / "latest.json"
    if not latest.exists():
        raise TrainSetupError(
            f"stage 2 starts from stage 1's model but {latest} does not exist; run "
            "`taigimed train --stage 1` first or pass init_model"
        )
    return str(Path(json.loads(latest.read_text())["run_dir"]) / "model")


def _start_tracking(
    cfg: Config,
    stage: int,
    folder: _RunFolder,
    run_id: str,
    inputs: _StageInputs,
    machine: _Machine,
) -> None:
    """A new run: its state file, then params, tags, config and inputs in MLflow."""
    import mlflow

    folder.state = {
        "mlflow_run_id": run_id,
        "start_model": inputs.start_model,
        "data_dir": str(inputs.prepared.path),
        "config_fingerprint": folder.fingerprint,
        "metrics_before": {},
    }
    folder.save_state()
    mlflow.log_params(_flat_params(cfg, stage) | _precision_params(machine.precision))
    mlflow.set_tags(
        {
            "taigimed.stage": str(stage),
            "taigimed.config_fingerprint": folder.fingerprint,
            "taigimed.data_version": inputs.prepared.version,
            "taigimed.start_model": inputs.start_model,
            "mlflow.source.git.commit": git_commit()["commit"],
        }
    )
    mlflow.log_dict(cfg.model_dump(mode="json"), "config.json")
    data.log_inputs(inputs.prepared, [inputs.train_name, *inputs.val_sets])


def _flat_params(cfg: Config, stage: int) -> dict[str, str]:
    section = getattr(cfg.train, f"stage{stage}").model_dump(mode="json")
    params = {f"stage.{k}": v for k, v in section.items() if k != "lora"}
    params |= {f"lora.{k}": v for k, v in section["lora"].items()}
    params |= {
        f"train.{k}": v
        for k, v in cfg.train.model_dump(mode="json").items()
        if k not in ("stage1", "stage2")
    }
    params |= {"recipe": cfg.name, "seed": cfg.seed, "model.base": cfg.model.base}
    return {k: str(v)[:500] for k, v in params.items()}


def _precision_params(choice: PrecisionChoice) -> dict[str, str]:
    return {"train.precision_used": choice.precision, "train.precision_reason": choice.reason}


def _validation_scorer(
    cfg: Config, stage_cfg: StageConfig, model, inputs: _StageInputs, machine: _Machine
) -> Callable[[], dict[str, float]]:
    """A function giving the mean loss on every validation set (before and after training)."""
    from taigimed.train.loss import CausalLMLoss

    scorer = CausalLMLoss(model, cfg.train.loss_chunk_tokens)
    rows = max(stage_cfg.rows_per_forward, 1)
    filler_id = _filler_id(inputs.tokenizer)
    amp = machine.amp

    def score() -> dict[str, float]:
        return {
            name: mean_loss(scorer, ex, stage_cfg.seq_len, rows, filler_id, machine.device, amp)
            for name, ex in inputs.val_sets.items()
        }

    return score


def _filler_id(tokenizer) -> int:
    """The token that pads packed rows (never trained on)."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def _metrics(before: dict, after: dict, prog, val_name: str, stage: int) -> dict:
    metrics: dict = {
        "val_loss_before": before[val_name],
        "val_loss_after": after[val_name],
        "steps": prog.step,
        "tokens": prog.tokens,
        "useful_tokens": prog.useful,
        "seconds": round(prog.seconds, 2),
        "tokens_per_s": round(prog.tokens / max(prog.seconds, 1e-9), 1),
        "useful_tokens_per_s": round(prog.useful / max(prog.seconds, 1e-9), 1),
        "train_loss_first": prog.losses[0] if prog.losses else None,
        "train_loss_last": prog.losses[-1] if prog.losses else None,
    }
    if stage == 2:  # the gate's forgetting check (gate.max_forgetting) reads these two
        metrics |= {
            "medical_val_loss_before": before["stage1_validation"],
            "medical_val_loss_after": after["stage1_validation"],
        }
    return metrics


def _numeric(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _save_and_log(
    cfg: Config,
    stage: int,
    folder: _RunFolder,
    inputs: _StageInputs,
    machine: _Machine,
    model,
    metrics: dict,
) -> None:
    """The model (and adapter), its card and ``run.json``, each also logged to MLflow."""
    import mlflow

    stage_cfg = getattr(cfg.train, f"stage{stage}")
    model_dir, adapter_dir = save_outputs(
        model, inputs.tokenizer, folder.path, stage_cfg.method, cfg.model.dtype
    )
    run_info = {
        "stage": stage,
        "mlflow_run_id": folder.state["mlflow_run_id"],  # the run this one resumed or began
        "run_name": folder.path.name,
        "run_dir": str(folder.path),
        "base_model": cfg.model.base,
        "start_model": inputs.start_model,
        "data_version": inputs.prepared.version,
        "data_dir": str(inputs.prepared.path),
        "data_manifest_sha256": inputs.prepared.manifest_sha256,
        "config_fingerprint": folder.fingerprint,
        "method": stage_cfg.method,
        "precision": machine.precision.as_record(),
        "model_dir": str(model_dir),
        "adapter_dir": str(adapter_dir) if adapter_dir else None,
        "metrics": metrics,
    }
    card.write_model_card(model_dir / "MODEL_CARD.md", cfg, stage, run_info)
    # The model folder is hashed once, here where it was written; the pipeline and the
    # registry read this value.
    run_info["model_digest"] = folder_digest(model_dir)
    _write_json(folder.path / "run.json", run_info)
    mlflow.log_artifact(str(folder.path / "run.json"))
    mlflow.log_artifact(str(model_dir / "MODEL_CARD.md"))
    if adapter_dir is not None:
        mlflow.log_artifacts(str(adapter_dir), "adapter")
    if cfg.train.log_model_artifact == "every" or (
        cfg.train.log_model_artifact == "final" and stage == max(STAGE_DATASETS)
    ):
        # the registry version points at this copy (taigimed.registry.register): one per run
        mlflow.log_artifacts(str(model_dir), "model")


def _publish_latest(stage_root: Path, run_dir: Path, ckpt_root: Path) -> None:
    """Name the finished run in ``latest.json``; keep only its newest checkpoint."""
    _write_json(stage_root / "latest.json", {"run_name": run_dir.name, "run_dir": str(run_dir)})
    # the final weights are saved; the newest checkpoint stays for a later look
    for old in sorted(ckpt_root.glob("step-*"))[:-1]:
        shutil.rmtree(old, ignore_errors=True)
