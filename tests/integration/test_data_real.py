"""The data pipeline on the real files under TAIGIMED_DATA_ROOT (shared/data).

Reads all of MedQA-TW and the parallel file, and the first rows of the large sources
(so the test stays within a few seconds); the full run is timed by
benchmarks/bench_data_prepare.py.
"""

import pytest

from taigimed.config import load_config
from taigimed.data.load import load_prepared
from taigimed.data.prepare import prepare
from taigimed.workdir import Workdir

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def real(data_root, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAIGIMED_DATA_ROOT", str(data_root))
        cfg = load_config(
            "default", ["data.max_rows_per_source=3000", "data.workers=2", "data.dataset_caps={}"]
        )
        wd = Workdir(tmp_path_factory.mktemp("real") / "work")
        yield load_prepared(prepare(cfg, wd, progress=False))


def test_medqa_tw_cleaning_counts(real):
    f = real.manifest["filters"]["medqa_tw"]
    assert f["read"] == 2412  # dev 1,412 + test 1,000
    assert f["cleaned"]["compatibility_ideographs_folded"] > 1000  # "more than half"
    assert 50 <= f["cleaned"]["kangxi_radicals_folded"] <= 150
    assert 10 <= f["flagged"]["private_use_characters"] <= 50
    assert f["removed"]["depends_on_previous_question"] >= 50  # 承上題
    assert f["removed"]["refers_to_missing_figure"] > 50
    assert f["removed"]["question_is_exam_number"] >= 1
    assert f["cleaned"]["leading_exam_number"] > 200
    assert f["read"] == f["kept"] + sum(f["removed"].values())
    assert not real.manifest["demo_medqa"]


def test_real_outputs(real):
    m = real.manifest
    assert 800 < m["datasets"]["medqa_test"]["rows"] <= 1000  # the test file stays test
    assert m["datasets"]["medqa_train"]["rows"] > 900
    q = real.dataset("medqa_test")[0]["question"]
    assert not q[:2].strip().isdigit()
    assert "\uf99c" not in "".join(real.dataset("medqa_train")["question"])
    assert all(v == 0 for v in m["leakage_check"].values())
    assert m["filters"]["textbooks"]["removed"]["running_header"] > 0
    for name, f in m["filters"].items():  # every row accounted for
        assert f["read"] == f["kept"] + sum(f["removed"].values()) + f["skipped_unreadable"], name
    assert m["filters"]["sinica"]["cleaned"]["mixed_punctuation_unified"] > 0
    assert m["filters"]["parallel"]["kept"] == 100  # the complete ZH/HAN/TL rows
    text = "".join(real.dataset("stage1_train").filter(lambda r: r["kind"] == "text")["text"])
    assert "醫" in text and "医" not in text  # s2twp ran
    tl = " ".join(real.dataset("taigi_test")["tailo"])
    assert "ā" in tl or "á" in tl
    directions = set(real.dataset("translation_test")["direction"])
    assert directions == {"zh-han", "han-tl"}
    assert all(r["messages"] for r in real.dataset("stage1_validation"))
