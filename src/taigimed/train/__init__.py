"""Two-stage fine-tuning: packing, chunked loss, LoRA, checkpoints, MLflow tracking.

``run_stage(cfg, workdir, stage, ...)`` is the entry point (see ``run.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_stage"]


def __getattr__(name: str) -> Any:
    # lazy: taigimed.config imports taigimed.train.config, and run.py imports taigimed.config
    if name == "run_stage":
        from taigimed.train.run import run_stage

        return run_stage
    raise AttributeError(name)
