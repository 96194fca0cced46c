"""`model.trust_remote_code` reaches every place a model is loaded: training, evaluation
and serving load a model folder that ships its own code only when it is set."""

from __future__ import annotations

import json
import shutil

import pytest

from taigimed.config import load_config

CUSTOM_CODE = '''
from transformers import LlamaForCausalLM


class MarkedLlamaForCausalLM(LlamaForCausalLM):
    """The folder's own model class: loading it proves its code ran."""
'''


@pytest.fixture(scope="module")
def remote_code_model(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote-code") / "marked"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "marked_llama.py").write_text(CUSTOM_CODE)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "marked_llama.MarkedLlamaForCausalLM"}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(("trust", "loaded"), [(True, "MarkedLlamaForCausalLM"),
                                               (False, "LlamaForCausalLM")])  # fmt: skip
def test_evaluation_honours_the_setting(remote_code_model, trust, loaded):
    from taigimed.evaluate.scoring import load_model

    lm = load_model(remote_code_model, "float32", 512, trust_remote_code=trust)
    assert type(lm.model).__name__ == loaded


@pytest.mark.parametrize(("trust", "loaded"), [(True, "MarkedLlamaForCausalLM"),
                                               (False, "LlamaForCausalLM")])  # fmt: skip
def test_serving_honours_the_setting(remote_code_model, tmp_path, trust, loaded):
    from taigimed.serve.model_source import build_engine
    from taigimed.workdir import Workdir

    cfg = load_config("tiny", [f"model.trust_remote_code={str(trust).lower()}"])
    cfg.serve.model = str(remote_code_model)
    engine = build_engine(cfg, Workdir.resolve(tmp_path / "work"))
    engine._load()
    try:
        assert type(engine.model).__name__ == loaded
    finally:
        engine._stop.set()


def test_training_honours_the_setting(remote_code_model):
    from taigimed.train.model import load_model

    cfg = load_config("tiny")
    model = load_model(remote_code_model, cfg.train, cfg.train.stage1, "cpu", True)
    assert type(model).__name__ == "MarkedLlamaForCausalLM"
