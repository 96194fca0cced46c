"""GGUF export: the tensors round-trip through an independent reader, metadata fits llama.cpp."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from taigimed.artifacts import file_sha256
from taigimed.models.gguf_export import (
    ExportError,
    ensure_gguf,
    export_gguf,
    permute,
)


def _logits(model_dir, ids, gguf_file=None):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        str(model_dir), gguf_file=gguf_file, dtype=torch.float32
    ).eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0]


def test_f32_export_reads_back_identically_through_transformers(tiny_model_dir, tmp_path):
    # transformers' GGUF loader un-permutes Q/K itself: equal logits prove the permutation
    # (and every tensor name) is exactly llama.cpp's layout.
    out = export_gguf(tiny_model_dir, tmp_path / "tiny.f32.gguf", "f32")
    assert out.n_tensors == 2 * 9 + 2  # tied embeddings: no output.weight
    assert out.sha256 == file_sha256(out.path)
    ids = [1, 5, 9, 100, 200, 300, 2]
    ref = _logits(tiny_model_dir, ids)
    got = _logits(tmp_path, ids, gguf_file=out.path.name)
    assert torch.equal(ref, got)


def test_q8_0_export_is_close_and_smaller(tiny_model_dir, tmp_path):
    f16 = export_gguf(tiny_model_dir, tmp_path / "m.f16.gguf", "f16")
    q8 = export_gguf(tiny_model_dir, tmp_path / "m.q8_0.gguf", "q8_0")
    assert q8.path.stat().st_size < f16.path.stat().st_size
    ids = [3, 40, 41, 42, 2]
    ref = _logits(tiny_model_dir, ids)
    got = _logits(tmp_path, ids, gguf_file=q8.path.name)
    assert (ref - got).abs().max().item() < 0.05 * ref.abs().max().item()


def test_metadata_names_tokenizer_and_architecture(tiny_model_dir, tmp_path):
    import gguf

    out = export_gguf(tiny_model_dir, tmp_path / "m.gguf", "f16")
    fields = gguf.GGUFReader(str(out.path)).fields
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert fields["general.architecture"].contents() == "llama"
    assert fields["llama.block_count"].contents() == config["num_hidden_layers"]
    assert fields["llama.attention.head_count_kv"].contents() == config["num_key_value_heads"]
    tokens = fields["tokenizer.ggml.tokens"].contents()
    assert len(tokens) == config["vocab_size"]
    assert tokens[fields["tokenizer.ggml.eos_token_id"].contents()] == "<|im_end|>"
    assert fields["tokenizer.ggml.merges"].contents()
    assert "<|im_start|>" in fields["tokenizer.chat_template"].contents()


def test_template_metadata_carries_over_and_mismatch_is_refused(tiny_model_dir, tmp_path):
    import gguf

    template = export_gguf(tiny_model_dir, tmp_path / "template.gguf", "q8_0").path
    out = export_gguf(tiny_model_dir, tmp_path / "from-template.gguf", "f16", template=template)
    a, b = gguf.GGUFReader(str(template)).fields, gguf.GGUFReader(str(out.path)).fields
    assert b["tokenizer.ggml.tokens"].contents() == a["tokenizer.ggml.tokens"].contents()
    assert b["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_F16
    # A model with another shape must not get this template's metadata.
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    config = json.loads((other / "config.json").read_text())
    config["num_hidden_layers"] = 3
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(ExportError, match=r"llama\.block_count"):
        export_gguf(other, tmp_path / "bad.gguf", "f16", template=template)
    assert not (tmp_path / "bad.gguf").exists()
    assert not list(tmp_path.glob(".bad.gguf*"))


def test_bad_inputs_name_what_to_fix(tiny_model_dir, tmp_path):
    with pytest.raises(ExportError, match=r"no config\.json"):
        export_gguf(tmp_path, tmp_path / "x.gguf")
    with pytest.raises(ExportError, match="outtype"):
        export_gguf(tiny_model_dir, tmp_path / "x.gguf", "q4_k")
    gpt2 = tmp_path / "gpt2"
    gpt2.mkdir()
    (gpt2 / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ExportError, match="only Llama"):
        export_gguf(gpt2, tmp_path / "x.gguf")


def test_ensure_gguf_reuses_until_the_weights_change(tiny_model_dir, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    first = ensure_gguf(model, "f16")
    assert first.path == tmp_path / "gguf" / "model.f16.gguf"
    mtime = first.path.stat().st_mtime_ns
    assert ensure_gguf(model, "f16").path.stat().st_mtime_ns == mtime
    weights = next(model.glob("*.safetensors"))
    weights.touch()
    again = ensure_gguf(model, "f16")
    assert again.path.stat().st_mtime_ns != mtime and again.sha256 == first.sha256


def test_permute_is_llama_cpp_layout():
    # One head of dim 4: HF keeps rotary halves [0 1 | 2 3], llama.cpp pairs them (0 2 1 3).
    w = np.arange(4 * 2, dtype=np.float32).reshape(4, 2)
    assert permute(w, 1, 1)[:, 0].tolist() == [0.0, 4.0, 2.0, 6.0]
