"""Writing a prepared version: datasets (``save_to_disk``), ``manifest.json``, data card.

The manifest records, per dataset, rows, path and the digest of its Arrow files
(``artifacts.folder_digest``: hashed here, once; training and the pipeline read it); per
source, file hashes and licence; every filter count by reason; the leakage check; the config
hash; package version and git commit.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
from datasets import Dataset, DatasetInfo
from datasets.table import InMemoryTable

from taigimed import __version__
from taigimed.artifacts import folder_digest, git_commit
from taigimed.config import Config
from taigimed.data.card import write_card
from taigimed.data.load import ARROW_FILES
from taigimed.data.schema import features_for
from taigimed.data.sources import Sources

LICENCES = {
    "medqa_tw": "MIT (MedQA, Jin et al. 2021)",
    "medqa_demo": "Apache-2.0, written by the TaigiMed project (demo set, not real exam items)",
    "textbooks": "none stated by the files",
    "sinica": "none stated (PyPI metadata says License: UNKNOWN; author 高明達, Academia Sinica)",
    "parallel": "none stated by the file",
}


def write_outputs(
    folder: Path,
    cfg: Config,
    version: str,
    sources: Sources,
    file_hashes: dict[str, str],
    result,
    timings: dict[str, float],
    started: float,
) -> None:
    import datasets as hf_datasets

    hf_datasets.disable_progress_bars()  # our own progress bar covers this step
    ds_meta = {}
    for name, rows in result.datasets.items():
        path = folder / "datasets" / name
        features = features_for(name)
        # pyarrow builds the table in C++; Dataset.from_list would encode every nested
        # value in Python (a third of a cold run on the full data).
        table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
        ds = Dataset(InMemoryTable(table), info=DatasetInfo(features=features))
        ds.save_to_disk(str(path))
        ds_meta[name] = {
            "rows": len(rows),
            "digest": folder_digest(path, ARROW_FILES),
            "path": f"datasets/{name}",
        }
    medqa_name = "medqa_demo" if sources.medqa_is_demo else "medqa_tw"
    source_files = {
        medqa_name: [str(p) for p in sources.medqa.values()],
        "textbooks": [str(p) for p in sources.textbooks],
        "sinica": [str(sources.sinica)] if sources.sinica else [],
        "parallel": [str(sources.parallel)] if sources.parallel else [],
    }
    src_meta = {}
    for name, files in source_files.items():
        src_meta[name] = {
            "files": [{"path": f, "sha256": file_hashes[f]} for f in files],
            "origin": sources.sinica_origin
            if name == "sinica"
            else ("absent" if not files else "file"),
            "licence": LICENCES[name],
            "absent": sources.absent.get(name),
            "demo": name == "medqa_demo",
        }
    skipped = sum(len(r.skipped) for r in result.reports.values())
    manifest = {
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "package_version": __version__,
        "git_commit": git_commit()["commit"],
        "config_hash": cfg.fingerprint("data"),
        "recipe": cfg.name,
        "seed": cfg.seed,
        "data_config": cfg.data.model_dump(mode="json"),
        "demo_medqa": sources.medqa_is_demo,
        "sources": src_meta,
        "filters": {n: r.as_dict(result.kept.get(n, 0)) for n, r in result.reports.items()},
        "skipped_unreadable_rows": skipped,
        "leakage_check": result.leakage,
        "held_out": result.held_out,
        "stage2_mix": result.mix,
        "datasets": ds_meta,
        "timings_s": timings,
    }
    pngs = write_card(folder, manifest, result.datasets)
    manifest["histograms"] = pngs
    manifest["timings_s"]["total_before_write_manifest"] = round(time.perf_counter() - started, 3)
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
