"""Reading a prepared version back: ``load_prepared(path_or_workdir)``, the one reader of
prepared data (training, evaluation and the drift report use it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from taigimed.artifacts import file_sha256, folder_digest
from taigimed.workdir import Workdir

# What a saved dataset's digest covers: its data, not its state files (those hold timestamps).
ARROW_FILES = "*.arrow"


class PreparedDataError(FileNotFoundError):
    """No prepared data where one was expected; the message says how to make it."""


@dataclass
class PreparedVersion:
    """One prepared version folder read back (not the pipeline's ``PreparedData`` step
    result, which only names the folder)."""

    path: Path
    manifest: dict
    manifest_sha256: str  # of the manifest.json bytes this was read from
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def names(self) -> list[str]:
        return list(self.manifest["datasets"])

    def digest(self, name: str) -> str:
        """The digest of ``name``'s Arrow files that the manifest recorded when it was written.

        Data prepared before manifests recorded it (their ``sha256`` was computed another
        way) gets it computed here the same way, so the value means one thing everywhere.
        """
        meta = self.manifest["datasets"].get(name)
        folder = self.path / meta["path"] if meta else None
        if folder is None or not folder.is_dir():
            raise PreparedDataError(
                f"{self.path} has no saved {name!r} dataset; re-run `taigimed data prepare`"
            )
        return meta.get("digest") or folder_digest(folder, ARROW_FILES)

    def dataset(self, name: str):
        """The named ``datasets.Dataset`` (memory-mapped from disk), checked against its
        schema (``taigimed.data.schema``)."""
        if name not in self.manifest["datasets"]:
            raise PreparedDataError(
                f"no dataset {name!r} in {self.path} (it has {self.names}); "
                "re-run `taigimed data prepare`"
            )
        if name not in self._cache:
            from datasets import Dataset, load_from_disk

            from taigimed.data.schema import check_columns, features_for

            meta = self.manifest["datasets"][name]
            folder = self.path / meta["path"]
            if meta["rows"] == 0:
                # datasets cannot load a saved table with no rows; rebuild it with its schema
                features = features_for(name)
                ds = Dataset.from_dict({k: [] for k in features}, features=features)
            elif not folder.is_dir():
                raise PreparedDataError(
                    f"{folder} is missing: the prepared data lost its {name!r} dataset; "
                    "re-run `taigimed data prepare`"
                )
            else:
                ds = load_from_disk(str(folder))
            check_columns(ds, name)
            self._cache[name] = ds
        return self._cache[name]


def load_prepared(path_or_workdir: Path | str | Workdir) -> PreparedVersion:
    """A version folder, or a work directory (its ``data/current.json`` names the newest)."""
    if isinstance(path_or_workdir, Workdir):
        root = path_or_workdir.root
    else:
        root = Path(path_or_workdir).expanduser()
    folder = root
    if not (folder / "manifest.json").is_file():
        for current in (root / "data" / "current.json", root / "current.json"):
            if current.is_file():
                folder = Path(json.loads(current.read_text(encoding="utf-8"))["path"])
                break
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise PreparedDataError(
            f"no prepared data at {root}: run `taigimed data prepare --workdir {root}` first"
        )
    return PreparedVersion(
        folder, json.loads(manifest.read_text(encoding="utf-8")), file_sha256(manifest)
    )
