"""The pipeline's steps: the same library functions the subcommands call, plus their records.

Gating is evaluation's (``evaluate.candidate``), lineage the registry's (``registry.lineage``).

Each step returns its typed result (``pipeline.results``), which the runner stores in
the pipeline state and ``pipeline.run`` hands to the next step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from taigimed.artifacts import content_digest, file_sha256
from taigimed.config import Config
from taigimed.pipeline.isolate import call_in_process
from taigimed.pipeline.results import (
    Evaluation,
    GgufExports,
    GgufFile,
    KnowledgeResult,
    PreparedData,
    TrainedStage,
)
from taigimed.train.config import STAGE_DATASETS as STAGE_DATASETS  # what run.py keys on
from taigimed.workdir import Workdir

# Which prepared datasets each step reads (training: STAGE_DATASETS): their contents, not
# the data version, key the cache, so a data change that only touches stage 2 keeps stage 1
# cached.
EVAL_DATASETS = ("medqa_test", "taigi_test", "translation_test", "taigi_cloze_test")


def dataset_digests(data_dir: Path, names: tuple[str, ...]) -> dict[str, str]:
    """The digest of each dataset's Arrow files, as its manifest recorded it when written."""
    from taigimed.data.load import load_prepared

    prepared = load_prepared(Path(data_dir))
    return {name: prepared.digest(name) for name in names}


def source_hashes(cfg: Config) -> dict[str, str]:
    """Content hashes of every local data source the recipe names, and of the data root
    (TAIGIMED_DATA_ROOT, data.data_root or the first of data.data_root_search found).

    Sources fetched from PyPI are pinned by version in the config, which is hashed too.
    """
    from taigimed.data.sources import data_root

    paths: dict[str, Path] = {}
    if root := data_root(cfg.data):
        paths["resolved data root"] = root  # not the data_root field: env may override it
    for key, value in cfg.data.model_dump().items():
        if isinstance(value, Path):
            paths[key] = value
        elif isinstance(value, dict):
            paths.update({f"{key}.{k}": v for k, v in value.items() if isinstance(v, Path)})
    return {k: content_digest(p) for k, p in sorted(paths.items()) if p.expanduser().exists()}


def authored_set_digest(cfg: Config) -> str:
    """Content digest of the Taigi medical set the evaluation reads (shipped or configured)."""
    from taigimed.evaluate.eval_sets import builtin_set_dir

    folder = Path(cfg.eval.taigi_medical_path or builtin_set_dir())
    return content_digest(folder) if folder.exists() else "absent"


def prepare_data(cfg: Config, workdir: Workdir) -> PreparedData:
    return _in_own_process(_prepare_data, cfg, workdir)


Heavy = TypeVar("Heavy", PreparedData, TrainedStage, Evaluation)


def _in_own_process(fn: Callable[..., Heavy], *args: Any) -> Heavy:
    """``fn``'s result, computed in a process of its own, with that process's peak RSS.

    The heavy steps (data, training, evaluation) run this way, so that each returns its
    memory to the OS before the next starts.
    """
    result, peak_mb = call_in_process(fn, *args)
    return replace(result, peak_rss_mb=round(peak_mb, 1))


def _prepare_data(cfg: Config, workdir: Workdir) -> PreparedData:
    from taigimed.data.load import load_prepared
    from taigimed.data.prepare import prepare

    prepared = load_prepared(Path(prepare(cfg, workdir)))
    return PreparedData(
        data_dir=str(prepared.path),
        version=prepared.path.name,
        manifest_sha256=prepared.manifest_sha256,
    )


def train_stage(
    cfg: Config,
    workdir: Workdir,
    stage: int,
    data_dir: str,
    init_model: str | None,
    resume: bool,
    tracking_uri: str | None,
) -> TrainedStage:
    return _in_own_process(
        _train_stage, cfg, workdir, stage, data_dir, init_model, resume, tracking_uri
    )


def accelerate_config_path(name: str) -> Path:
    """``train.accelerate_config`` as a file: as given, else beside the shipped recipes."""
    from taigimed.config import ConfigError, recipe_dir

    path = Path(name).expanduser()
    if path.exists():
        return path
    shipped = recipe_dir() / name
    if shipped.exists():
        return shipped
    raise ConfigError(
        f"train.accelerate_config={name!r} is neither a file nor under {recipe_dir()}"
    )


def launch_training(
    cfg: Config,
    workdir: Workdir,
    stage: int,
    data_dir: str,
    init_model: str | None,
    resume: bool,
    tracking_uri: str | None,
) -> Path:
    """``taigimed train`` under ``accelerate launch``, one process per GPU; its run folder.

    The config goes as a file (it may carry the gate's adjustments, which no recipe holds).
    """
    import subprocess
    import sys
    import tempfile

    import yaml

    t = cfg.train
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes",
           str(t.num_processes), "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no"]  # fmt: skip
    if t.accelerate_config:
        cmd += ["--config_file", str(accelerate_config_path(t.accelerate_config))]
    if t.device == "cpu":
        cmd.append("--cpu")  # gloo; tests and machines without a GPU
    with tempfile.TemporaryDirectory(prefix="taigimed-launch-") as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), allow_unicode=True))
        cmd += ["-m", "taigimed.cli", "train", "--stage", str(stage), "--config", str(config),
                "--workdir", str(workdir.root), "--data", str(data_dir)]  # fmt: skip
        cmd += ["--init-model", str(init_model)] if init_model else []
        cmd += ["--resume"] if resume else []
        cmd += ["--tracking-uri", tracking_uri] if tracking_uri else []
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"accelerate launch of stage {stage} exited {done.returncode} (its log is above)"
        )
    return Path(done.stdout.strip().splitlines()[-1])


def _train_stage(
    cfg: Config,
    workdir: Workdir,
    stage: int,
    data_dir: str,
    init_model: str | None,
    resume: bool,
    tracking_uri: str | None,
) -> TrainedStage:
    from taigimed.train import run_stage

    if cfg.train.num_processes > 1:
        run_dir = launch_training(cfg, workdir, stage, data_dir, init_model, resume, tracking_uri)
    else:
        run_dir = Path(
            run_stage(
                cfg,
                workdir,
                stage,
                data_dir=data_dir,
                init_model=init_model,
                resume=resume,
                tracking_uri=tracking_uri,
            )
        )
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    model_dir = run_dir / "model"
    return TrainedStage(
        run_dir=str(run_dir),
        run_name=info.get("run_name", run_dir.name),
        model_dir=str(model_dir),
        model_digest=info["model_digest"],
        mlflow_run_id=info.get("mlflow_run_id"),
        metrics=info.get("metrics", {}),
    )


GGUF_TYPES = ("f16", "q8_0")


def export_gguf(cfg: Config, workdir: Workdir, model_dir: str) -> GgufExports:
    """The trained model as GGUF (f16, q8_0 and the type the gate scores), with sha256s."""
    from taigimed.models.gguf_export import ensure_gguf, template_for

    template = template_for(cfg.model.base, workdir)
    out = {}
    for outtype in sorted({*GGUF_TYPES, cfg.eval.gguf_type}):
        exported = ensure_gguf(model_dir, outtype, template)
        out[outtype] = GgufFile(path=str(exported.path), sha256=exported.sha256)
    return GgufExports(out)


def knowledge(cfg: Config, workdir: Workdir, out_json: Path) -> KnowledgeResult:
    """Build the knowledge version and evaluate it (``taigimed knowledge eval``)."""
    from taigimed.evaluate.knowledge import build_and_evaluate

    folder, version, report = build_and_evaluate(cfg, workdir, out_json)
    held = report["heldout"]["overall"]
    return KnowledgeResult(
        folder=str(folder),
        version=version,
        report=str(out_json),
        report_sha256=file_sha256(out_json),
        metrics={
            "heldout.recall@1": held["recall@1"]["value"],
            "heldout.recall@3": held["recall@3"]["value"],
            "served.rubric_recall": report["served_rubric"]["rubric_recall"]["value"],
        },
    )


def evaluate(
    cfg: Config, workdir: Workdir, model_dir: str, data_dir: str, out_json: Path, champion
) -> Evaluation:
    return _in_own_process(_evaluate, cfg, workdir, model_dir, data_dir, out_json, champion)


def _evaluate(
    cfg: Config, workdir: Workdir, model_dir: str, data_dir: str, out_json: Path, champion
) -> Evaluation:
    from taigimed.evaluate import evaluate_model
    from taigimed.evaluate.report import key_metrics

    report = evaluate_model(
        cfg,
        workdir,
        model_dir,
        out_json,
        data_dir=data_dir,
        champion_report=champion.report if champion is not None else None,
    )
    return Evaluation(
        report=str(out_json),
        report_sha256=file_sha256(out_json),
        metrics=key_metrics(report),
        sample=report.get("sample", {}),
    )
