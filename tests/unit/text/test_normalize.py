"""Text standardisation on hand-made examples: each rule, and what it must leave alone."""

import pytest

from taigimed.text import (
    count_private_use,
    fold_width,
    normalize_text,
    normalize_unicode,
    normalize_whitespace,
    simplified_chars,
    to_taiwan_traditional,
)


def test_nfc_folds_compatibility_ideographs():
    assert normalize_unicode("血\uf99c異常") == "血列異常"  # 列 U+F99C → 列 U+5217
    assert normalize_unicode("\uf9a8") == "\u4ee4"  # 令 → 令


def test_kangxi_radicals_fold_but_nfkc_is_not_applied_elsewhere():
    assert normalize_unicode("\u2f8e液") == "血液"  # ⾎ Kangxi radical → 血
    # NFKC over the whole text would rewrite these; they must survive.
    for kept in ("①", "㎎", "m²", "，", "（", "ｍ"):
        assert normalize_unicode(kept) == kept


def test_private_use_is_counted_not_removed():
    text = "皮膚\ue000樣\U000f0001病灶"
    assert count_private_use(text) == 2
    assert normalize_text(text) == text
    assert count_private_use("一般文字") == 0


def test_width_folds_letters_digits_keeps_chinese_punctuation():
    assert fold_width("ＨｂＡ１ｃ　７％") == "HbA1c 7%"
    chinese = "（一）問題：血壓、心跳；正常嗎？「是」！換氣／灌流～"
    assert fold_width(chinese) == chinese


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\tb\nc", "a b c"),
        ("  多  個   空白  ", "多 個 空白"),
        ("零\u200b寬\ufeff字", "零寬字"),
        ("控制\x07字元\x1b", "控制 字元"),
        ("\u00a0不換行\u3000", "不換行"),
    ],
)
def test_whitespace_and_control(raw, expected):
    assert normalize_text(raw) == expected


def test_keep_newlines_collapses_runs():
    assert normalize_whitespace("第一段 \r\n\n\n 第二段", keep_newlines=True) == "第一段\n第二段"


def test_s2twp_uses_taiwan_terms():
    assert to_taiwan_traditional("心肌梗死") == "心肌梗塞"
    assert to_taiwan_traditional("软件和鼠标") == "軟體和滑鼠"
    assert to_taiwan_traditional("艾滋病") == "愛滋病"


def test_simplified_leftovers_counted():
    assert simplified_chars("内科学") == 2  # 内, 学
    assert simplified_chars("內科學") == 0
    # Characters that are also correct Traditional (干細胞, 皇后, 胜肽) are not leftovers.
    assert simplified_chars("干細胞 皇后 胜肽 台灣 疱疹") == 0


def test_normalize_text_is_idempotent():
    text = "ＨｂＡ１ｃ\uf99c  \u2f8e\t液"
    once = normalize_text(text)
    assert normalize_text(once) == once
