"""The post-model dose filter and the answer-side safety hook."""

from __future__ import annotations

from taigimed.safety.dose import find_doses, redact_doses
from taigimed.safety.rules import load_rules
from taigimed.serve.hooks import TurnContext
from taigimed.serve.safety_layer import AnswerSafety


def test_doses_found_lab_values_left_alone():
    assert find_doses("一擺食 500 mg，一日兩粒；血糖 126 mg/dL 較懸") == ["500 mg", "兩粒"]
    assert find_doses("普拿疼一次吃1-2顆，每天最多4000毫克") == ["1-2顆", "4000毫克"]
    assert find_doses("化療 75 mg/m2，小兒 10 mg/kg/day") == ["75 mg/m2", "10 mg/kg/day"]
    for safe in ("SpO2 低於 94% 要就醫", "HbA1c 7%", "吃一片麵包", "H1N1 疫苗", "我有三個囡仔"):
        assert find_doses(safe) == [], safe


def test_redact_counts():
    text, n = redact_doses("Take 2 tablets, then 5 mL.", "[ask]")
    assert (text, n) == ("Take [ask], then [ask].", 2)


def ctx(script: str) -> TurnContext:
    return TurnContext("r", "s", [{"role": "user", "content": "q"}], "q", {"script": script})


def test_answer_safety_replaces_doses_and_says_why():
    rules = load_rules()
    hook = AnswerSafety(rules)
    c = ctx("taigi_han")
    out = hook.amend_chunk(c, "普拿疼一擺食 500 mg。")
    assert "500" not in out and rules.reply("dose_placeholder", "taigi_han") in out
    suffix = hook.finish(c, out)
    assert rules.reply("dose_removed", "taigi_han") in suffix
    assert rules.reply("disclaimer", "taigi_han") in suffix
    assert [t.category for t in c.triggers] == ["dose"]
    assert c.meta["answer_tailo"]  # the Tâi-lô view of the whole answer


def test_disclaimer_in_the_users_language_every_time():
    rules = load_rules()
    hook = AnswerSafety(rules)
    for script in ("taigi_han", "tailo", "poj", "mandarin_traditional", "mandarin_simplified"):
        c = ctx(script)
        assert hook.amend_chunk(c, "多啉水。") == "多啉水。"
        suffix = hook.finish(c, "多啉水。")
        assert suffix.strip() == rules.reply("disclaimer", script)
        assert not c.triggers


def test_doses_in_every_script_and_number_form():
    text = (
        "一日食 nn̄g lia̍p；tsi̍t-kang 2 lia̍p；it4-jit8 nng7 liap8；打二十單位；一包；兩片；"
        "5 c.c.；double the dose；食雙倍；ē-tàng tsia̍h siang-puē；two times the dose"
    )
    found = find_doses(text)
    for must in ("nn̄g lia̍p", "2 lia̍p", "nng7 liap8", "二十單位", "一包", "兩片", "5 c.c.", "雙倍"):
        assert must in found, (must, found)
    assert "siang-puē" in found and "double the dose" in found and "two times the dose" in found
    # Broken input for the food guard: a slice of bread is not a dose, two tablets are.
    assert find_doses("早頓食一片麵包") == []
    assert find_doses("食兩片藥仔") == ["兩片"]
    for safe in ("sann-tsa̍p hun-tsing", "行兩公里", "血糖 126 mg/dL", "nn̄g-ê lâng"):
        assert find_doses(safe) == [], safe


def test_dose_question_needs_a_medicine_and_an_amount():
    from taigimed.safety.dose import is_dose_question
    from taigimed.text.romanize import standardize_input

    rules = load_rules()

    def ask(t: str) -> bool:
        return is_dose_question(rules, standardize_input(t)[0])

    assert ask("普拿疼一天最多可以吃幾顆？")
    assert ask("血壓藥忘記吃，下一餐可以吃兩倍嗎？")
    assert ask("An-bîn-io̍h ē-tàng thîng tsi̍t-kang bô?")
    assert ask("普拿疼會當一擺食兩粒無？")  # asking with the amount itself
    # Before or after a meal depends on the medicine: the pharmacist answers (2027.01.07).
    assert ask("血壓藥要飯前還是飯後吃？")
    assert not ask("血壓藥要去哪裡領？")  # where to collect it is no dosing question
    assert not ask("阮孫仔規罐糖仔食了矣")  # kui (規, whole) is not kuí (幾, how many)
    assert not ask("一工愛啉幾杯水？")  # an amount, but no medicine
    # A unit only medicines use needs no medicine name (names are endless) ...
    assert ask("阿莫西林囡仔愛食幾毫克？一擺食幾粒？")
    assert ask("血糖機講懸，愛注幾單位？")
    # ... but pills and grains also count eggs and grapes.
    assert not ask("雞蛋一天可以吃幾顆？")
    assert not ask("葡萄一工食幾粒較好？")


def test_dosing_hears_what_the_triage_hears():
    """One owner for the text the safety layer reads (safety/hearing.py): a
    word-by-word Mandarin dosing question, as foreign care workers write, is a dosing
    question, and the classifier scores it as the closed-up text. Broken input: the spaced
    question read as typed (before hearing.py the dosing check did, and it reached the model)."""
    from taigimed.safety.classifier import load_classifier
    from taigimed.safety.conversation import is_dose_conversation
    from taigimed.safety.dose import is_dose_question
    from taigimed.safety.hearing import hear, heard_clauses
    from taigimed.safety.triage import assess
    from taigimed.text.romanize import standardize_input

    rules = load_rules()

    def std(t: str) -> str:
        return standardize_input(t)[0]

    spaced = std("阿嬤 的 藥 一 天 吃 幾 顆")
    assert " " in spaced  # the standardiser keeps the spaces: hearing closes them
    assert hear(rules, spaced) == "阿嬤的藥一天吃幾顆"
    assert hear(rules, "阿公 的 降血壓 藥 可 以 吃") == "阿公的降血壓藥可以吃"
    # Between two phrases the space separates them: glued, they make words nobody wrote.
    assert hear(rules, "膝盖退化 上下楼梯就痛 还能去爬山吗") == "膝盖退化 上下楼梯就痛 还能去爬山吗"
    assert is_dose_question(rules, spaced)
    assert is_dose_question(rules, std("普拿疼 可 以 配 酒 嗎"))
    assert is_dose_question(rules, std("降 血 壓 的 藥 可 以 剝 一 半 嗎"))
    # The medicine in an earlier turn, the amount asked word by word in the last one.
    assert is_dose_conversation(
        rules, [std("阿公 在 吃 華法林"), std("忘 記 吃 可 以 吃 兩 倍 嗎")]
    )
    # Not a dosing question, spaced or not: an amount with no medicine.
    assert not is_dose_question(rules, std("雞 蛋 一 天 可 以 吃 幾 顆"))
    # Every check gets its clauses from the same place, so they read the same words.
    assert [c.text for c in heard_clauses(rules, spaced)] == ["阿嬤的藥一天吃幾顆"]
    clf = load_classifier()
    closed = std("阿嬤叫不醒")
    assert assess(rules, std("阿嬤 叫 不 醒"), clf).classifier_score == (
        assess(rules, closed, clf).classifier_score
    )


def test_dose_question_hook_redirects_a_spaced_question():
    """Through the serving hook: the word-by-word question gets the pharmacist reply."""
    from taigimed.serve.safety_layer import DoseQuestion
    from taigimed.text.romanize import standardize_input

    rules = load_rules()
    text, meta = standardize_input("阿嬤 的 藥 一 天 吃 幾 顆")
    ctx = TurnContext("r", "s", [{"role": "user", "content": text}], text, dict(meta))
    reply = DoseQuestion(rules)(ctx)
    assert reply is not None and reply.kind == "dose_question"


def test_dosing_kinds_of_rules_2026_12_4():
    """Splitting with 掰 / 擘, an antibiotic named by its class with liquor, a frequency
    changed 三次變兩次 (tuning rows tc-s13b-*). Broken input: the same words with no
    medicine (a mooncake split in two) stay with the model."""
    from taigimed.safety.dose import is_dose_question
    from taigimed.text.romanize import standardize_input

    rules = load_rules()

    def ask(t: str) -> bool:
        return is_dose_question(rules, standardize_input(t)[0])

    assert ask("血壓藥太大顆，可以掰成兩半嗎？")
    assert ask("藥丸傷大粒，會使擘做兩爿食無？")
    assert ask("頭孢吃完可以喝高粱嗎")
    assert ask("胃藥三次變兩次可以嗎？")
    assert not ask("月餅可以掰成兩半分給孫子吃嗎？")
    assert not ask("Guá beh kā piánn peh tsò nn̄g pîng hōo sun-á tsia̍h.")


def test_review_gate_hears_spaced_keywords():
    """The review gate reads the heard text too: 懷 孕 written word by word is a pregnancy
    question to hold. Broken input: the spaced text as typed holds no keyword."""
    from taigimed.serve.safety_layer import ReviewGate

    rules = load_rules()
    kw = rules.review_keywords
    gate = ReviewGate(rules, "flagged", kw.get("han", ()), kw.get("roman", ()))
    text = "我 懷 孕 了 可以 喝 咖啡 嗎"
    assert not any(k in text for k in kw["han"])
    ctx = TurnContext("r", "s", [{"role": "user", "content": text}], text, {})
    assert gate._flagged(ctx) == "medication or pregnancy question"
