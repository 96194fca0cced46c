"""``run_stage``: one training stage from prepared data to a tracked, saved model.

Stage 1 starts from the configured base model and learns medical Mandarin
(``stage1_train``); stage 2 starts from stage 1's newest model and learns Taigi
(``stage2_train``, curriculum order, with replayed medical records), and checks
how much the medical loss rose (forgetting).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import torch

from taigimed.artifacts import git_commit
from taigimed.artifacts import write_json_atomic as _write_json
from taigimed.config import Config
from taigimed.train import card, data
from taigimed.train.config import STAGE_DATASETS
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


def _unfinished_run(stage_root: Path) -> Path | None:
    """The newest run folder with a checkpoint but no run.json."""
    candidates = [
        d
        for d in sorted(stage_root.glob("stage*-*"))
        if not (d / "run.json").exists() and latest_checkpoint(d / "checkpoints")
    ]
    return candidates[-1] if candidates else None


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
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    from taigimed.tracking import ensure_experiment

    if stage not in STAGE_DATASETS:
        raise ValueError(f"stage must be 1 or 2, got {stage}")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads spin otherwise
    stage_cfg = getattr(cfg.train, f"stage{stage}")
    device = pick_device(cfg.train)
    precision = resolve_precision(cfg.train.precision, device)
    # the recipe (and its fingerprint) keeps "auto"; the loop gets this machine's choice
    train_cfg = cfg.train.model_copy(update={"precision": precision.precision})
    check_device_features(train_cfg, stage_cfg, device)
    accelerator = Accelerator(cpu=device == "cpu")
    torch.manual_seed(cfg.seed)

    stage_root = workdir.ensure(workdir.runs / f"stage{stage}")
    run_dir = _unfinished_run(stage_root) if resume else None
    state: dict = {}
    fingerprint = cfg.fingerprint("model", "train", "seed")
    if run_dir is not None:
        state = json.loads((run_dir / "state.json").read_text())
        if state.get("config_fingerprint") != fingerprint:
            raise TrainSetupError(
                f"cannot resume {run_dir.name}: the model/train/seed config changed since it "
                "started; rerun with the same --config/--set, or drop --resume to start afresh"
            )
        # a resumed run keeps its inputs even if stage 1 or the data moved on meanwhile
        init_model = init_model or state["start_model"]
        data_dir = data_dir or state.get("data_dir")
    else:
        run_dir = stage_root / f"stage{stage}-{time.strftime('%Y%m%d-%H%M%S')}"
        suffix = 1
        while run_dir.exists():
            run_dir = stage_root / f"stage{stage}-{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
            suffix += 1
    prepared = data.open_prepared(workdir, data_dir)
    train_name, val_name, *also_scored = STAGE_DATASETS[stage]
    start_model = _start_model(cfg, workdir, stage, init_model)
    tokenizer = AutoTokenizer.from_pretrained(
        start_model, trust_remote_code=cfg.model.trust_remote_code
    )
    filler_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )

    def encoded(name: str, limit: int | None = None):
        ds = prepared.dataset(name)
        if limit is not None and limit < len(ds):
            # a fixed random sample: validation files may be sorted by source or phase
            ds = ds.select(sorted(random.Random(cfg.seed).sample(range(len(ds)), limit)))
        return encode_dataset(ds, tokenizer, stage_cfg.seq_len)

    train_ds = prepared.dataset(train_name)
    need = stage_cfg.max_steps * stage_cfg.batch_rows * stage_cfg.seq_len
    keep = budget_indices(train_ds, tokenizer, need, stage_cfg.shuffle, cfg.seed)
    train_examples = encode_dataset(train_ds.select(keep), tokenizer, stage_cfg.seq_len)
    val_sets = {val_name: encoded(val_name, stage_cfg.eval_max_examples)}
    for name in also_scored:
        val_sets[name] = encoded(name, stage_cfg.eval_max_examples)
    plan = step_plan(train_examples, stage_cfg, cfg.seed)

    ckpt_root = workdir.ensure(run_dir / "checkpoints")
    resume_from = latest_checkpoint(ckpt_root) if state else None

    experiment_id = ensure_experiment(cfg, workdir, tracking_uri)
    amp = autocast_dtype(train_cfg)
    rows_eval = max(stage_cfg.rows_per_forward, 1)

    with mlflow.start_run(
        run_id=state.get("mlflow_run_id"),
        experiment_id=experiment_id,
        run_name=run_dir.name,
        nested=mlflow.active_run() is not None,  # e.g. inside a pipeline's parent run
    ) as run:
        if not state:
            state = {
                "mlflow_run_id": run.info.run_id,
                "start_model": start_model,
                "data_dir": str(prepared.path),
                "config_fingerprint": fingerprint,
                "metrics_before": {},
            }
            _write_json(run_dir / "state.json", state)
            mlflow.log_params(_flat_params(cfg, stage) | _precision_params(precision))
            mlflow.set_tags(
                {
                    "taigimed.stage": str(stage),
                    "taigimed.config_fingerprint": fingerprint,
                    "taigimed.data_version": prepared.version,
                    "taigimed.start_model": start_model,
                    "mlflow.source.git.commit": git_commit()["commit"],
                }
            )
            mlflow.log_dict(cfg.model_dump(mode="json"), "config.json")
            data.log_inputs(prepared, [train_name, *val_sets])
        model = load_model(start_model, train_cfg, stage_cfg, device, cfg.model.trust_remote_code)
        from taigimed.train.loss import CausalLMLoss

        scorer = CausalLMLoss(model, cfg.train.loss_chunk_tokens)

        def score_all() -> dict[str, float]:
            return {
                name: mean_loss(scorer, ex, stage_cfg.seq_len, rows_eval, filler_id, device, amp)
                for name, ex in val_sets.items()
            }

        if not state["metrics_before"]:
            state["metrics_before"] = score_all()
            _write_json(run_dir / "state.json", state)
            mlflow.log_metrics({f"{k}_loss_before": v for k, v in state["metrics_before"].items()})

        prog = train_steps(
            model,
            plan,
            train_cfg,
            stage_cfg,
            device,
            filler_id,
            ckpt_root,
            resume_from,
            lambda m, step: mlflow.log_metrics(m, step=step),
            accelerator,
        )
        model = accelerator.unwrap_model(model)
        after = score_all()
        metrics = _metrics(state["metrics_before"], after, prog, val_name, stage, cfg)
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if _numeric(v)})

        model_dir, adapter_dir = save_outputs(model, tokenizer, run_dir, stage_cfg.method)
        run_info = {
            "stage": stage,
            "mlflow_run_id": run.info.run_id,
            "run_name": run_dir.name,
            "run_dir": str(run_dir),
            "base_model": cfg.model.base,
            "start_model": start_model,
            "data_version": prepared.version,
            "data_dir": str(prepared.path),
            "config_fingerprint": fingerprint,
            "method": stage_cfg.method,
            "precision": precision.as_record(),
            "model_dir": str(model_dir),
            "adapter_dir": str(adapter_dir) if adapter_dir else None,
            "metrics": metrics,
        }
        card.write_model_card(model_dir / "MODEL_CARD.md", cfg, stage, run_info)
        _write_json(run_dir / "run.json", run_info)
        mlflow.log_artifact(str(run_dir / "run.json"))
        mlflow.log_artifact(str(model_dir / "MODEL_CARD.md"))
        if adapter_dir is not None:
            mlflow.log_artifacts(str(adapter_dir), "adapter")
        if cfg.train.log_model_artifact:
            mlflow.log_artifacts(str(model_dir), "model")
    _write_json(stage_root / "latest.json", {"run_name": run_dir.name, "run_dir": str(run_dir)})
    # the final weights are saved; keep only the newest checkpoint for a later look
    for old in sorted(ckpt_root.glob("step-*"))[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    return run_dir


def _precision_params(choice: PrecisionChoice) -> dict[str, str]:
    return {"train.precision_used": choice.precision, "train.precision_reason": choice.reason}


def _numeric(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _metrics(before: dict, after: dict, prog, val_name: str, stage: int, cfg: Config) -> dict:
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
