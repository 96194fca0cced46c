"""``DATA_CARD.md`` and its length histograms, written from the manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from taigimed.data.mix import __doc__ as CURRICULUM_DOC

# The field whose length each dataset's histogram shows.
_LENGTH_FIELD = {
    "medqa_train": "question",
    "medqa_test": "question",
    "stage1_train": "text",
    "stage2_train": "text",
    "taigi_test": "han",
    "translation_test": "source_text",
}


def _histograms(folder: Path, datasets: dict[str, list[dict]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, field in _LENGTH_FIELD.items():
        rows = datasets.get(name) or []
        if not rows:
            continue
        lengths = np.fromiter((len(r[field]) for r in rows), dtype=np.int64, count=len(rows))
        fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
        ax.hist(lengths, bins=40, color="#3a7")
        ax.set_title(f"{name}: length of {field} (characters)")
        ax.set_xlabel("characters")
        ax.set_ylabel("rows")
        fig.tight_layout()
        png = f"hist_{name}.png"
        fig.savefig(folder / png)
        plt.close(fig)
        written.append(png)
    return written


def write_card(folder: Path, manifest: dict, datasets: dict[str, list[dict]]) -> list[str]:
    pngs = _histograms(folder, datasets)
    lines = [f"# TaigiMed prepared data — version `{manifest['version']}`", ""]
    if manifest["demo_medqa"]:
        lines += [
            "> **Demo set.** No MedQA files were configured, so the MCQ datasets come from the",
            "> ~60 Taiwanese-Mandarin medical questions the project wrote itself",
            "> (`src/taigimed/data/demo/`). They show the pipeline working; they are not real",
            "> exam items and scores on them mean little. Set `TAIGIMED_DATA_ROOT` or",
            "> `data.medqa_dir` for the real MedQA-TW.",
            "",
        ]
    lines += [
        f"Recipe `{manifest['recipe']}`, package {manifest['package_version']}, "
        f"git `{manifest['git_commit']}`, config hash `{manifest['config_hash'][:12]}`.",
        "",
        "## Sources",
        "",
        "| source | files | licence | read | kept | status |",
        "|---|---|---|---|---|---|",
    ]
    for name, meta in manifest["sources"].items():
        stats = manifest["filters"].get(name, {})
        files = ", ".join(Path(f["path"]).name for f in meta["files"]) or "—"
        status = f"absent: {meta['absent']}" if meta["absent"] else meta["origin"]
        lines.append(
            f"| {name} | {files} | {meta['licence']} | {stats.get('read', 0)} | "
            f"{stats.get('kept', 0)} | {status} |"
        )
    lines += [
        "",
        "## Filters and cleaning (rows)",
        "",
        "| source | kind | reason | rows |",
        "|---|---|---|---|",
    ]
    for name, stats in manifest["filters"].items():
        for kind in ("removed", "cleaned", "flagged"):
            for reason, n in stats.get(kind, {}).items():
                lines.append(f"| {name} | {kind} | {reason} | {n} |")
        if stats.get("skipped_unreadable"):
            lines.append(f"| {name} | skipped | unreadable row | {stats['skipped_unreadable']} |")
    lines += [
        "",
        "*removed*: dropped by a filter; *cleaned*: changed by a rule and kept; *flagged*: kept",
        "but counted (e.g. private-use characters nothing can recover).",
        "",
        "## Leakage check",
        "",
        "Held-out items that are near-duplicates (MinHash, Jaccard ≥ "
        f"{manifest['data_config']['minhash_threshold']}) of a training item of the same source:",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in manifest["leakage_check"].items()]
    lines += ["", "## Datasets", "", "| dataset | rows | Arrow digest |", "|---|---|---|"]
    for name, meta in manifest["datasets"].items():
        lines.append(f"| {name} | {meta['rows']} | `{meta['digest'][:16]}` |")
    lines += ["", "## Stage-2 curriculum", "", (CURRICULUM_DOC or "").strip(), ""]
    lines += [f"- {k}: {v}" for k, v in manifest["stage2_mix"].items()]
    lines += ["", "## Length histograms", ""]
    lines += [f"![{p}]({p})" for p in pngs]
    (folder / "DATA_CARD.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pngs
