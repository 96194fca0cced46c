"""prepare() end to end on the hand-made sources: contract datasets, manifest, cache,
atomic output, errors that name what to fix, and the CLI."""

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taigimed import chat
from taigimed.artifacts import file_sha256, folder_digest
from taigimed.config import load_config
from taigimed.data.config import DATASET_NAMES
from taigimed.data.load import PreparedDataError, load_prepared
from taigimed.data.prepare import prepare
from taigimed.data.report import DataFormatError
from taigimed.data.schema import RECORD_COLUMNS
from taigimed.data.sources import SourceError
from taigimed.workdir import Workdir

DATA_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "data"


def overrides(**extra) -> list[str]:
    values = {
        "data.medqa_dir": str(DATA_ASSETS / "medqa"),
        "data.textbooks_dir": str(DATA_ASSETS / "textbooks"),
        "data.sinica_file": str(DATA_ASSETS / "sinica_small.txt"),
        "data.parallel_file": str(DATA_ASSETS / "parallel.jsonl"),
        "data.workers": "1",
        "data.min_text_chars": "10",
        "data.validation_fraction": "0.2",
        "data.test_fraction": "0.2",
        "data.dataset_caps": "{}",
        **extra,
    }
    return [f"{k}={v}" for k, v in values.items()]


@pytest.fixture()
def wd(tmp_path, monkeypatch):
    from taigimed.workdir import Workdir

    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    return Workdir(tmp_path / "work")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """One prepared version shared by the read-only tests of this module."""
    from taigimed.workdir import Workdir

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TAIGIMED_DATA_ROOT", raising=False)
        wd = Workdir(tmp_path_factory.mktemp("prepared") / "work")
        cfg = load_config("tiny", overrides())
        yield cfg, wd, prepare(cfg, wd, progress=False)


def test_contract_datasets_and_schemas(prepared):
    _, wd, path = prepared
    data = load_prepared(wd.root)  # via WORKDIR/data/current.json
    assert data.path == path
    assert data.names == list(DATASET_NAMES)
    for name in ("medqa_train", "medqa_validation", "medqa_test"):
        assert data.dataset(name).column_names == [
            "id",
            "question",
            "options",
            "answer_idx",
            "answer",
            "category",
            "source",
        ]
    for name in ("stage1_train", "stage1_validation", "stage2_train", "stage2_validation"):
        assert data.dataset(name).column_names == list(RECORD_COLUMNS)
    assert data.dataset("taigi_test").column_names == ["id", "han", "tailo", "source"]
    assert data.dataset("translation_test").column_names == [
        "id",
        "direction",
        "source_text",
        "target_text",
    ]
    # The given test file stays test; its row duplicating a training item is removed.
    test_q = data.dataset("medqa_test")["question"]
    assert len(test_q) == 2 and "心房顫動病人最需要預防的嚴重併發症為何？" not in test_q
    for row in data.dataset("medqa_train"):
        assert row["answer"] == row["options"][row["answer_idx"]]
        rec = next(r for r in data.dataset("stage1_train") if r["id"] == row["id"])
        assert rec["messages"] == chat.mcq_messages(
            row["question"], row["options"], row["answer_idx"]
        )
    s1 = data.dataset("stage1_train")
    assert set(s1["kind"]) == {"chat", "text"}  # MedQA chats + textbook chunks
    s2 = data.dataset("stage2_train")
    assert {"chat", "text"} <= set(s2["kind"])
    assert any(i.startswith("replay-") for i in s2["id"])
    assert s2["phase"] == sorted(s2["phase"])
    assert set(data.dataset("translation_test")["direction"]) <= {"zh-han", "han-tl"}


def test_manifest_and_card(prepared):
    _, _, path = prepared
    m = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert m["version"] == path.name and len(m["config_hash"]) == 64
    assert m["filters"]["medqa_tw"]["removed"]["answer_text_mismatch"] == 1
    assert m["filters"]["medqa_tw"]["removed"]["exact_duplicate"] == 1
    assert any(k.endswith("_leakage") for k in m["filters"]["medqa_tw"]["removed"])
    assert m["filters"]["sinica"]["removed"]["repeated_byline"] == 4
    assert m["filters"]["sinica"]["removed"]["exact_duplicate"] == 1
    assert all(v == 0 for v in m["leakage_check"].values())
    for name, f in m["filters"].items():  # nothing silently dropped
        assert f["read"] == f["kept"] + sum(f["removed"].values()) + f["skipped_unreadable"], name
    assert m["filters"]["textbooks"]["chunks_for_training"] >= 1
    data = load_prepared(path)
    assert data.manifest_sha256 == file_sha256(path / "manifest.json")
    for name, meta in m["datasets"].items():
        assert meta["rows"] == len(data.dataset(name))
        # hashed once, when written: the digest every reader (training, pipeline) takes
        assert meta["digest"] == folder_digest(path / meta["path"], "*.arrow")
        assert data.digest(name) == meta["digest"]
    files = m["sources"]["sinica"]["files"]
    assert files[0]["path"].endswith("sinica_small.txt") and len(files[0]["sha256"]) == 64
    card = (path / "DATA_CARD.md").read_text(encoding="utf-8")
    assert "MIT" in card and "repeated_byline" in card and "Demo set" not in card
    assert all((path / p).is_file() for p in m["histograms"])


def test_cache_hit_and_no_leftover_temp(prepared, monkeypatch):
    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    cfg, wd, path = prepared
    stamp = (path / "manifest.json").stat().st_mtime_ns
    start = time.perf_counter()
    again = prepare(cfg, wd, progress=False)
    assert again == path and time.perf_counter() - start < 1.0
    assert (path / "manifest.json").stat().st_mtime_ns == stamp  # not rebuilt
    assert not [p for p in wd.data.iterdir() if p.name.startswith(".tmp")]
    changed = prepare(
        load_config("tiny", overrides(**{"data.replay_fraction": "0.5"})), wd, progress=False
    )
    assert changed != path and changed.parent == path.parent


def test_interrupted_run_leftovers_are_cleaned(wd):
    cfg = load_config("tiny", overrides(**{"data.curriculum_phases": "2"}))
    wd.data.mkdir(parents=True)
    stale = wd.data / ".tmp-whatever-999999999"
    stale.mkdir()
    path = prepare(cfg, wd, progress=False)
    stale_for_path = wd.data / f".tmp-{path.name}-999999999"
    stale_for_path.mkdir()
    (path / "manifest.json").unlink()  # as if the version folder were incomplete
    assert prepare(cfg, wd, progress=False) == path
    assert not stale_for_path.exists()
    assert (path / "manifest.json").is_file()


def test_out_dir_and_demo_default(wd, tmp_path):
    # No MedQA configured: the demo set, labelled as such.
    cfg = load_config("tiny", overrides(**{"data.medqa_dir": "null"}))
    out = prepare(cfg, wd, out=tmp_path / "explicit", progress=False)
    assert out == tmp_path / "explicit"
    m = load_prepared(out).manifest
    assert m["demo_medqa"] and m["filters"]["medqa_demo"]["read"] == 60
    assert "Demo set" in (out / "DATA_CARD.md").read_text(encoding="utf-8")


def test_out_never_replaces_a_foreign_folder(wd, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not a prepared-data folder"):
        prepare(load_config("tiny", overrides()), wd, out=foreign, progress=False)
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_missing_source_names_setting(wd):
    cfg = load_config("tiny", overrides(**{"data.sinica_file": "/nonexistent/s.txt"}))
    with pytest.raises(SourceError, match=r"data\.sinica_file"):
        prepare(cfg, wd, progress=False)


def test_absent_sources_are_named(wd):
    cfg = load_config(
        "tiny", overrides(**{"data.textbooks_dir": "null", "data.parallel_file": "null"})
    )
    m = load_prepared(prepare(cfg, wd, progress=False)).manifest
    assert "data.textbooks_dir" in m["sources"]["textbooks"]["absent"]
    assert "data.parallel_file" in m["sources"]["parallel"]["absent"]


def test_malformed_rows_raise_or_skip(wd):
    files = f"{{dev: {DATA_ASSETS / 'medqa_malformed.jsonl'}}}"
    cfg = load_config("tiny", overrides(**{"data.medqa_files": files}))
    with pytest.raises(DataFormatError, match=r"medqa_malformed\.jsonl:2"):
        prepare(cfg, wd, progress=False)
    assert not wd.data.exists() or not [p for p in wd.data.iterdir() if p.name.startswith(".tmp")]
    path = prepare(cfg, wd, on_error="skip", progress=False)
    m = load_prepared(path).manifest
    assert m["skipped_unreadable_rows"] == 2
    assert m["filters"]["medqa_tw"]["skipped_unreadable"] == 2
    with pytest.raises(DataFormatError):  # a later strict run reports them again
        prepare(cfg, wd, progress=False)


def test_load_prepared_without_data(tmp_path):
    with pytest.raises(PreparedDataError, match="taigimed data prepare"):
        load_prepared(tmp_path)


def test_cli_prepare(wd):
    from taigimed.cli import app

    args = ["data", "prepare", "--config", "tiny", "--workdir", str(wd.root)]
    for o in overrides():
        args += ["--set", o]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "stage2_train" in result.output and "written to" in result.output
    bad = CliRunner().invoke(app, [*args, "--set", "data.sinica_file=/nope.txt"])
    assert bad.exit_code == 1 and "data.sinica_file" in bad.output
    env_root = os.environ.get("TAIGIMED_DATA_ROOT")
    assert env_root is None


def test_stage2_cap_keeps_replay_share(wd):
    cfg = load_config("tiny", overrides(**{"data.dataset_caps": "{stage2_train: 8}"}))
    data = load_prepared(prepare(cfg, wd, progress=False))
    s2 = data.dataset("stage2_train")
    assert len(s2) <= 8
    replayed = sum(i.startswith("replay-") for i in s2["id"])
    assert replayed >= 1  # the cap applies to the Taigi share first
    assert data.manifest["stage2_mix"]["replay_records"] == replayed


# --- feedback exports as a source (the loop from serving back into training) ---


def _export(root: Path, n: int) -> Path:
    """A feedback export laid out as `taigimed data export-feedback` writes it."""
    from datasets import Dataset

    rows = [
        {
            "id": f"feedback-{i}",
            "source": "feedback",
            "kind": "chat",
            "messages": [
                {"role": "user", "content": f"我頭殼痛第{i}工矣"},
                {"role": "assistant", "content": "先歇睏，若閣較嚴重愛去看醫生。"},
            ],
            "text": "",
            "difficulty": 0.8,
            "phase": 1,
        }
        for i in range(n)
    ]
    version = root / "v1"
    Dataset.from_list(rows).save_to_disk(str(version / "datasets" / "feedback_chat"))
    (root / "current.json").write_text(f'{{"version": "v1", "path": "{version}"}}')
    return root


def test_feedback_rows_are_appended_to_stage2_and_counted(tmp_path, monkeypatch):
    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    feedback_root = _export(tmp_path / "feedback", n=3)
    capped = overrides(**{"data.dataset_caps": "{stage2_train: 20}"})
    base = load_config("tiny", capped)
    with_fb = load_config("tiny", [*capped, f"data.feedback_dirs=[{feedback_root}]"])
    plain = load_prepared(prepare(base, Workdir(tmp_path / "a"), progress=False))
    mixed = load_prepared(prepare(with_fb, Workdir(tmp_path / "b"), progress=False))

    ids = mixed.dataset("stage2_train")["id"]
    assert ids[-3:] == ["feedback-0", "feedback-1", "feedback-2"]
    assert len(ids) == len(plain.dataset("stage2_train")) + 3  # the cap never drops feedback
    assert mixed.manifest["stage2_mix"]["feedback_records"] == 3
    assert mixed.version != plain.version


def test_a_folder_that_is_not_an_export_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    (tmp_path / "empty").mkdir()
    cfg = load_config("tiny", [*overrides(), f"data.feedback_dirs=[{tmp_path / 'empty'}]"])
    with pytest.raises(SourceError, match=r"data\.feedback_dirs.*export-feedback"):
        prepare(cfg, Workdir(tmp_path / "w"), progress=False)


def test_held_out_evaluation_rows_are_recorded_and_never_trained_on(prepared):
    _, _, path = prepared
    m = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    data = load_prepared(path)
    held = m["held_out"]
    # Three complete rows in the fixture, fewer than parallel_test_rows: all held out.
    assert held["parallel_test_ids"] == ["parallel-1", "parallel-2", "parallel-3"]
    assert sum(held["parallel_test_by_topic"].values()) == 3
    trained = set(data.dataset("stage2_train")["id"]) | set(data.dataset("stage2_validation")["id"])
    for pid in held["parallel_test_ids"]:
        assert not any(t.startswith(pid + "-") for t in trained), pid
        assert f"{pid}-zh-han" in data.dataset("translation_test")["id"]
    cloze = data.dataset("taigi_cloze_test")
    assert cloze.column_names == data.dataset("medqa_test").column_names
    test_sentences = set(data.dataset("taigi_test")["id"])
    assert set(held["cloze_sentence_ids"]) <= test_sentences
    assert not any(t.removesuffix("-han") in held["cloze_sentence_ids"] for t in trained)
