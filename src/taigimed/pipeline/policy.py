"""The retry policy: how a recipe is adjusted before retraining after a failed gate.

``gate.adjustments`` lists config fields with an operation; retry k (attempt k+1)
applies each one k times, compounding (learning rate 2e-4 → 1e-4 → 5e-5). The
adjusted recipe is validated like any other, so a policy naming a field that does
not exist fails before any training starts.
"""

from __future__ import annotations

from typing import Any

from taigimed.config import Config, ConfigError, dotted_parent


def _get(tree: dict[str, Any], dotted: str) -> tuple[dict[str, Any], str]:
    try:
        node, leaf = dotted_parent(tree, dotted)
    except ConfigError:
        node, leaf = {}, ""
    if leaf not in node:
        raise ConfigError(f"gate.adjustments: {dotted!r} does not name a config field")
    return node, leaf


def adjusted(cfg: Config, retries: int) -> tuple[Config, dict[str, Any]]:
    """``cfg`` after ``retries`` applications of the policy, and the changed values."""
    if retries == 0:
        return cfg, {}
    tree = cfg.model_dump(mode="python")
    changes: dict[str, Any] = {}
    for adj in cfg.gate.adjustments:
        node, leaf = _get(tree, adj.field)
        value = node[leaf]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"gate.adjustments: {adj.field} is not numeric ({value!r})")
        for _ in range(retries):
            value = value * adj.multiply if adj.multiply is not None else value + adj.add
            if adj.maximum is not None:
                value = min(value, adj.maximum)
        # Integers stay integers (at least 1); floats drop 0.2 + 0.1 = 0.30000000000000004 noise.
        value = max(1, round(value)) if isinstance(node[leaf], int) else round(value, 10)
        node[leaf] = value
        changes[adj.field] = value
    try:
        return Config.model_validate(tree), changes
    except ValueError as exc:
        raise ConfigError(f"gate.adjustments produce an invalid recipe: {exc}") from exc


def check_policy(cfg: Config) -> None:
    """Fail at start-up, not after an hour of training, if the policy is broken."""
    for retries in range(cfg.gate.max_attempts):
        adjusted(cfg, retries)
