"""`taigimed db upgrade` and `taigimed keys create|list|revoke` through the real CLI."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from taigimed.cli import app


def test_db_upgrade_and_key_lifecycle(tmp_path, monkeypatch):
    runner = CliRunner()
    wd = ["--workdir", str(tmp_path)]
    monkeypatch.delenv("TAIGIMED_DATABASE_URL", raising=False)
    r = runner.invoke(app, ["db", "upgrade", *wd])
    assert r.exit_code == 0 and "revision 0003" in r.output

    monkeypatch.delenv("TAIGIMED_API_KEY_PEPPER", raising=False)
    r = runner.invoke(app, ["keys", "create", "clinic", *wd])
    assert r.exit_code == 2 and "TAIGIMED_API_KEY_PEPPER" in r.output  # says what to set

    monkeypatch.setenv("TAIGIMED_API_KEY_PEPPER", "p")
    r = runner.invoke(app, ["keys", "create", "clinic", "--rate-limit", "9", *wd])
    assert r.exit_code == 0, r.output
    key = re.search(r"(tm-\S+)", r.output).group(1)
    listed = runner.invoke(app, ["keys", "list", *wd]).output
    assert "clinic" in listed and "active" in listed and "9/min" in listed
    assert key not in listed  # only the prefix is ever shown again
    assert (tmp_path / "serve" / "taigimed.sqlite").read_bytes().find(key.encode()) == -1

    assert runner.invoke(app, ["keys", "revoke", "1", *wd]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list", *wd]).output
    r = runner.invoke(app, ["keys", "revoke", "42", *wd])
    assert r.exit_code == 1 and "no API key with id 42" in r.output


def test_serve_rejects_a_bad_option_value(tmp_path):
    r = CliRunner().invoke(app, ["serve", "--workdir", str(tmp_path), "--engine", "quantum"])
    assert r.exit_code == 2 and "engine" in r.output
