"""Issue 21, twenty-eighth round (rules 2027.01.03): what held-out v35 and v36 (judged
blind at 2027.01.02, tuning sets since) showed, as classes. Tissues are no tears; a class
of medicines named alone (statin); a missed dose made up; toneless *io-á* without its final
*h*; "only just discharged" is when, not over; "these two days" is now; a reading told in
toneless words; "my son"; a letter written; "or only"; how deep to press; a faint "about to"
with a laugh; teaching others; a show on TV; a fear told with kóng. Our own sentences;
each check comes with a broken input that makes it fail."""

from __future__ import annotations

from rounds import TEXT, redirected
from rounds import fires as _fires

from support import rules_from
from support import rules_replaced as replaced


def test_tissues_are_no_tears(tmp_path):
    # A nosebleed soaks tissues; only crying is being moved (cues.moved).
    message = (
        "阮阿母咧食抗凝血的藥 今仔日下晡流鼻血 揤半點鐘猶閣一直流 衛生紙用規包 醫生講伊的血較袂凝"
    )
    assert "bleeding" in _fires(message)
    moved = TEXT.replace("kám-tōng]", "kám-tōng, 衛生紙, uē-sing-tsuá]")
    assert moved != TEXT
    # The sure reading catches it still (0.97); the rule is what names the bleeding.
    assert _fires(message, rules=rules_from(tmp_path, moved), sure=False) == []


def test_a_class_of_medicines_named_alone_and_a_missed_dose_made_up(tmp_path):
    statin = "statin 一天吃幾顆比較好"
    made_up = "她今天早上忘了吃優甲樂 現在補吃還來得及嗎"
    toneless = "gua tsiah hueh ap io a, tsit kang ai tsiah kui liap?"  # io̍h-á, final h dropped
    assert redirected(statin) and redirected(made_up) and redirected(toneless)
    for name, old in (("s", "statin, "), ("t", ", io-á, io-tsuí")):
        broken = replaced(tmp_path, old)
        assert not redirected(statin if name == "s" else toneless, rules=broken)
    no_make_up = TEXT.replace(", 要補吃嗎, 補吃還來得及, 補吃嗎", "").replace(", 優甲樂", "")
    assert not redirected(made_up, rules=rules_from(tmp_path, no_make_up))


def test_only_just_discharged_is_when_not_over(tmp_path):
    message = "阮阿爸佇浴間仔昏去 叫袂醒 伊頂禮拜才出院"
    assert "unconscious" in _fires(message)
    broken = replaced(tmp_path, ", 才出院, tsiah tshut-īnn")
    assert _fires(message, rules=broken, sure=False) == []  # the sure reading catches it


def test_these_two_days_is_now(tmp_path):
    message = (
        "Guán a-bú í-tsîng ū pak-tóo khui-to kuè. "
        "Tsit nn̄g kang pak-tóo tiùnn kah tsin tuā, bô pàng-sái mā bô pàng-phuì."
    )
    assert "acute_abdomen" in _fires(message)
    broken = replaced(tmp_path, ", tsit nn̄g kang, 這兩工, tsit kuí kang, 這幾工")
    # Judged without the sure reading, which at 0.85 takes the swollen belly for an
    # emergency whatever the rule words say.
    assert _fires(message, rules=broken, sure=False) == []


def test_signs_told_in_toneless_words_and_english(tmp_path):
    reading = "a ma thau khak thiann kah beh pit khui, gua niu hueh ap nng pah tsap"
    son = "my son 15歲 半暝疼醒 說下面一粒腫起來"
    letter = "今晚之後我就不會再麻煩大家 信已經寫好放桌上"
    assert "hypertensive_crisis" in _fires(reading)
    assert "testicular_torsion" in _fires(son)
    assert "suicide" in _fires(letter)
    spelt = TEXT.replace(", 're:ueh ap(?:.{0,14}?)(?:2\\d\\d|1[89]\\d|nng pah|nn̄g pah)'", "")
    assert spelt != TEXT
    assert "hypertensive_crisis" not in _fires(reading, rules=rules_from(tmp_path, spelt))
    for old, new, text, category in (
        (", my son, son]", "]", son, "testicular_torsion"),
        (", 信…寫好]", "]", letter, "suicide"),
    ):
        assert category not in _fires(text, rules=replaced(tmp_path, old, new))


def test_questions_laughs_lessons_and_shows_of_this_round(tmp_path):
    cases = (
        ("想請問怎麼分辨是中風還是只是單純頭暈", ", 還是只是, 還是單純"),
        ("請問心臟驟停的時候 CPR按壓要按多深", ", 按多深, 壓多深, 按幾下"),
        ("熱死了 出門買菜感覺要中暑暈倒了 哈哈", ", 要中暑暈倒, 要中暑昏倒, 感覺要暈倒"),
        # Only in Han: romanised *beh kà* is also *kiông-beh ka-tī* (wants to do it himself).
        ("我欲教教會的長輩中風的症頭 FAST是啥物?", ", 欲教, 想欲教"),
        (
            "Tiān-sī pò tsi̍t tshut hì, lāi-té ê a-kong lim lông-io̍h, guán a-má khuànn kah khàu",
            ", tiān-sī pò, 電視報, 電視播",
        ),
        (
            "Guá tiānn kiann kóng ka-tī ē tiòng-hong, m̄-koh hueh-ap lóng tsìng-siông",
            ", kiann kóng ka-tī, 驚講家己",
        ),
    )
    for message, words in cases:
        assert _fires(message) == [], message
        assert _fires(message, rules=replaced(tmp_path, words), sure=False), message


def test_words_read_from_the_files_that_judged_this_round(tmp_path):
    # Rules 2027.01.04, read from v37 and v38 after they judged 2027.01.03: each had one
    # emergency the retrained classifier no longer reached (0.74 under its 0.75) and no rule
    # named. Blood spurting; a rope bought and "when you go out, I leave".
    spurting = "a pa tshiat tshai tshiat tioh tshiu tsi, hueh it tit phun, at be tiau"
    rope = "Guá tsi̍t tiâu soh-á í-king bué hó, tán lín tshut-khì guá tsiū beh tsáu."
    assert "bleeding" in _fires(spurting) and "suicide" in _fires(rope)
    no_spurt = replaced(tmp_path, ", hueh … phùn, 血…噴")
    no_leave = replaced(tmp_path, ", tsiū beh tsáu, tán … tshut-khì, 等…出去")
    assert "bleeding" not in _fires(spurting, rules=no_spurt)
    assert "suicide" not in _fires(rope, rules=no_leave)


def test_medicine_saved_up_with_tonight(tmp_path):
    # Held-out v4's plan, reached only by the classifier until its retrained threshold (0.76)
    # passed it by: the rules now name the means and the time themselves.
    plan = "Guá io̍h lóng tshûn hó--ah, kin-á-àm guá beh lâi khì."
    assert "suicide" in _fires(plan)
    assert "suicide" not in _fires(plan, rules=replaced(tmp_path, ", io̍h … tshûn hó"))
