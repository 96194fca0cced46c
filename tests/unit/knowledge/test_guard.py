"""The answer guard on the CPU model's real outputs (issue 20) and on sound answers."""

import pytest

from taigimed.knowledge import guard

# What SmolLM2-135M answered through `taigimed serve` on CPU, copied from the issue.
LOOP_TAIGI = "阮阿母血壓傷懸，是一種病患者的感慨感慨的感慨感慨的感慨。"
LOOP_TAILO_Q = "您可以在你的當地上看到，你的當地上的當地上的當地上的當地上"
QUESTION = "高血壓的人飲食要注意什麼？"
SOUND = "血壓高的人要少吃鹽，少吃醃漬和加工食品，多吃蔬菜水果。"


@pytest.mark.parametrize("text", [LOOP_TAIGI, LOOP_TAILO_Q, QUESTION * 4])
def test_loops_are_caught(text):
    assert guard.loop(text)


@pytest.mark.parametrize(
    "text",
    [
        SOUND,
        QUESTION,
        "Hueh-ap kuân ê lâng ài tsia̍h khah tsiánn, khah tsió tsia̍h kiâm--ê kah am--ê.",
        "哈哈，這款藥仔愛問藥師，藥師會共你講清楚。",
    ],
)
def test_sound_text_is_not_a_loop(text):
    assert not guard.loop(text)


def test_echo_of_the_question_is_caught_and_an_answer_is_not():
    assert guard.echo(QUESTION, QUESTION)
    assert guard.echo("高血壓的人飲食要注意什麼呢", QUESTION)
    assert guard.echo("阮阿母血壓傷懸，平常食物愛注意啥物", "阮阿母血壓傷懸，平常食物愛注意啥物？")
    assert not guard.echo(SOUND, QUESTION)


def test_a_repeat_of_an_earlier_sentence_is_caught():
    assert guard.repeat("血壓高的人要少吃鹽，少吃醃漬和加工食品。", [SOUND])
    assert not guard.repeat("藥要照醫師交代吃，定期回診。", [SOUND])


def test_support_is_the_share_of_content_found_in_the_cards():
    ref = guard.reference_terms([SOUND])
    assert guard.support("血壓高的人要少吃鹽。", ref) == 1.0
    assert guard.support("你可以去夜市買好吃的臭豆腐。", ref) < 0.3


@pytest.mark.parametrize(
    ("text", "script", "wrong"),
    [
        (SOUND, "mandarin_traditional", False),
        (SOUND, "taigi_han", False),
        (SOUND, "tailo", True),
        ("You should eat less salt and see your doctor.", "taigi_han", True),
        ("Hueh-ap kuân ê lâng ài tsia̍h khah tsiánn.", "poj", False),
        ("Hueh-ap kuân ê lâng ài tsia̍h khah tsiánn.", "taigi_han", True),
    ],
)
def test_wrong_script(text, script, wrong):
    assert guard.wrong_script(text, script) is wrong


def test_first_problem_checks_in_order_and_rag_needs_support():
    ref = guard.reference_terms([SOUND])
    common = {"question": QUESTION, "reply_script": "mandarin_traditional"}
    assert guard.first_problem(LOOP_TAIGI, earlier=[], **common) == "loop"
    assert guard.first_problem(QUESTION, earlier=[], **common) == "echo"
    assert guard.first_problem(SOUND, earlier=[SOUND], **common) == "repeat"
    assert (
        guard.first_problem("Eat less salt and more vegetables every day.", earlier=[], **common)
        == "wrong_script"
    )
    off = "你可以去夜市買好吃的臭豆腐。"
    assert guard.first_problem(off, earlier=[], **common) is None  # model mode: no reference
    assert (
        guard.first_problem(off, earlier=[], reference=ref, min_support=0.6, **common)
        == "unsupported"
    )
    assert guard.first_problem(SOUND, earlier=[], reference=ref, min_support=0.6, **common) is None
