"""Pipeline state in WORKDIR/pipeline/state.json: which steps finished, for which inputs.

Each step keeps one record per input fingerprint, so a retry with adjusted
settings and a later run with the original ones both find their results. The
file is rewritten atomically (temp file + rename) after every step, so an
interrupted run never leaves it half-written and resumes after the last step
that finished.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taigimed.artifacts import write_json_atomic

VERSION = 1


@dataclass
class PipelineState:
    path: Path
    steps: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    running: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> PipelineState:
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path} is not valid JSON ({exc}); delete it to rerun every step"
            ) from exc
        if raw.get("version") != VERSION:
            raise ValueError(f"{path}: state version {raw.get('version')} != {VERSION}; delete it")
        return cls(path, raw.get("steps", {}), raw.get("running"), raw.get("runs", []))

    def save(self) -> None:
        write_json_atomic(
            self.path,
            {"version": VERSION, "steps": self.steps, "running": self.running, "runs": self.runs},
            sort_keys=True,
        )

    def finished(self, step: str, fingerprint: str) -> dict[str, Any] | None:
        return self.steps.get(step, {}).get(fingerprint)

    def was_interrupted(self, step: str, fingerprint: str) -> bool:
        r = self.running
        return bool(r and r.get("step") == step and r.get("fingerprint") == fingerprint)

    def start(self, step: str, fingerprint: str) -> None:
        self.running = {"step": step, "fingerprint": fingerprint, "started": time.time()}
        self.save()

    def finish(self, step: str, fingerprint: str, outputs: dict[str, Any], seconds: float) -> None:
        self.steps.setdefault(step, {})[fingerprint] = {
            "outputs": outputs,
            "finished": time.time(),
            "seconds": round(seconds, 3),
        }
        self.running = None
        self.save()

    def forget(self, step: str, fingerprint: str) -> None:
        self.steps.get(step, {}).pop(fingerprint, None)
        self.save()
