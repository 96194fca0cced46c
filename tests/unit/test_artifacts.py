"""Atomic writes, directory publishing, hashing and the source commit."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from taigimed.artifacts import (
    content_digest,
    file_sha256,
    fingerprint,
    folder_digest,
    git_commit,
    publish_dir,
    publish_file,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_json_is_replaced_whole_and_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "run.json"
    write_json_atomic(path, {"b": 1, "a": "台語"}, sort_keys=True)
    assert path.read_text(encoding="utf-8") == '{\n  "a": "台語",\n  "b": 1\n}\n'
    with pytest.raises(TypeError, match="not JSON serializable"):
        write_json_atomic(path, {"a": object()})

    # The new text is written in full, then the disk fails before it is on it: the old
    # file must still be there, whole, and the half-done temp file gone.
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_json_atomic(path, {"a": "new", "b": 2, "pad": "x" * 100_000})
    monkeypatch.undo()
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": "台語", "b": 1}
    assert _leftovers(path.parent) == []


def test_text_write_that_fails_midway_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "report.md"
    write_text_atomic(path, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "half \udc80 written")  # a lone surrogate cannot be UTF-8

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the new text is written, not yet on disk
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(path, "new 台語\n" * 10_000)
    monkeypatch.undo()
    assert path.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_a_published_file_replaces_the_old_one_only_when_its_writer_finishes(tmp_path):
    path = tmp_path / "models" / "m.gguf"
    with publish_file(path) as tmp:
        tmp.write_bytes(b"first")
        assert not path.exists()  # nothing at the target while the writer runs
    assert path.read_bytes() == b"first" and _leftovers(path.parent) == []
    with pytest.raises(RuntimeError, match="writer died"), publish_file(path) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer died")
    assert path.read_bytes() == b"first" and _leftovers(path.parent) == []


def test_bytes_are_replaced_whole_and_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "plot.png"
    write_bytes_atomic(path, b"\x89PNG old")
    assert path.read_bytes() == b"\x89PNG old"

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_bytes_atomic(path, b"\x89PNG new" * 10_000)
    monkeypatch.undo()
    assert path.read_bytes() == b"\x89PNG old" and _leftovers(path.parent) == []
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _leftovers(path.parent) == []
    with pytest.raises(TypeError):
        write_bytes_atomic(path, "text is not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"new" and _leftovers(path.parent) == []


def test_publish_dir_replaces_the_old_version_only_when_complete(tmp_path):
    target = tmp_path / "out" / "model"
    with publish_dir(target) as tmp:
        (tmp / "weights.bin").write_text("v1")
    assert (target / "weights.bin").read_text() == "v1"

    with pytest.raises(RuntimeError, match="copy failed"), publish_dir(target) as tmp:
        (tmp / "weights.bin").write_text("half of v2")
        raise RuntimeError("copy failed")
    assert (target / "weights.bin").read_text() == "v1"  # the old version stays

    with publish_dir(target) as tmp:
        (tmp / "other.bin").write_text("v2")
    assert [p.name for p in target.iterdir()] == ["other.bin"]
    assert _leftovers(target.parent) == []


def test_file_sha256(tmp_path):
    path = tmp_path / "blob"
    data = bytes(range(256)) * 9000  # more than one read block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "missing")


def test_folder_digest_is_the_sha256_of_its_sha256sum_listing(tmp_path):
    d = tmp_path / "m"
    (d / "sub").mkdir(parents=True)
    (d / "a.bin").write_bytes(b"1")
    (d / "sub" / "b.arrow").write_bytes(b"2")
    listing = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in (("a.bin", b"1"), ("sub/b.arrow", b"2"))
    )
    first = folder_digest(d)
    assert first == hashlib.sha256(listing.encode()).hexdigest()
    if shutil.which("sha256sum"):  # the listing is what sha256sum prints for these files
        out = subprocess.run(["sha256sum", "a.bin", "sub/b.arrow"], cwd=d, capture_output=True)
        assert out.stdout.decode() == listing
    (d / ".taigimed-download-complete").write_text("marker")  # how it was fetched
    assert folder_digest(d) == first
    assert folder_digest(d, "**/*.arrow") != first
    (d / "a.bin").write_bytes(b"3")
    assert folder_digest(d) != first
    (d / "a.bin").write_bytes(b"1")
    (d / "a.bin").rename(d / "c.bin")  # same bytes, another name
    assert folder_digest(d) != first
    with pytest.raises(FileNotFoundError):
        folder_digest(tmp_path / "missing")


def test_content_digest_of_a_file_is_its_sha256(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    assert content_digest(tmp_path / "f") == hashlib.sha256(b"x").hexdigest()
    assert content_digest(tmp_path) == folder_digest(tmp_path)
    with pytest.raises(FileNotFoundError):
        content_digest(tmp_path / "missing")


def test_fingerprint_is_canonical_json():
    assert fingerprint({"a": 1, "b": [2]}) == fingerprint({"b": [2], "a": 1})
    assert fingerprint({"a": 1}) == hashlib.sha256(b'{"a": 1}').hexdigest()
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_commit_of_a_checkout_and_of_no_checkout(tmp_path):
    assert git_commit(tmp_path) == {"commit": "unknown", "dirty": None}
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
        return subprocess.run([*cmd, *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    (repo / "a.txt").write_text("1")
    git("add", "a.txt")
    git("commit", "-qm", "first")
    head = git("rev-parse", "HEAD").strip()
    assert git_commit(repo) == {"commit": head, "dirty": False}
    (repo / "a.txt").write_text("2")
    assert git_commit(repo) == {"commit": head, "dirty": True}
