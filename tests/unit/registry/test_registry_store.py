"""Register, promote, roll back and resolve against a real MLflow SQLite store."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from taigimed.registry import (
    RegistryError,
    find_champion,
    first_release,
    list_versions,
    promote,
    register_model,
    resolve_model,
    rollback,
)

PASSED = {"passed": True, "reasons": ["all 1 checks passed"], "checks": []}


def _register(cfg, wd, uri, model_dir, report_file, **kw):
    return register_model(
        cfg,
        wd,
        model_dir,
        eval_report=report_file,
        decision=PASSED,
        lineage={"data_version": "v-test", "data_manifest_sha256": "abc123"},
        metrics={"medqa_tw.acc": 0.3},
        tracking_uri=uri,
        **kw,
    )


def test_register_records_lineage_and_sets_staging(store, cfg, tiny_model_dir, report_file):
    wd, uri = store
    rv = _register(cfg, wd, uri, tiny_model_dir, report_file)
    assert rv.version == 1
    client = MlflowClient(uri, uri)
    mv = client.get_model_version_by_alias(cfg.tracking.registered_model, "staging")
    assert int(mv.version) == 1
    assert mv.tags["taigimed.gate_passed"] == "true"
    assert mv.tags["taigimed.data_manifest_sha256"] == "abc123"
    assert (
        len(mv.tags["taigimed.git_commit"]) in (7, 40)
        or mv.tags["taigimed.git_commit"] == "unknown"
    )
    lineage = json.loads(
        (wd.root / "dl")
        .joinpath(
            client.download_artifacts(
                rv.run_id, "registry/lineage.json", str(wd.ensure(wd.root / "dl"))
            )
        )
        .read_text()
    )
    assert lineage["data_version"] == "v-test"
    assert "config_fingerprint" in lineage

    resolved = resolve_model(wd, cfg, None, tracking_uri=uri)  # no production: newest aliased
    assert (resolved.version, resolved.alias, resolved.source) == (1, "staging", "registry")
    original = (tiny_model_dir / "model.safetensors").read_bytes()
    assert (resolved.path / "model.safetensors").read_bytes() == original


def test_refuses_a_model_that_failed_the_gate(store, cfg, tiny_model_dir, report_file):
    wd, uri = store
    failed = {"passed": False, "reasons": ["medqa_tw.acc >= 0.9: 0.3"], "checks": []}
    with pytest.raises(RegistryError, match=r"did not pass the gate: medqa_tw\.acc"):
        register_model(
            cfg,
            wd,
            tiny_model_dir,
            eval_report=report_file,
            decision=failed,
            lineage={},
            tracking_uri=uri,
        )
    client = MlflowClient(uri, uri)
    assert client.search_model_versions(f"name='{cfg.tracking.registered_model}'") == []


def test_promote_and_rollback_move_aliases(store, cfg, tiny_model_dir, report_file):
    wd, uri = store
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    assert promote(cfg, wd, "canary", tracking_uri=uri).version == 1
    assert promote(cfg, wd, "production", tracking_uri=uri).version == 1
    _register(cfg, wd, uri, tiny_model_dir, report_file)  # version 2 takes staging
    promote(cfg, wd, "canary", tracking_uri=uri)
    move = promote(cfg, wd, "production", tracking_uri=uri)
    assert (move.version, move.previous) == (2, 1)
    assert resolve_model(wd, cfg, None, tracking_uri=uri).version == 2

    champion = find_champion(cfg, wd, tracking_uri=uri)
    assert champion.version == 2
    assert champion.report["sets"]["medqa_tw"]["metrics"]["acc"]["value"] == 0.3

    back = rollback(cfg, wd, "production", tracking_uri=uri)
    assert (back.version, back.previous) == (1, 2)
    rows = {r["version"]: r for r in list_versions(cfg, wd, tracking_uri=uri)}
    assert rows[1]["aliases"] == ["production"]
    assert rows[2]["aliases"] == ["canary", "staging"]
    with pytest.raises(RegistryError, match="no earlier version"):
        rollback(cfg, wd, "production", tracking_uri=uri)


def test_promote_refuses_a_version_that_never_passed_the_gate(
    store, cfg, tiny_model_dir, report_file
):
    wd, uri = store
    rv = _register(cfg, wd, uri, tiny_model_dir, report_file)
    client = MlflowClient(uri, uri)
    # A version registered by hand (e.g. in the MLflow UI) carries no gate decision.
    manual = client.create_model_version(cfg.tracking.registered_model, rv.source, rv.run_id)
    with pytest.raises(RegistryError, match="never passed the gate"):
        promote(cfg, wd, "production", int(manual.version), tracking_uri=uri)
    with pytest.raises(RegistryError, match="--to must be one of"):
        promote(cfg, wd, "staging", tracking_uri=uri)
    with pytest.raises(RegistryError, match="has no version 99"):
        promote(cfg, wd, "canary", 99, tracking_uri=uri)


def test_resolve_specs(store, cfg, tiny_model_dir, report_file, tmp_path):
    wd, uri = store
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    name = cfg.tracking.registered_model
    assert resolve_model(wd, cfg, "staging", tracking_uri=uri).version == 1
    assert resolve_model(wd, cfg, f"models:/{name}@staging", tracking_uri=uri).alias == "staging"
    assert resolve_model(wd, cfg, f"models:/{name}/1", tracking_uri=uri).version == 1
    assert resolve_model(wd, cfg, "1", tracking_uri=uri).source == "registry"
    direct = resolve_model(wd, cfg, str(tiny_model_dir), tracking_uri=uri)
    assert (direct.source, direct.path) == ("directory", tiny_model_dir.resolve())
    with pytest.raises(RegistryError, match="alias 'production'"):
        resolve_model(wd, cfg, "production", tracking_uri=uri)
    with pytest.raises(RegistryError, match="has no version 7"):
        resolve_model(wd, cfg, "7", tracking_uri=uri)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegistryError, match=r"without config\.json"):
        resolve_model(wd, cfg, str(tmp_path / "empty"), tracking_uri=uri)
    with pytest.raises(RegistryError, match="neither a folder"):
        resolve_model(wd, cfg, "no such/thing!", tracking_uri=uri)


def test_resolve_without_a_store_gives_the_base_and_creates_nothing(cfg, workdir):
    from taigimed.workdir import Workdir

    wd = Workdir.resolve(workdir)
    resolved = resolve_model(wd, cfg)
    assert resolved.source == "base"
    assert (resolved.path / "config.json").exists()
    assert not (wd.mlflow / "mlflow.db").exists()
    assert find_champion(cfg, wd) is None


def test_model_cli_lists_promotes_and_refuses(store, cfg, tiny_model_dir, report_file):
    from typer.testing import CliRunner

    from taigimed.cli import app

    wd, uri = store
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    common = [
        "--config", "tiny", "--set", f"tracking.registered_model={cfg.tracking.registered_model}",
        "--workdir", str(wd.root), "--tracking-uri", uri,
    ]  # fmt: skip
    runner = CliRunner()
    out = runner.invoke(app, ["model", "promote", "--to", "canary", *common])
    assert out.exit_code == 0, out.output
    assert "canary → version 1" in out.output
    out = runner.invoke(app, ["model", "list", *common])
    assert out.exit_code == 0 and "canary, staging" in out.output
    # The first canary, with no production: rolling it back leaves nothing on canary,
    # said plainly (it used to fail with "no earlier version").
    out = runner.invoke(app, ["model", "rollback", "--alias", "canary", *common])
    assert out.exit_code == 0, out.output
    assert "canary → no version (was version 1)" in out.output
    assert "nothing serves canary" in out.output
    assert [r["aliases"] for r in list_versions(cfg, wd, tracking_uri=uri)] == [["staging"]]
    out = runner.invoke(app, ["model", "rollback", "--alias", "production", *common])
    assert out.exit_code == 1 and "no earlier version" in out.output


def test_first_release_goes_straight_to_production_then_through_the_canary(
    store, cfg, tiny_model_dir, report_file, tmp_path
):
    from typer.testing import CliRunner

    from taigimed.cli import app

    wd, uri = store
    name = cfg.tracking.registered_model
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    common = [
        "--config", "tiny", "--set", f"tracking.registered_model={name}",
        "--workdir", str(wd.root), "--tracking-uri", uri,
    ]  # fmt: skip
    path = tmp_path / "release-path"
    out = CliRunner().invoke(app, ["model", "first-release", "--out", str(path), *common])
    assert out.exit_code == 0, out.output
    assert path.read_text() == "first"
    assert "canary, production → version 1" in out.output
    client = MlflowClient(uri, uri)
    assert {a: int(v) for a, v in client.get_registered_model(name).aliases.items()} == {
        "staging": 1,
        "canary": 1,
        "production": 1,
    }
    decision = client.get_model_version(name, "1").tags["taigimed.release_decision"]
    assert decision.startswith("staging smoke test: first release")

    # Production exists now: the next release goes through the canary, nothing moves here.
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    out = CliRunner().invoke(app, ["model", "first-release", "--out", str(path), *common])
    assert out.exit_code == 0, out.output
    assert path.read_text() == "canary"
    assert "production holds version 1" in out.output
    aliases = client.get_registered_model(name).aliases
    assert (int(aliases["production"]), int(aliases["canary"])) == (1, 1)
    assert "taigimed.release_decision" not in client.get_model_version(name, "2").tags


def test_first_release_needs_a_staged_version_that_passed_the_gate(
    store, cfg, tiny_model_dir, report_file
):
    wd, uri = store
    rv = _register(cfg, wd, uri, tiny_model_dir, report_file)
    client = MlflowClient(uri, uri)
    name = cfg.tracking.registered_model
    manual = client.create_model_version(name, rv.source, rv.run_id)  # no gate decision
    client.set_registered_model_alias(name, "staging", manual.version)
    with pytest.raises(RegistryError, match="never passed the gate"):
        first_release(cfg, wd, tracking_uri=uri)
    assert set(client.get_registered_model(name).aliases) == {"staging"}
    client.delete_registered_model_alias(name, "staging")
    with pytest.raises(RegistryError, match=r"no version of .* holds staging"):
        first_release(cfg, wd, tracking_uri=uri)


def test_rolling_back_the_first_canary_returns_it_to_production(
    store, cfg, tiny_model_dir, report_file
):
    wd, uri = store
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    promote(cfg, wd, "production", 1, tracking_uri=uri)  # by hand, canary never set
    _register(cfg, wd, uri, tiny_model_dir, report_file)
    promote(cfg, wd, "canary", tracking_uri=uri)  # canary's first version: 2
    back = rollback(cfg, wd, "canary", tracking_uri=uri)
    assert (back.version, back.previous) == (1, 2)
    rows = {r["version"]: r for r in list_versions(cfg, wd, tracking_uri=uri)}
    assert rows[1]["aliases"] == ["canary", "production"]
    assert rows[2]["aliases"] == ["staging"]


def test_gguf_exports_are_artifacts_of_the_version_with_sha256(
    store, cfg, tiny_model_dir, report_file, tmp_path
):
    from taigimed.artifacts import file_sha256
    from taigimed.models.gguf_export import export_gguf

    wd, uri = store
    out = export_gguf(tiny_model_dir, tmp_path / "tiny.q8_0.gguf", "q8_0")
    gguf = {"q8_0": {"path": str(out.path), "sha256": out.sha256}}
    rv = _register(cfg, wd, uri, tiny_model_dir, report_file, gguf=gguf)
    client = MlflowClient(uri, uri)
    mv = client.get_model_version(cfg.tracking.registered_model, str(rv.version))
    assert mv.tags["taigimed.gguf.q8_0.sha256"] == out.sha256
    artifact = mv.tags["taigimed.gguf.q8_0.artifact"]
    got = client.download_artifacts(rv.run_id, artifact, str(wd.ensure(tmp_path / "dl")))
    assert file_sha256(got) == out.sha256
    # A file that changed after its sha256 was recorded is refused, not registered.
    bad = {"q8_0": {"path": str(out.path), "sha256": "0" * 64}}
    with pytest.raises(RegistryError, match="sha256"):
        _register(cfg, wd, uri, tiny_model_dir, report_file, gguf=bad)
