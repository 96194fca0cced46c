"""Turn "which model?" (an alias, a version, a ``models:/`` URI or a folder) into a local folder.

The server and ``taigimed eval`` call this. Registered artifacts are downloaded
once into WORKDIR/models/registered/<name>-v<version>/ (written to a temp folder
and renamed, so an interrupted download is never mistaken for a model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from taigimed.artifacts import publish_dir
from taigimed.config import Config
from taigimed.registry import store
from taigimed.workdir import Workdir

_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")
_DONE = ".taigimed-download-complete"


@dataclass(frozen=True)
class ResolvedModel:
    """A loadable model. ``source`` is 'registry', 'directory' or 'base'; name/version/alias
    are set for registry models only."""

    path: Path
    name: str | None
    version: int | None
    alias: str | None
    source: str


def _download(client, name: str, version: int, workdir: Workdir) -> Path:
    dest = workdir.models / "registered" / f"{name}-v{version}"
    if (dest / _DONE).exists():
        return dest
    mv = client.get_model_version(name, str(version))
    with publish_dir(dest) as tmp:
        store.download_into(tmp, client.tracking_uri, artifact_uri=mv.source)
        (tmp / _DONE).write_text(f"{mv.source}\n")
    return dest


def _from_registry(client, name: str, workdir: Workdir, *, alias=None, version=None):
    if alias is not None:
        try:
            mv = client.get_model_version_by_alias(name, alias)
        except Exception as exc:
            raise store.RegistryError(f"no version of {name!r} holds the alias {alias!r}") from exc
        version = int(mv.version)
    else:
        try:
            client.get_model_version(name, str(version))
        except Exception as exc:
            raise store.RegistryError(f"{name!r} has no version {version}") from exc
    path = _download(client, name, int(version), workdir)
    return ResolvedModel(path=path, name=name, version=int(version), alias=alias, source="registry")


def _base(cfg: Config, workdir: Workdir, alias: str | None = None) -> ResolvedModel:
    from taigimed.models.resolve import resolve_base

    return ResolvedModel(
        path=Path(resolve_base(cfg.model, workdir)),
        name=None,
        version=None,
        alias=alias,  # set when the base stands in for an alias no version holds yet
        source="base",
    )


def resolve_model(
    workdir: Workdir,
    cfg: Config,
    spec: str | None = None,
    tracking_uri: str | None = None,
    base_until_registered: bool = False,
) -> ResolvedModel:
    """A local model folder for ``spec``.

    ``spec`` is an alias (``production``), ``models:/name@alias``, ``models:/name/3``,
    a version number, or a model directory. ``None`` means the ``production`` alias,
    else the newest version holding any alias, else the configured base model (for a
    hub-id base, ``path`` is that id).
    """
    name = cfg.tracking.registered_model
    if spec is not None:
        path = Path(spec).expanduser()
        if path.is_dir():
            if not (path / "config.json").exists():
                raise store.RegistryError(f"{spec} is a folder without config.json, not a model")
            return ResolvedModel(path.resolve(), None, None, None, source="directory")
        client = store.client(cfg, workdir, tracking_uri)
        if m := _URI.match(spec):
            if m["alias"]:
                return _from_registry(client, m["name"], workdir, alias=m["alias"])
            return _from_registry(client, m["name"], workdir, version=int(m["version"]))
        if spec.isdigit():
            return _from_registry(client, name, workdir, version=int(spec))
        if re.fullmatch(r"[\w-]+", spec):
            if base_until_registered and not _alias_exists(client, name, spec):
                return _base(cfg, workdir, alias=spec)
            return _from_registry(client, name, workdir, alias=spec)
        raise store.RegistryError(
            f"model {spec!r} is neither a folder, a version number, an alias nor a models:/ URI"
        )

    uri = store.resolve_uri(cfg, workdir, tracking_uri)
    if store.local_store_missing(uri):
        return _base(cfg, workdir)
    client = store.client(cfg, workdir, tracking_uri)
    try:
        aliases = client.get_registered_model(name).aliases
    except Exception:  # nothing registered yet
        return _base(cfg, workdir)
    if "production" in aliases:
        return _from_registry(client, name, workdir, alias="production")
    if aliases:
        alias, _ = max(aliases.items(), key=lambda kv: int(kv[1]))
        return _from_registry(client, name, workdir, alias=alias)
    return _base(cfg, workdir)


def _alias_exists(client, name: str, alias: str) -> bool:
    """Whether a version of ``name`` holds ``alias``; the registry must answer (an unreachable
    server raises, so a staging pod never falls back to the base by mistake)."""
    from mlflow.exceptions import MlflowException

    try:
        return alias in client.get_registered_model(name).aliases
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return False
        raise store.RegistryError(f"the registry did not answer for {name!r}: {exc}") from exc
