"""Move the aliases ``staging`` → ``canary`` → ``production``, and roll them back.

MLflow keeps only an alias's current version, so each alias's history is kept
as a registered-model tag (a JSON list of versions); ``rollback`` returns the
alias to the version it held before.

The very first release has no production version to compare a canary with:
``first_release`` sends staging's version (its smoke test passed) straight to
canary and production and records that decision on the version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from taigimed.config import Config
from taigimed.registry import store
from taigimed.workdir import Workdir

# Where a promotion takes its version from when none is named.
PROMOTE_FROM = {"canary": ("staging",), "production": ("canary", "staging")}


@dataclass(frozen=True)
class AliasMove:
    alias: str
    version: int | None  # None: the alias was removed (nothing earlier to return to)
    previous: int | None


@dataclass(frozen=True)
class Release:
    """The path a release of staging's version takes."""

    path: str  # FIRST_RELEASE or CANARY_RELEASE
    version: int | None  # the version released now (first release), else None
    reason: str


FIRST_RELEASE = "first"
CANARY_RELEASE = "canary"
FIRST_RELEASE_DECISION = (
    "staging smoke test: first release (no production version to compare a canary with)"
)


def _history(client, name: str, alias: str) -> list[int]:
    rm = client.get_registered_model(name)
    raw = rm.tags.get(store.TAG_HISTORY_PREFIX + alias)
    history = [int(v) for v in json.loads(raw)] if raw else []
    current = rm.aliases.get(alias)
    # An alias moved by hand in the MLflow UI still counts as the current one.
    if current is not None and (not history or history[-1] != int(current)):
        history.append(int(current))
    return history


def _save_history(client, name: str, alias: str, history: list[int]) -> None:
    # Bounded so the tag stays far below MLflow's tag-length limit.
    client.set_registered_model_tag(
        name, store.TAG_HISTORY_PREFIX + alias, json.dumps(history[-50:])
    )


def set_alias(client, name: str, alias: str, version: int) -> AliasMove:
    history = _history(client, name, alias)
    previous = history[-1] if history else None
    client.set_registered_model_alias(name, alias, str(version))
    if previous != version:
        history.append(version)
    _save_history(client, name, alias, history)
    return AliasMove(alias=alias, version=version, previous=previous)


def _registered(client, name: str):
    try:
        return client.get_registered_model(name)
    except Exception as exc:  # MLflow raises MlflowException for a missing model
        raise store.RegistryError(
            f"no registered model {name!r} in this store yet; run `taigimed pipeline run` first"
        ) from exc


def _version(client, name: str, version: int):
    try:
        return client.get_model_version(name, str(version))
    except Exception as exc:
        raise store.RegistryError(f"{name!r} has no version {version}") from exc


def promote(
    cfg: Config,
    workdir: Workdir,
    to: str,
    version: int | None = None,
    tracking_uri: str | None = None,
) -> AliasMove:
    """Point alias ``to`` (canary or production) at ``version``.

    Without a version, canary takes staging's and production takes canary's (else
    staging's). A version without a passing gate decision is refused.
    """
    if to not in PROMOTE_FROM:
        raise store.RegistryError(f"--to must be one of {', '.join(PROMOTE_FROM)}, got {to!r}")
    client = store.client(cfg, workdir, tracking_uri)
    name = cfg.tracking.registered_model
    rm = _registered(client, name)
    if version is None:
        for source in PROMOTE_FROM[to]:
            if source in rm.aliases:
                version = int(rm.aliases[source])
                break
        else:
            raise store.RegistryError(
                f"nothing to promote to {to}: no version holds {' or '.join(PROMOTE_FROM[to])}; "
                "pass --version N"
            )
    mv = _version(client, name, version)
    if mv.tags.get(store.TAG_GATE_PASSED) != "true":
        raise store.RegistryError(
            f"version {version} of {name!r} never passed the gate; refusing to promote it to {to}"
        )
    return set_alias(client, name, to, int(version))


def first_release(cfg: Config, workdir: Workdir, tracking_uri: str | None = None) -> Release:
    """Release staging's version directly when no version holds production yet.

    A canary is judged against production; with no production there is nothing to judge
    against, so the staging smoke test (run just before) is the gate of the very first
    model: canary and production both take staging's version, and the version records
    who decided. With a production version this changes nothing: the release goes
    through the canary.
    """
    client = store.client(cfg, workdir, tracking_uri)
    name = cfg.tracking.registered_model
    rm = _registered(client, name)
    if "production" in rm.aliases:
        return Release(
            CANARY_RELEASE,
            None,
            f"production holds version {rm.aliases['production']}: the release goes "
            "through the canary analysis",
        )
    if "staging" not in rm.aliases:
        raise store.RegistryError(
            f"no version of {name!r} holds staging, so there is no first release to make; "
            "run `taigimed pipeline run` first"
        )
    version = int(rm.aliases["staging"])
    # promote() refuses a version that never passed the gate, before any alias moves.
    promote(cfg, workdir, "canary", version, tracking_uri)
    promote(cfg, workdir, "production", version, tracking_uri)
    client.set_model_version_tag(
        name, str(version), store.TAG_RELEASE_DECISION, FIRST_RELEASE_DECISION
    )
    return Release(FIRST_RELEASE, version, FIRST_RELEASE_DECISION)


def rollback(
    cfg: Config, workdir: Workdir, alias: str = "production", tracking_uri: str | None = None
) -> AliasMove:
    """Return ``alias`` to the version it held before its current one.

    A canary with no earlier version (the first canary) goes back to production's version,
    so the canary pods serve what production serves; with no production either, the canary
    alias is removed. Production itself never loses its alias: with nothing earlier, its
    rollback is refused.
    """
    client = store.client(cfg, workdir, tracking_uri)
    name = cfg.tracking.registered_model
    rm = _registered(client, name)
    history = _history(client, name, alias)
    if len(history) < 2 and alias != "canary":
        raise store.RegistryError(
            f"alias {alias!r} has no earlier version to roll back to "
            f"(history: {history or 'empty'})"
        )
    current = history.pop() if history else None
    if history:
        target: int | None = history[-1]
    else:
        production = rm.aliases.get("production")
        target = int(production) if production is not None else None
        history = [target] if target is not None else []
    if target is None:
        if current is not None:
            client.delete_registered_model_alias(name, alias)
    else:
        client.set_registered_model_alias(name, alias, str(target))
    _save_history(client, name, alias, history)
    return AliasMove(alias=alias, version=target, previous=current)


def list_versions(
    cfg: Config, workdir: Workdir, tracking_uri: str | None = None
) -> list[dict[str, Any]]:
    """Every version, newest first, with its aliases, gate status and key metrics."""
    client = store.client(cfg, workdir, tracking_uri)
    name = cfg.tracking.registered_model
    rm = _registered(client, name)
    by_version: dict[int, list[str]] = {}
    for alias, v in rm.aliases.items():
        by_version.setdefault(int(v), []).append(alias)
    rows = []
    for mv in client.search_model_versions(f"name='{name}'"):
        metrics = {
            k.removeprefix("taigimed.metric."): v
            for k, v in mv.tags.items()
            if k.startswith("taigimed.metric.")
        }
        rows.append(
            {
                "version": int(mv.version),
                "aliases": sorted(by_version.get(int(mv.version), [])),
                "gate_passed": mv.tags.get(store.TAG_GATE_PASSED) == "true",
                "created": mv.creation_timestamp,
                "run_id": mv.run_id,
                "knowledge": mv.tags.get(store.TAG_KNOWLEDGE_VERSION),
                "metrics": metrics,
            }
        )
    return sorted(rows, key=lambda r: -r["version"])
