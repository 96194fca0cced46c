"""`taigimed data fetch` against a real S3 server (moto, a subprocess on loopback): new files
arrive as a new sources version, `data prepare` reads them, an unchanged store downloads
nothing and prepare is a cache hit, and a file that does not match its manifest is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from object_store import CREDENTIALS, asset_corpus, s3_server, upload

pytestmark = pytest.mark.integration
TAIGIMED = [sys.executable, "-m", "taigimed.cli"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


def _run(args, work: Path, endpoint: str, bucket: str, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, **CREDENTIALS, "OMP_WAIT_POLICY": "PASSIVE", **env}
    environ.pop("TAIGIMED_DATA_ROOT", None)
    environ.update(env)
    sets = [
        "--set",
        f"data.store.endpoint_url={endpoint}",
        "--set",
        f"data.store.bucket={bucket}",
    ]
    return subprocess.run(
        [*TAIGIMED, *args, "--config", "tiny", "--workdir", str(work), *sets],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_fetch_then_prepare_and_unchanged_store_costs_nothing(store, tmp_path):
    files = asset_corpus()
    upload(store, "corpus", files)
    work = tmp_path / "work"
    first = _run(["data", "fetch"], work, store, "corpus")
    assert first.returncode == 0, first.stderr
    assert f"downloaded {len(files)}" in first.stdout and "new version" in first.stdout
    root = work / "sources" / "current"
    assert (root / "taigi" / "sinica_hanlo_sentences.txt.gz").read_bytes() == files[
        "taigi/sinica_hanlo_sentences.txt.gz"
    ]
    manifest = json.loads((root / "store-manifest.json").read_text())
    assert {f["source"] for f in manifest["files"]} == {"medqa-tw", "medical-textbooks", "taigi"}

    prep = _run(["data", "prepare"], work, store, "corpus", TAIGIMED_DATA_ROOT=str(root))
    assert prep.returncode == 0, prep.stderr
    data_version = json.loads((work / "data" / "current.json").read_text())["version"]

    again = _run(["data", "fetch"], work, store, "corpus")
    assert again.returncode == 0, again.stderr
    assert "downloaded 0" in again.stdout and "unchanged" in again.stdout
    prep2 = _run(["data", "prepare"], work, store, "corpus", TAIGIMED_DATA_ROOT=str(root))
    assert prep2.returncode == 0, prep2.stderr
    assert json.loads((work / "data" / "current.json").read_text())["version"] == data_version

    # A new textbook: one download, a new sources version, a new data version.
    files["medical_textbooks_zh/new_chapter.txt"] = (
        "高血壓是常見的慢性病，需要長期追蹤血壓並調整生活習慣，例如減少鹽分攝取與規律運動。\n"
    ).encode()
    upload(store, "corpus", files)
    third = _run(["data", "fetch"], work, store, "corpus")
    assert "downloaded 1" in third.stdout and "new version" in third.stdout, third.stdout
    prep3 = _run(["data", "prepare"], work, store, "corpus", TAIGIMED_DATA_ROOT=str(root))
    assert prep3.returncode == 0, prep3.stderr
    assert json.loads((work / "data" / "current.json").read_text())["version"] != data_version


def test_a_file_that_does_not_match_its_manifest_is_refused(store, tmp_path):
    files = {"taigi/hokkien_parallel_240.jsonl": b'{"ZH": "x", "HAN": "x", "TL": "x"}\n'}
    manifest = {"files": [{"key": "taigi/hokkien_parallel_240.jsonl", "sha256": "0" * 64}]}
    upload(store, "tampered", files, manifest)
    work = tmp_path / "work"
    r = _run(["data", "fetch"], work, store, "tampered")
    assert r.returncode == 1 and "does not match the manifest" in r.stderr, r.stderr
    assert not (work / "sources" / "current").exists()


def test_a_manifest_key_leaving_the_data_root_is_refused(store, tmp_path):
    manifest = {"files": [{"key": "taigi/../../etc/passwd", "sha256": "0" * 64}]}
    upload(store, "escape", {}, manifest)
    r = _run(["data", "fetch"], tmp_path / "work", store, "escape")
    assert r.returncode == 1 and "would leave the data root" in r.stderr, r.stderr


def test_no_bucket_is_a_clear_error(tmp_path):
    r = subprocess.run(
        [*TAIGIMED, "data", "fetch", "--config", "tiny", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "data.store.bucket" in r.stderr
