"""What each pipeline step hands the next: one small typed result per step.

A result is stored in the pipeline state as its JSON outputs (``to_outputs``) and read
back from there on a cache hit (``from_outputs``). A change to a stored shape or to what
a field means goes with a new ``pipeline.keys.KEY_FORMAT``, so that older records are
rebuilt rather than misread; a record that does not fit its result also runs again.
``exists`` says whether the files a cached result names are still there (if not, the
step runs again) and ``summary`` is its line in the step table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Self

from taigimed.pipeline.isolate import PEAK_RSS_KEY


@dataclass(frozen=True)
class StepResult:
    def to_outputs(self) -> dict[str, Any]:
        out = asdict(self)
        if PEAK_RSS_KEY in out and out[PEAK_RSS_KEY] is None:  # ran in the pipeline's process
            del out[PEAK_RSS_KEY]
        return out

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Self:
        """Raises TypeError when ``outputs`` lack a field (a record this code cannot use)."""
        return cls(**{f.name: outputs[f.name] for f in fields(cls) if f.name in outputs})

    def exists(self) -> bool:
        return True

    def summary(self) -> str:
        return ""


@dataclass(frozen=True)
class PreparedData(StepResult):
    """``data``: a prepared data version (``taigimed data prepare``'s folder)."""

    data_dir: str
    version: str
    manifest_sha256: str | None
    peak_rss_mb: float | None = None

    def exists(self) -> bool:
        return Path(self.data_dir).exists()

    def summary(self) -> str:
        return f"version {self.version}"


@dataclass(frozen=True)
class TrainedStage(StepResult):
    """``stage1`` / ``stage2``: a finished training run and the model it saved."""

    run_dir: str
    run_name: str
    model_dir: str
    model_digest: str  # artifacts.folder_digest of model_dir, recorded in run.json
    mlflow_run_id: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float | None = None

    def exists(self) -> bool:
        return Path(self.model_dir).exists()

    def summary(self) -> str:
        before, after = self.metrics.get("val_loss_before"), self.metrics.get("val_loss_after")
        if before is None or after is None:
            return ""
        return f"val loss {before:.3f} → {after:.3f}"


@dataclass(frozen=True)
class GgufFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class GgufExports(StepResult):
    """``export``: the trained model as GGUF files, by type (f16, q8_0, ...)."""

    gguf: dict[str, GgufFile]

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Self:
        return cls({t: GgufFile(**g) for t, g in outputs["gguf"].items()})

    def exists(self) -> bool:
        return all(Path(g.path).exists() for g in self.gguf.values())

    def summary(self) -> str:
        return ", ".join(f"{t} {g.sha256[:12]}" for t, g in self.gguf.items())

    def as_registry_files(self) -> dict[str, dict[str, str]]:
        """The type → {path, sha256} mapping ``register_model`` takes."""
        return {t: asdict(g) for t, g in self.gguf.items()}


@dataclass(frozen=True)
class KnowledgeResult(StepResult):
    """``knowledge``: the knowledge build the model will serve, and its evaluation report."""

    folder: str
    version: str
    report: str
    report_sha256: str
    metrics: dict[str, float] = field(default_factory=dict)

    def exists(self) -> bool:
        return Path(self.folder).exists() and Path(self.report).exists()

    def summary(self) -> str:
        m = ", ".join(f"{k}={v:.3f}" for k, v in self.metrics.items())
        return f"version {self.version}: {m}"


HEADLINE = ("medqa_tw.acc", "taigi_medical.acc", "taigi_general.bits_per_char")


@dataclass(frozen=True)
class Evaluation(StepResult):
    """``evaluate``: the eval report and its headline metrics (``evaluate.report.key_metrics``)."""

    report: str
    report_sha256: str
    metrics: dict[str, dict[str, float]]
    sample: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float | None = None

    def exists(self) -> bool:
        return Path(self.report).exists()

    def summary(self) -> str:
        m = self.metrics
        return ", ".join(f"{k}={m[k]['value']:.3f}" for k in HEADLINE if k in m)


@dataclass(frozen=True)
class GateResult(StepResult):
    """``gate``: the decision record exactly as ``evaluate.gate.GateDecision.to_dict`` writes
    it; the eval report, MLflow and the registry store that record whole."""

    record: dict[str, Any]

    def to_outputs(self) -> dict[str, Any]:
        return self.record

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Self:
        if "passed" not in outputs:
            raise TypeError("a gate record without 'passed'")
        return cls(outputs)

    @property
    def passed(self) -> bool:
        return bool(self.record["passed"])

    @property
    def reasons(self) -> list[str]:
        return list(self.record.get("reasons", []))

    def summary(self) -> str:
        return "passed" if self.passed else "failed: " + "; ".join(self.reasons)


@dataclass(frozen=True)
class Registration(StepResult):
    """``register``: the registry version created (alias ``staging``)."""

    name: str
    version: int
    run_id: str | None

    def summary(self) -> str:
        return f"{self.name} version {self.version} → staging"
