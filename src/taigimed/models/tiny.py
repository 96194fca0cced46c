"""A tiny randomly initialised Llama with its own small tokenizer, for tests and the tiny recipe.

2 layers, hidden 64, 4 heads / 2 KV heads and a 1,024-token byte-level BPE
vocabulary: a training step takes about a tenth of a second on a laptop CPU,
and it exercises exactly the code paths the real Llama-family models use.
"""

from __future__ import annotations

import json
from pathlib import Path

from taigimed import chat
from taigimed.artifacts import publish_dir

TINY_NAME = "tiny-random"
VOCAB_SIZE = 1024
SPECIAL_TOKENS = ["<|endoftext|>", chat.IM_START, chat.IM_END]

# Enough mixed Mandarin, Taigi Han, Tâi-lô and English for the BPE merges to be
# useful on the test data; the weights are random anyway.
_SEED_TEXT = [
    chat.SYSTEM_PROMPT,
    chat.MCQ_INSTRUCTION,
    "問題：答案：A. B. C. D. E.",
    "病人發燒咳嗽三日，胸口疼，喘袂過來，欲按怎？",
    "阮阿公血壓懸，食藥仔愛注意啥物？",
    "糖尿病的病人應該定期檢查血糖佮腎功能。",
    "頭殼痛、腹肚痛、嚨喉疼、流鼻水、目睭澀。",
    "tshiánn-mn̄g guá ê thâu-khak tsin thiànn, ài khì tshuē i-sing--bô?",
    "Lí hó! Guá sī TaigiMed. Tsit-ê sī it-puann ê kiān-khong tshù-sìn, m̄-sī tsín-tuàn.",
    "The patient has a fever and cough. Blood pressure 140/90 mmHg, SpO2 95%, HbA1c 7.2%.",
    "一位 65 歲男性，主訴胸悶與呼吸困難，下列何者為最適當的處置？",
    "医学 诊断 治疗 药物 预防 内科 外科",
]


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_SEED_TEXT * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token=chat.IM_END,
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    fast.chat_template = chat.CHAT_TEMPLATE
    return fast


def build_tiny_model(out_dir: Path, seed: int = 0) -> Path:
    """Write a tiny random Llama and tokenizer to ``out_dir`` (idempotent) and return it."""
    out_dir = Path(out_dir)
    marker = out_dir / "tiny.json"
    if marker.exists():
        return out_dir
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = _train_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = chat.stop_token_ids(tokenizer)
    with publish_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "tiny.json").write_text(json.dumps({"name": TINY_NAME, "seed": seed}))
    return out_dir
