"""MLflow Model Registry: register gated models with lineage, move aliases, resolve a model."""

from taigimed.registry.aliases import first_release, list_versions, promote, rollback
from taigimed.registry.champion import Champion, find_champion
from taigimed.registry.register import RegisteredVersion, register_model
from taigimed.registry.resolve import ResolvedModel, resolve_model
from taigimed.registry.store import ALIASES, RegistryError

__all__ = [
    "ALIASES",
    "Champion",
    "RegisteredVersion",
    "RegistryError",
    "ResolvedModel",
    "find_champion",
    "first_release",
    "list_versions",
    "promote",
    "register_model",
    "resolve_model",
    "rollback",
]
