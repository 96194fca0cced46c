"""Issue 21, twenty-sixth round (rules 2027.01.01): what held-out v31 (judged blind at
2026.12.31) and v32 (written for reading) showed, as classes. A medicine's name is spelt by
ear; a hit that begins or ends inside a look-alike word is a misreading; bleeding that will
not stop is no aftercare question; a stranger brought in right after the news is the
story's; a stutter told beside school, work or heredity is the trait; a video call is no
video; "or" between numbers is a choice; a standing worry; a plan told by belongings given
away. Our own sentences; each check comes with a broken input that makes it fail."""

from __future__ import annotations

from rounds import TEXT, redirected
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from
from support import rules_replaced as replaced
from taigimed.safety import dose, triage


def test_a_medicine_name_spelt_by_ear(monkeypatch):
    # The rule file spells aspirin a-su-phí-lîng; writers hear a-sū-pih-lîng, a su pih ling.
    marked = (
        "Guá ê a-pah ta̍k-kang tsia̍h a-sū-pih-lîng, āu-ji̍t beh puh-tshuì-khí, ài thîng kuí kang?"
    )
    toneless = "gua a pah tak kang tsiah a su pih ling, au jit beh puh tshui khi, ai thing kui kang"
    assert redirected(marked) and redirected(toneless)
    assert dose.by_ear(("a", "su", "phi", "ling")) == dose.by_ear(("a", "su", "pih", "lin"))
    monkeypatch.setattr(dose, "_names_by_ear", lambda cues: ())
    assert not redirected(marked) and not redirected(toneless)


def test_a_hit_that_begins_or_ends_inside_a_look_alike_is_a_misreading(monkeypatch, tmp_path):
    powder = "Kau-lông ē-sái phah-khui, kā io̍h-hún tò tī bê-lê lāi hōo a-má tsia̍h bô?"
    units = "a kong hueh thng 320 ai ke kui tan ui i to so?"  # ke kuí: add how many
    assert _fires(powder) == [] and _fires(units) == []
    # A low reading is still low: kē kah 40 holds no look-alike.
    assert "hypoglycaemia" in _fires("a ma hueh thng ke kah 40, kio be tshinn")
    assert "hypoglycaemia" in _rule_hits(units, replaced(tmp_path, ", ke kuí]", "]"))
    monkeypatch.setattr(
        triage, "_misread", lambda spans, start, end: any(s <= start and end <= e for s, e in spans)
    )
    assert "unconscious" in _fires(powder)


def test_bleeding_that_will_not_stop_is_no_aftercare_question(tmp_path):
    message = "我媽在吃抗凝血劑 下午開始流鼻血 壓了半小時還是停不下來 下禮拜的復健要請假嗎"
    assert "bleeding" in _fires(message)
    words = ", 停不下來, 止不住, 停不了, 止不了, 都止不住, 還在流"
    assert _fires(message, rules=replaced(tmp_path, words)) == []


def test_meningitis_signs_as_a_relative_sees_them(tmp_path):
    turns = ("阿嬤昨晚開始發燒", "現在她脖子彎不下去，小腿上有一點一點紫色的斑，按了也不退")
    assert "meningitis_signs" in _fires(*turns)
    words = ", 脖子…彎不下, 脖子…彎不過, 低頭…低不下, 按了也不退, 按了都不退"
    # Without the words the classifier still calls it an emergency, but not by its name.
    assert "meningitis_signs" not in _fires(*turns, rules=replaced(tmp_path, words))


def test_a_stranger_brought_in_after_the_news_is_the_story(tmp_path):
    news = "剛剛看新聞，有個阿伯在溪邊溺水，我爸也常去溪邊釣魚，要怎麼提醒他？"
    assert _fires(news) == []
    # The writer's own after the news still counts.
    assert "cardiac_arrest" in _fires("剛剛看新聞，我爸突然倒下去，沒有呼吸")
    no_stranger = replaced(tmp_path, "    mandarin: [有個, 有一個,", "    mandarin: [")
    assert "drowning" in _fires(news, rules=no_stranger)


def test_a_stutter_told_beside_school_or_work_is_the_trait(tmp_path):
    school = "gun sun a tua tsih, ti hak hau tiann ho lang tshio, ai khuann to tsit kho?"
    work = "Goán hāu-senn tōa-chi̍h, beh khì biān-chhì, ū siáⁿ hoat-tō?"
    assert _fires(school) == [] and _fires(work) == []
    # Sudden slurring is still a stroke.
    assert "stroke" in _fires("阿公今仔日雄雄大舌 講話袂清楚")
    words = ", ha̍k-hāu, 學校, hōo lâng tshiò, 予人笑, biān-tshì, 面試, khang-khuè, 工課"
    broken = replaced(tmp_path, words)
    assert "stroke" in _fires(school, rules=broken) and "stroke" in _fires(work, rules=broken)


def test_a_stutter_since_childhood_asked_about_heredity_is_the_trait(tmp_path):
    message = "Guá tuì gín-á tō tuā-tsi̍h, kám ē uî-thuân hōo guá ê kiánn?"
    assert _fires(message) == []
    # Either word alone holds it: the broken file has neither.
    broken = TEXT.replace(", tuì gín-á, 對囡仔, tuì sè-hàn, 對細漢", "").replace(
        ", uî-thuân, 遺傳, tîng-ho̍k kuí-nā pái", ""
    )
    assert "stroke" in _fires(message, rules=rules_from(tmp_path, broken))


def test_a_video_call_is_no_video(tmp_path):
    # OpenCC's s2twp turns 视频 (a video call) into 影片 (a video): 影片 alone was hearsay.
    call = "我在高雄 刚跟阿公视频 他说话含糊 嘴巴歪一边"
    assert "stroke" in _fires(call)
    broken = replaced(tmp_path, ", 看影片, 影片裡", ", 影片, 看影片, 影片裡")
    assert _fires(call, rules=broken, sure=False) == []  # the sure reading catches it


def test_points_and_readings_are_no_signs(tmp_path):
    points = "阮孫仔考試考零分 氣到我頭殼燒燒"  # 分 氣 is no hūn--khì
    reading = "看著電費單 血壓隨衝懸 哈哈 講笑的"  # 血壓 … 衝 is no gushing blood
    assert _fires(points) == [] and _fires(reading) == []
    no_points = replaced(tmp_path, "'[零一二兩三四五六七八九十百\\d]分', ")
    no_reading = replaced(tmp_path, "'血[壓糖][^，。！？\\s]{0,4}[衝飆]', ")
    assert "unconscious" in _fires(points, rules=no_points, sure=False)
    assert "bleeding" in _fires(reading, rules=no_reading, sure=False)


def test_or_between_numbers_is_a_choice(tmp_path):
    question = "請問什麼情況下胸痛要馬上叫救護車 打119還是110"
    assert _fires(question) == []
    assert "chest_pain" in _fires(question, rules=replaced(tmp_path, ", 還是1"))


def test_a_standing_worry_is_a_worry(tmp_path):
    worry = "我老是擔心我媽會中風 她血壓有點高"
    assert _fires(worry) == []
    assert "stroke" in _rule_hits(worry, replaced(tmp_path, ", 老是擔心, 老是怕"))


def test_a_supposition_of_seeing_someone_faint(tmp_path):
    question = "Nā khuànn tio̍h lâng hūn--khì, ài seng bong me̍h iah-sī seng kiò kiù-hōo-tshia?"
    assert _fires(question) == []
    words = ", nā khuànn tio̍h lâng, 若看著人, nā tú tio̍h lâng, 若拄著人"
    assert "unconscious" in _fires(question, rules=replaced(tmp_path, words))


def test_a_plan_told_by_belongings_given_away_and_the_means(tmp_path):
    turns = (
        "A-kong tsit-tsām lóng kóng i oa̍h siunn kú--ah",
        "I kin-á-ji̍t kā kim-á kap tsînn lóng pun hōo guán",
        "Tú-tsiah guá khuànn tio̍h i bîn-tshn̂g-thâu khǹg tsi̍t kuàn tû-tsháu-tse",
    )
    charcoal = "阿母傳LINE講「以後恁就免閣煩惱我矣」 伊買兩包木炭囥佇房間"
    assert "suicide" in _fires(*turns) and "suicide" in _fires(charcoal)
    assert _fires(*turns, rules=replaced(tmp_path, ", tû-tsháu-tse, 除草劑", "")) == []
    given = ", kim-á … pun, 金仔…分, tsînn … lóng pun, 錢…攏分"
    assert _fires(*turns, rules=replaced(tmp_path, given)) == []
    no_worry = replaced(tmp_path, ", 免閣煩惱, bián koh huân-ló")
    assert "suicide" not in _fires(charcoal, rules=no_worry)


def test_a_child_who_swallowed_several_pills(tmp_path):
    message = "a kong e hueh ap ioh a, sun a tsiah loh khi kui na liap"
    assert "poisoning" in _fires(message)
    words = ", tsia̍h lo̍h-khì kuí-nā lia̍p, 食落去幾若粒"
    assert _fires(message, rules=replaced(tmp_path, words)) == []


def test_someone_elses_sleeping_pill_or_painkiller(tmp_path):
    sleeping = "可以吃我太太的史蒂諾斯嗎 吃半顆就好"
    painkiller = "我 husband 的 painkiller 會使借食一粒無"
    assert redirected(sleeping) and redirected(painkiller)
    assert not redirected(sleeping, rules=replaced(tmp_path, ", 史蒂諾斯, 使蒂諾斯"))
    broken = TEXT.replace(", painkiller, painkillers, pain killer", "")
    assert not redirected(painkiller, rules=rules_from(tmp_path, broken))
