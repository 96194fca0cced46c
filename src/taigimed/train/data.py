"""The prepared data a stage trains on (read by ``taigimed.data.load``), and its MLflow record."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from taigimed.data.load import PreparedVersion, load_prepared
from taigimed.data.schema import DatasetSchemaError, check_records
from taigimed.workdir import Workdir

__all__ = ["DatasetSchemaError", "TrainingData", "log_inputs", "open_prepared"]


@dataclass
class TrainingData:
    """A prepared version whose ``dataset(name)`` is checked to hold training records."""

    prepared: PreparedVersion

    @property
    def path(self) -> Path:
        return self.prepared.path

    @property
    def version(self) -> str:
        return self.prepared.version

    @property
    def manifest(self) -> dict:
        return self.prepared.manifest

    @property
    def manifest_sha256(self) -> str:
        return self.prepared.manifest_sha256

    def dataset(self, name: str):
        ds = self.prepared.dataset(name)
        check_records(ds, name)
        return ds


def open_prepared(workdir: Workdir, data_dir: str | Path | None = None) -> TrainingData:
    """``data_dir``, else the version ``WORKDIR/data/current.json`` names."""
    return TrainingData(load_prepared(Path(data_dir) if data_dir is not None else workdir))


# MLflow keeps a dataset digest in a 36-character column: the manifest's digest, shortened.
_MLFLOW_DIGEST_CHARS = 16


def log_inputs(data: TrainingData, names: list[str]) -> None:
    """Each dataset as an MLflow run input, plus the data manifest as an artifact."""
    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    for name in names:
        folder = data.path / "datasets" / name
        rows = len(data.dataset(name))
        # MetaDataset: name, digest and source only; MLflow's HF wrapper would re-read and
        # schema-infer every row (and fails on the nested ``messages`` column)
        with warnings.catch_warnings():  # "file://" matches two equivalent local sources
            warnings.simplefilter("ignore")
            source = resolve_dataset_source(folder.as_uri())
        dataset = MetaDataset(
            source,
            name=f"{name}@{data.version}",
            digest=data.prepared.digest(name)[:_MLFLOW_DIGEST_CHARS],
        )
        mlflow.log_input(dataset, context=name.rsplit("_", 1)[-1], tags={"rows": str(rows)})
    mlflow.log_dict(data.manifest, "data/manifest.json")
