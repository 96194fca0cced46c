"""Test splits are for testing: only evaluation (and the gate, through its reports) reads them.

Training, serving, monitoring and the registry never name a test dataset; the stages train
and validate on train/validation datasets only. Tuning (prompts, recipes, floors, rules) is
documented per knob in docs/evaluation.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import taigimed
from taigimed.data.config import DATASET_NAMES
from taigimed.train.config import STAGE_DATASETS

TEST_SETS = [n for n in DATASET_NAMES if n.endswith("_test")]
SRC = Path(taigimed.__file__).parent
# Producers (data) and the one reader (evaluate); the pipeline only hashes them for caching.
ALLOWED = {"data", "evaluate", "pipeline"}


def test_there_are_test_sets_and_training_uses_none():
    assert set(TEST_SETS) >= {"medqa_test", "taigi_test", "translation_test", "taigi_cloze_test"}
    for names in STAGE_DATASETS.values():
        assert not set(names) & set(TEST_SETS), names


def _offenders(root: Path) -> list[str]:
    pattern = re.compile("|".join(rf"\b{n}\b" for n in TEST_SETS))
    found = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if len(rel.parts) > 1 and rel.parts[0] in ALLOWED:
            continue
        if pattern.search(path.read_text(encoding="utf-8")):
            found.append(str(rel))
    return found


def test_only_evaluation_code_names_a_test_set():
    offenders = _offenders(SRC)
    assert not offenders, f"test sets named outside evaluation: {offenders}"


def test_the_scan_catches_a_training_module_that_reads_a_test_set(tmp_path):
    """Broken input: a training module that loads medqa_test is flagged."""
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "sneaky.py").write_text('ds = prepared.dataset("medqa_test")\n')
    (tmp_path / "evaluate").mkdir()
    (tmp_path / "evaluate" / "ok.py").write_text('rows = prepared_rows(p, "medqa_test")\n')
    assert _offenders(tmp_path) == ["train/sneaky.py"]
