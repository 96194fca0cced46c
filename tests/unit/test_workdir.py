from pathlib import Path

from taigimed.workdir import Workdir


def test_env_variable_sets_the_default(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TAIGIMED_HOME", str(tmp_path / "home"))
    assert Workdir.resolve().root == (tmp_path / "home").resolve()


def test_explicit_path_wins_over_env(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TAIGIMED_HOME", str(tmp_path / "home"))
    assert Workdir.resolve(tmp_path / "x").root == (tmp_path / "x").resolve()


def test_without_env_uses_xdg_data_home(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("TAIGIMED_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    wd = Workdir.resolve()
    assert wd.root == (tmp_path / "xdg" / "taigimed").resolve()
    assert wd.data.parent == wd.root and not wd.data.exists()
