"""Context fitting and sentence buffering."""

from __future__ import annotations

import pytest

from taigimed import chat
from taigimed.serve.context import PromptTooLong, fit_history
from taigimed.serve.generation import SentenceBuffer

SYSTEM = {"role": "system", "content": chat.SYSTEM_PROMPT}


def count(messages):  # one "token" per character of the rendered prompt
    return len(chat.render(messages, add_generation_prompt=True))


def _turns(n: int) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        out += [
            {"role": "user", "content": f"q{i} " * 10},
            {"role": "assistant", "content": f"a{i} " * 10},
        ]
    return out


def test_everything_fits_untouched():
    msgs = [*_turns(2), {"role": "user", "content": "now?"}]
    prompt, n, dropped = fit_history(SYSTEM, msgs, count, budget=10_000)
    assert prompt == [SYSTEM, *msgs] and dropped == 0 and n == count(prompt)


def test_oldest_turns_dropped_first_system_kept():
    msgs = [*_turns(5), {"role": "user", "content": "now?"}]
    full = count([SYSTEM, *msgs])
    prompt, n, dropped = fit_history(SYSTEM, msgs, count, budget=full - 50)
    assert prompt[0] == SYSTEM
    assert prompt[-1]["content"] == "now?"
    assert n <= full - 50 and dropped >= 1
    assert prompt[1:] == msgs[dropped:]  # a suffix of the dialogue: newest kept
    assert prompt[1]["role"] == "user"  # never opens on an orphaned answer


def test_new_message_alone_too_long_is_an_error_naming_the_fix():
    msgs = [{"role": "user", "content": "x" * 500}]
    with pytest.raises(PromptTooLong, match="shorten the message or lower max_tokens"):
        fit_history(SYSTEM, msgs, count, budget=200)


def test_sentence_buffer_keeps_decimal_doses_whole():
    buf = SentenceBuffer()
    pieces = []
    for piece in ["每日食 2", ".", "5 mg。", "Take 1", ".5 tablets. Then", " rest"]:
        pieces += buf.add(piece)
    pieces += buf.flush()
    assert "".join(pieces) == "每日食 2.5 mg。Take 1.5 tablets. Then rest"
    assert pieces[0] == "每日食 2.5 mg。"
    assert "Take 1.5 tablets." in pieces


def test_sentence_buffer_caps_piece_length():
    buf = SentenceBuffer(max_chars=10)
    assert buf.add("一二三四五六七八九十一二") == ["一二三四五六七八九十一二"]
