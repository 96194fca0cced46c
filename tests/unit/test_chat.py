"""One chat format: Python rendering, the tokenizer's Jinja template and MCQ prompts agree."""

import asyncio

import pytest

from taigimed import chat

CONVERSATION = [
    {"role": "system", "content": chat.SYSTEM_PROMPT},
    {"role": "user", "content": "我頭殼痛，欲按怎？"},
    {"role": "assistant", "content": "先歇睏，啉水。"},
    {"role": "user", "content": "Guá ê SpO2 sī 95%."},
]


@pytest.mark.parametrize("gen", [True, False])
def test_jinja_template_matches_python_render(gen):
    from jinja2 import Template

    expected = chat.render(CONVERSATION, add_generation_prompt=gen)
    assert Template(chat.CHAT_TEMPLATE).render(
        messages=CONVERSATION, add_generation_prompt=gen
    ) == (expected)


def test_tokenizer_template_matches_python_render(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rendered = tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True)
    assert rendered == chat.render(CONVERSATION, add_generation_prompt=True)


def test_only_assistant_content_and_its_end_marker_are_trainable():
    segments = chat.render_segments(CONVERSATION[:3])
    trainable = [text for text, t in segments if t]
    assert trainable == ["先歇睏，啉水。" + chat.IM_END]
    assert "".join(text for text, _ in segments) == chat.render(CONVERSATION[:3])


def test_bad_role_is_rejected_with_its_index():
    with pytest.raises(ValueError, match="message 1: role"):
        chat.render([{"role": "user", "content": "a"}, {"role": "doctor", "content": "b"}])


def test_mcq_prompt_lists_options_in_order_and_answer_starts_with_letter():
    options = {"B": "肺尖", "A": "肺底", "D": "各處相若", "C": "肺中央"}
    msgs = chat.mcq_messages("哪一區換氣灌流比最高？", options, answer_letter="B")
    user = msgs[0]["content"]
    assert user.index("A. 肺底") < user.index("B. 肺尖") < user.index("D. 各處相若")
    assert msgs[1] == {"role": "assistant", "content": "B. 肺尖"}


@pytest.mark.parametrize(
    ("text", "letter"),
    [("B. 肺尖", "B"), ("答案是C", "C"), ("(D)", "D"), ("Ａ", "A"), ("Because of this", None)],
)
def test_parse_answer_letter(text, letter):
    assert chat.parse_answer_letter(text) == letter


def test_evaluation_serving_and_generation_config_stop_on_the_same_tokens(tiny_model_dir):
    from transformers import AutoTokenizer, GenerationConfig

    from taigimed.evaluate.scoring import load_model
    from taigimed.serve.engines.builtin import BuiltinEngine

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    expected = chat.stop_token_ids(tok)
    assert tok.convert_tokens_to_ids(chat.IM_END) in expected
    assert load_model(tiny_model_dir, "float32", 256).stop_ids == expected
    engine = BuiltinEngine(
        tiny_model_dir, model_id="tiny", model_version="t", source="test", max_context=256
    )
    engine._load()
    try:
        assert sorted(engine.eos_ids) == expected
    finally:
        asyncio.run(engine.close())
    saved = GenerationConfig.from_pretrained(tiny_model_dir).eos_token_id
    assert sorted(saved if isinstance(saved, list) else [saved]) == expected


class _Tok:
    """The two tokenizer attributes the stop rule reads, for vocabularies we do not ship."""

    unk_token_id = 0

    def __init__(self, vocab: dict[str, int], eos_token_id: int | None):
        self.vocab, self.eos_token_id = vocab, eos_token_id

    def convert_tokens_to_ids(self, token: str) -> int:
        return self.vocab.get(token, self.unk_token_id)


def test_stop_tokens_are_the_turn_marker_and_eos():
    # A base model whose eos is not the turn marker stops on both.
    assert chat.stop_token_ids(_Tok({chat.IM_END: 7}, eos_token_id=2)) == [2, 7]
    # Without <|im_end|> in the vocabulary (unk), the eos alone ends the answer.
    assert chat.end_of_turn_id(_Tok({}, eos_token_id=2)) == 2
    assert chat.stop_token_ids(_Tok({}, eos_token_id=2)) == [2]
    with pytest.raises(ValueError, match="neither"):
        chat.end_of_turn_id(_Tok({}, eos_token_id=None))
