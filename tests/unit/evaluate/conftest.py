"""Fixtures for evaluation tests: a prepared-data folder built from tests/assets/evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "evaluate"


def read_asset(name: str) -> list[dict]:
    with (ASSETS / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory) -> Path:
    """A folder laid out like `taigimed data prepare` output (datasets/<name>/)."""
    import datasets

    root = tmp_path_factory.mktemp("prepared")
    names = ("medqa_test", "taigi_test", "translation_test", "taigi_cloze_test")
    entries = {}
    for name in names:
        rows = read_asset(name)
        datasets.Dataset.from_list(rows).save_to_disk(str(root / "datasets" / name))
        entries[name] = {"path": f"datasets/{name}", "rows": len(rows)}
    manifest = {"version": "fixture", "datasets": entries}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def tiny_lm(tiny_model_dir):
    from taigimed.evaluate.scoring import load_model

    return load_model(tiny_model_dir, "float32", 512)


@pytest.fixture(scope="session")
def sharp_lm(tiny_lm):
    """The tiny model with large random weights: its greedy tokens depend on the prompt.

    The tiny model's own small initialisation answers every prompt with the same newlines,
    so a test of greedy decoding on it could not tell a right answer from a wrong one."""
    import copy
    import dataclasses

    import torch

    model = copy.deepcopy(tiny_lm.model)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return dataclasses.replace(tiny_lm, model=model)
