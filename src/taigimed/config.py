"""Typed configuration: one ``Config`` composed of each subpackage's section.

YAML recipes under ``configs/`` hold values only; defaults and validation live
here and in each subpackage's ``config.py``. Unknown keys are rejected, so a
misspelled field fails at start-up with its dotted name, never deep inside a
training loop.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from taigimed.artifacts import fingerprint
from taigimed.configbase import StrictModel
from taigimed.data.config import DataConfig
from taigimed.evaluate.config import EvalConfig, GateConfig
from taigimed.knowledge.config import KnowledgeConfig
from taigimed.models.config import ModelConfig
from taigimed.monitor.config import MonitorConfig
from taigimed.serve.config import ServeConfig
from taigimed.train.config import TrainConfig

DEFAULT_RECIPE = "default"


class TrackingConfig(StrictModel):
    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI; None means the SQLite store under WORKDIR/mlflow. "
        "MLFLOW_TRACKING_URI or --tracking-uri override it.",
    )
    experiment: str = Field("taigimed", description="MLflow experiment name for every run.")
    registered_model: str = Field("taigimed", description="Name in the MLflow Model Registry.")


class Config(StrictModel):
    name: str = Field(DEFAULT_RECIPE, description="Recipe name, recorded with every run.")
    seed: int = Field(1234, description="Global seed for splits, sampling and training.")
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)

    def fingerprint(self, *sections: str) -> str:
        """Stable sha256 of the whole config, or of the named sections only.

        Steps hash only the sections they read, so changing a serving setting
        does not invalidate prepared data or trained models.
        """
        dumped = self.model_dump(mode="json")
        return fingerprint({s: dumped[s] for s in sections} if sections else dumped)

    def part(self, *paths: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
        """The named parts (dotted paths such as ``train.stage1``) as plain JSON data.

        ``drop`` removes dotted paths inside them, so stage 1 can key on the whole
        ``train`` section except ``train.stage2`` (and keeps doing so as fields are added).
        """
        dumped = self.model_dump(mode="json")
        out: dict[str, Any] = {}
        for path in paths:
            node, leaf = dotted_parent(dumped, path)
            out[path] = json.loads(json.dumps(node[leaf]))
        for path in drop:
            head = next((p for p in paths if path.startswith(p + ".")), None)
            if head is not None:
                node, leaf = dotted_parent(out[head], path.removeprefix(head + "."))
                node.pop(leaf, None)
        return out


class ConfigError(ValueError):
    """A recipe that cannot be loaded; the message names the file and field."""


def recipe_dir() -> Path:
    """Shipped recipes: inside the wheel, or ``configs/`` of a source checkout."""
    packaged = resources.files("taigimed") / "configs"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "configs"


def list_recipes() -> list[str]:
    return sorted(p.stem for p in recipe_dir().glob("*.yaml"))


def resolve_recipe(name_or_path: str | Path | None) -> Path:
    """A recipe name (``tiny``) or a path to a YAML file."""
    if name_or_path is None:
        name_or_path = DEFAULT_RECIPE
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ConfigError(f"config file not found: {path}")
        return path
    candidate = recipe_dir() / f"{name_or_path}.yaml"
    if not candidate.exists():
        raise ConfigError(
            f"unknown recipe {str(name_or_path)!r}; shipped recipes: {', '.join(list_recipes())}"
        )
    return candidate


def dotted_parent(
    tree: dict[str, Any], dotted: str, *, create: bool = False
) -> tuple[dict[str, Any], str]:
    """The mapping in ``tree`` that holds ``dotted``'s last part, and that part.

    The one walker of dotted config paths (overrides, cache keys, the retry policy).
    With ``create``, missing sections are added (an override may name a section the
    recipe leaves at its defaults). Raises ConfigError naming the part that is not a
    section; whether the last part exists is the caller's question.
    """
    node = tree
    *sections, leaf = dotted.strip().split(".")
    for part in sections:
        if create:
            node.setdefault(part, {})
        if not isinstance(node.get(part), dict):
            raise ConfigError(f"{dotted!r}: {part!r} is not a section")
        node = node[part]
    return node, leaf


def apply_overrides(tree: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``tree`` (a recipe as plain data) with ``dotted.key=yaml-value`` overrides applied."""
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {override!r} must look like section.field=value")
        try:
            node, leaf = dotted_parent(tree, key, create=True)
        except ConfigError as exc:
            raise ConfigError(f"override {override!r}: {exc}") from exc
        node[leaf] = yaml.safe_load(raw)
    return tree


def load_config(
    name_or_path: str | Path | None = None, overrides: list[str] | None = None
) -> Config:
    """Load and validate a recipe; ``overrides`` are ``dotted.key=yaml-value`` strings."""
    path = resolve_recipe(name_or_path)
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return _validate(apply_overrides(tree, overrides or []), str(path))


def _validate(tree: dict[str, Any], origin: str) -> Config:
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {field}: {err['msg']}")
        raise ConfigError(f"{origin}: invalid config\n" + "\n".join(lines)) from exc
