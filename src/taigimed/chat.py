"""The one chat format used by data preparation, training, evaluation and serving.

ChatML (``<|im_start|>role\\n...<|im_end|>``): SmolLM2 was instruction-tuned on it,
most open chat models understand it, and its turn markers are single special
tokens in the tokenizers we use. The same template is written into every saved
tokenizer (``CHAT_TEMPLATE``), so ``apply_chat_template``, lm-eval and the
server all agree with ``render`` here byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypedDict

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
ROLES = ("system", "user", "assistant")
OPTION_LETTERS = ("A", "B", "C", "D", "E")

SYSTEM_PROMPT = (
    "你是 TaigiMed，用台語（台灣閩南語）回答健康問題的助理。"
    "你提供的是一般健康資訊，毋是診斷；若是緊急狀況，隨時敲 119。"
)

# Jinja form of ``render`` for tokenizers; kept equivalent by a unit test.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class Message(TypedDict):
    role: str
    content: str


def _check(messages: Sequence[Mapping[str, str]]) -> None:
    for i, m in enumerate(messages):
        if m.get("role") not in ROLES:
            raise ValueError(f"message {i}: role must be one of {ROLES}, got {m.get('role')!r}")
        if not isinstance(m.get("content"), str):
            raise ValueError(f"message {i}: content must be a string")


def render(messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = False) -> str:
    """The prompt text for ``messages``; with ``add_generation_prompt`` it ends ready for
    the assistant's reply."""
    return "".join(text for text, _ in render_segments(messages, add_generation_prompt))


def render_segments(
    messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = False
) -> list[tuple[str, bool]]:
    """``render`` split into (text, trainable) pieces.

    Only assistant content and its closing ``<|im_end|>`` are trainable: the model
    learns to answer and to stop, never to predict the user's words.
    """
    _check(messages)
    pieces: list[tuple[str, bool]] = []
    for m in messages:
        pieces.append((f"{IM_START}{m['role']}\n", False))
        trainable = m["role"] == "assistant"
        pieces.append((m["content"] + IM_END, trainable))
        pieces.append(("\n", False))
    if add_generation_prompt:
        pieces.append((f"{IM_START}assistant\n", False))
    return pieces


# Where an answer ends, as text: the closing turn marker. Sent as ``stop`` to servers
# (llama.cpp, vLLM) so they end where the tokenizer's stop tokens would.
STOP_STRINGS = (IM_END,)


def end_of_turn_id(tokenizer) -> int:
    """The token that closes an answer: ``<|im_end|>``, or the tokenizer's eos where the
    vocabulary has no such token. Training appends it; generation stops on it."""
    tid = tokenizer.convert_tokens_to_ids(IM_END)
    if isinstance(tid, int) and tid != tokenizer.unk_token_id:
        return tid
    if tokenizer.eos_token_id is None:
        raise ValueError(f"the tokenizer has neither {IM_END} nor an eos token: answers cannot end")
    return tokenizer.eos_token_id


def stop_token_ids(tokenizer) -> list[int]:
    """Every token id that ends an answer, sorted: the end-of-turn token and the tokenizer's
    eos. Evaluation, serving and the saved generation config all use this one list."""
    ids = {end_of_turn_id(tokenizer)}
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)


MCQ_INSTRUCTION = "以下是醫學選擇題，請選出正確的答案。"


def mcq_user_prompt(question: str, options: Mapping[str, str], context: str | None = None) -> str:
    """The user turn for a multiple-choice question (MedQA schema); ``context`` is reference
    text placed before it (the MedRAG-style open-book cross-check, evaluate/medrag.py)."""
    lines = [f"參考資料：\n{context}", MCQ_INSTRUCTION] if context else [MCQ_INSTRUCTION]
    lines.append(f"問題：{question}")
    lines += [f"{letter}. {options[letter]}" for letter in sorted(options)]
    lines.append("答案：")
    return "\n".join(lines)


def mcq_assistant_answer(letter: str, options: Mapping[str, str]) -> str:
    """The assistant turn: the letter first, so scoring and parsing look at one token."""
    return f"{letter}. {options[letter]}"


def mcq_messages(
    question: str,
    options: Mapping[str, str],
    answer_letter: str | None = None,
    context: str | None = None,
) -> list[Message]:
    msgs: list[Message] = [{"role": "user", "content": mcq_user_prompt(question, options, context)}]
    if answer_letter is not None:
        msgs.append({"role": "assistant", "content": mcq_assistant_answer(answer_letter, options)})
    return msgs


_LETTER_RE = re.compile(r"(?<![A-Za-z])([A-E])(?![A-Za-z])")


def parse_answer_letter(text: str, letters: Sequence[str] = OPTION_LETTERS[:4]) -> str | None:
    """The first standalone option letter in a free answer, or None.

    Full-width letters (Ａ) are folded first; 'A.' / '(B)' / '答案是C' all parse.
    """
    folded = text.translate({ord(c): ord(c) - 0xFEE0 for c in "ＡＢＣＤＥ"})
    for match in _LETTER_RE.finditer(folded):
        if match.group(1) in letters:
            return match.group(1)
    return None
