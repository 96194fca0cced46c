"""A card as the patient reads it, in the script they wrote in, with its source.

Reply scripts are the safety layer's five (``safety.triage.reply_script``): Taigi
Han, Tâi-lô, POJ, Traditional and Simplified Mandarin. Cards are written in Mandarin,
Taigi Han and Tâi-lô; POJ is derived with ``thokit`` and Simplified with OpenCC, as the
safety replies are.
"""

from __future__ import annotations

from dataclasses import dataclass

from taigimed.knowledge.cards import Card, Texts
from taigimed.text.normalize import to_simplified
from taigimed.text.romanize import tailo_to_poj

REPLY_SCRIPTS = ("taigi_han", "tailo", "poj", "mandarin_traditional", "mandarin_simplified")

# Written in three scripts; the other two are derived like the cards (``in_script``).
_SOURCE = Texts(mandarin="資料來源", taigi_han="資料來源", tailo="Tsu-liāu lâi-guân")
_UNREVIEWED = Texts(
    mandarin="（這張衛教卡尚未經醫師審閱。）",
    taigi_han="（這張衛教卡猶未予醫生審過。）",
    tailo="(Tsit tiunn uē-kàu khá iáu-buē hōo i-sing sím--kuè.)",
)
# Where to ask when no card answers: never an invented service (docs/knowledge.md).
NO_CARD = Texts(
    mandarin="這個問題目前沒有經過審核的衛教資料可以回答，我不想亂猜。請問你的醫師或藥師；"
    "長期照顧的問題可以打長照專線 1966。身體不舒服請就醫，緊急狀況請打 119。",
    taigi_han="這个問題，阮這馬無審核過的衛教資料通回答，阮毋敢烏白講。請問你的醫生抑是藥師；"
    "長期照顧的問題會當敲長照專線 1966。身體若無爽快請去看醫生，緊急的時請敲 119。",
    tailo="Tsit-ê būn-tê, guán tsit-má bô sím-ha̍p--kuè ê uē-kàu tsu-liāu thang huê-tap, "
    "guán m̄-kánn oo-pe̍h kóng. Tshiánn mn̄g lí ê i-sing ia̍h-sī io̍h-su; tn̂g-kî tsiàu-kòo ê "
    "būn-tê ē-tàng khà tn̂g-tsiàu tsuan-suànn 1966. Sin-thé nā bô sóng-khuài tshiánn khì "
    "khuànn i-sing, kín-kip ê sî tshiánn khà 119.",
)

# Above the card shown under an alarm only the classifier raised (serve/answers.AlarmCard):
# the emergency notice stays first; this says when the card is the one to read.
NOT_NOW = Texts(
    mandarin="如果這不是現在正在發生的緊急狀況，以下是一般衛教資訊：",
    taigi_han="若毋是這馬當咧發生的緊急狀況，下跤是一般的衛教資料：",
    tailo="Nā m̄-sī tsit-má tng-leh huat-sing ê kín-kip tsōng-hóng, ē-kha sī it-puann ê "
    "uē-kàu tsu-liāu:",
)


def in_script(texts: Texts, script: str) -> str:
    """One of ``texts`` in a reply script (``REPLY_SCRIPTS``)."""
    if script == "taigi_han":
        return texts.taigi_han
    if script == "tailo":
        return texts.tailo
    if script == "poj":
        return tailo_to_poj(texts.tailo)
    if script == "mandarin_simplified":
        return to_simplified(texts.mandarin)
    if script == "mandarin_traditional":
        return texts.mandarin
    raise ValueError(f"unknown reply script {script!r}; one of {', '.join(REPLY_SCRIPTS)}")


@dataclass(frozen=True)
class SourceNote:
    """What travels with an answer as its citation (API ``sources``, the page, feedback)."""

    card_id: str
    title: str
    publisher: str
    source_title: str
    year: int
    url: str
    reviewed: bool
    relevance: float


def source_note(card: Card, script: str, relevance: float) -> SourceNote:
    return SourceNote(
        card_id=card.id,
        title=in_script(card.title, script),
        publisher=card.source.publisher,
        source_title=card.source.title,
        year=card.source.year,
        url=card.source.url,
        reviewed=card.reviewed,
        relevance=round(relevance, 3),
    )


def source_line(card: Card, script: str) -> str:
    """The citation under an answer, and the unreviewed notice where it applies."""
    s = card.source
    line = f"{in_script(_SOURCE, script)}：{s.publisher}〈{s.title}〉（{s.year}）{s.url}"
    if not card.reviewed:
        line += "\n" + in_script(_UNREVIEWED, script)
    return line


def card_answer(card: Card, script: str) -> str:
    """The card's text in ``script`` followed by its source line."""
    return f"{in_script(card.text, script)}\n\n{source_line(card, script)}"


def card_beside_alarm(card: Card, script: str) -> str:
    """The card under an uncertain alarm, introduced as information for when it is not
    happening now."""
    return f"{in_script(NOT_NOW, script)}\n\n{card_answer(card, script)}"


def no_card_answer(script: str) -> str:
    return in_script(NO_CARD, script)


def rag_reference(hits, script: str) -> str:
    """What ``rag`` mode adds to the model's system prompt: the instruction and the top cards
    (``Retrieved`` hits), numbered as the answer cites them."""
    refs = "\n".join(
        f"[{i}] {in_script(h.card.title, script)}：{in_script(h.card.text, script)}"
        for i, h in enumerate(hits, 1)
    )
    return (
        "Answer only from these vetted health-education cards, in the user's language and "
        "script, in a few short sentences, and cite them as [1], [2]. If they do not answer "
        "the question, say so. Never give a medicine dose.\n" + refs
    )
