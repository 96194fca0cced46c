"""Tracking URI precedence: --tracking-uri > MLFLOW_TRACKING_URI > recipe > embedded SQLite."""

from taigimed.config import load_config
from taigimed.tracking import artifact_location, tracking_uri
from taigimed.workdir import Workdir


def test_precedence(tmp_path, monkeypatch):
    wd = Workdir.resolve(tmp_path)
    cfg = load_config("tiny")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(cfg, wd) == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert artifact_location(cfg, wd) == (tmp_path / "mlflow" / "artifacts").as_uri()
    cfg = load_config("tiny", ["tracking.tracking_uri=http://recipe:5000"])
    assert tracking_uri(cfg, wd) == "http://recipe:5000"
    assert artifact_location(cfg, wd) is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:5000")
    assert tracking_uri(cfg, wd) == "http://env:5000"
    assert tracking_uri(cfg, wd, "http://flag:5000") == "http://flag:5000"
