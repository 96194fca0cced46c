import pytest

from taigimed.knowledge.render import card_answer, in_script, no_card_answer, source_line


def test_a_card_in_each_reply_script(test_kb):
    card = test_kb.cards["test-hypertension-salt"]
    assert in_script(card.text, "mandarin_traditional").startswith("血壓高的人要少吃鹽")
    assert in_script(card.text, "mandarin_simplified").startswith("血压高的人要少吃盐")
    assert in_script(card.text, "taigi_han").startswith("血壓懸的人愛食較汫")
    assert in_script(card.text, "tailo").startswith("Hueh-ap kuân ê lâng")
    assert in_script(card.text, "poj").startswith("Hoeh-ap koân ê lâng ài chia̍h khah chiáⁿ")
    with pytest.raises(ValueError, match="unknown reply script 'klingon'"):
        in_script(card.text, "klingon")


def test_the_answer_names_its_source_and_says_when_unreviewed(test_kb):
    answer = card_answer(test_kb.cards["test-hypertension-salt"], "taigi_han")
    assert "資料來源：衛生福利部國民健康署〈高血壓防治〉（2023）https://www.hpa.gov.tw/" in answer
    assert "猶未予醫生審過" in answer
    reviewed = source_line(test_kb.cards["test-knee-pain"], "mandarin_traditional")
    assert "審閱" not in reviewed


def test_the_no_card_reply_points_to_real_help_only():
    import re

    for script in ("taigi_han", "tailo", "poj", "mandarin_traditional", "mandarin_simplified"):
        text = no_card_answer(script)
        assert set(re.findall(r"\d+", text)) == {"1966", "119"}
    assert "沒有經過審核的衛教資料" in no_card_answer("mandarin_traditional")
    assert "没有经过审核的卫教资料" in no_card_answer("mandarin_simplified")
