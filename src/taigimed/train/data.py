"""Find the prepared data for a stage, check its schema, and record it in MLflow."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from taigimed.train.records import DatasetSchemaError, check_schema
from taigimed.workdir import Workdir


@dataclass
class Prepared:
    path: Path
    version: str
    manifest: dict

    def dataset(self, name: str):
        from datasets import load_from_disk

        folder = self.path / "datasets" / name
        if not folder.exists():
            raise DatasetSchemaError(
                f"{folder} is missing: the prepared data has no {name!r} dataset; "
                "re-run `taigimed data prepare`"
            )
        ds = load_from_disk(str(folder))
        check_schema(ds, name)
        return ds


def _current(workdir: Workdir) -> Path:
    pointer = workdir.data / "current.json"
    if not pointer.exists():
        raise FileNotFoundError(
            f"no prepared data: {pointer} does not exist; run `taigimed data prepare` "
            "or pass --data DIR"
        )
    info = json.loads(pointer.read_text())
    for key in ("path", "dir", "folder"):
        if key in info:
            return Path(info[key])
    return workdir.data / str(info["version"])


def open_prepared(workdir: Workdir, data_dir: str | Path | None = None) -> Prepared:
    """The prepared data folder: ``data_dir`` or the one ``WORKDIR/data/current.json`` names."""
    path = Path(data_dir) if data_dir is not None else _current(workdir)
    if not (path / "datasets").is_dir():
        raise FileNotFoundError(f"{path} is not a prepared data folder (no datasets/ inside)")
    manifest_file = path / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    version = str(manifest.get("version") or path.name)
    return Prepared(path.resolve(), version, manifest)


def _digest(folder: Path) -> str:
    """Hash of a saved dataset's state files (Arrow fingerprints), cheap and stable."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.json")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def log_inputs(prepared: Prepared, names: list[str]) -> None:
    """Each dataset as an MLflow run input, plus the data manifest as an artifact."""
    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    for name in names:
        folder = prepared.path / "datasets" / name
        rows = len(prepared.dataset(name))
        # MetaDataset: name, digest and source only; MLflow's HF wrapper would re-read and
        # schema-infer every row (and fails on the nested ``messages`` column)
        with warnings.catch_warnings():  # "file://" matches two equivalent local sources
            warnings.simplefilter("ignore")
            source = resolve_dataset_source(folder.as_uri())
        dataset = MetaDataset(source, name=f"{name}@{prepared.version}", digest=_digest(folder))
        mlflow.log_input(dataset, context=name.rsplit("_", 1)[-1], tags={"rows": str(rows)})
    if prepared.manifest:
        mlflow.log_dict(prepared.manifest, "data/manifest.json")
