"""What a patient reads: the answer modes (``serve.answer_mode``) as serving hooks.

- ``CardAnswer`` (pre-model, after triage and dosing): retrieves the cards for the
  question. No card close enough → the honest "no vetted information" reply, in every
  mode but ``model``. ``cards`` → the best card in the user's script with its source.
  ``rag`` → the top cards go into the model's prompt (``TurnContext.context``) and the
  best card is kept as the fallback.
- ``AlarmCard`` (called by the triage, not a hook of its own): the best card for a
  message only the triage classifier took for an emergency, shown under the emergency
  notice (``serve/safety_layer.RedFlagTriage``).
- ``AnswerGuard`` (post-model, before the safety layer's dose filter and disclaimer):
  checks each sentence-sized piece before it is sent (``knowledge.guard``): a loop, a
  repeat, an echo of the question, the wrong script, or (``rag``) text the cards do not
  support is never sent; generation stops there and the fallback card (or the no-card
  reply) is appended instead.

Sources travel in ``meta["sources"]`` (stored with the answer, sent as ``sources`` in the
API and WebSocket, shown on the page, read by feedback).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from taigimed.knowledge import guard
from taigimed.knowledge.base import KnowledgeBase
from taigimed.knowledge.render import (
    NO_CARD,
    card_answer,
    card_beside_alarm,
    in_script,
    no_card_answer,
    rag_reference,
    source_note,
)
from taigimed.safety.triage import reply_script
from taigimed.serve.hooks import ImmediateReply, Trigger, TurnContext

Disclaimer = Callable[[str], str]  # reply script → the disclaimer line ("" when off)


def _script(ctx: TurnContext) -> str:
    return reply_script(ctx.meta.get("script"))


@dataclass
class CardAnswer:
    kb: KnowledgeBase
    mode: str
    top_k: int
    min_confidence: float | None
    disclaimer: Disclaimer
    tailo_view: bool = True  # the Tâi-lô line under a Taigi Han answer (serve.safety.answer_tailo)

    def __call__(self, ctx: TurnContext) -> ImmediateReply | None:
        script = _script(ctx)
        found = self.kb.retrieve(ctx.user_text, self.top_k, self.min_confidence)
        ctx.meta["knowledge_version"] = self.kb.version
        ctx.meta["retrieved"] = [[h.card.id, round(h.hit.relevance, 3)] for h in found.hits]
        if self.mode == "model":
            if found.best is not None:
                _fallback(ctx, found.hits[0], script)
            return None
        if found.best is None:
            if self.tailo_view and script == "taigi_han":
                ctx.meta["answer_tailo"] = in_script(NO_CARD, "tailo")
            text = _with(no_card_answer(script), self.disclaimer(script))
            return ImmediateReply(text, "no_card", [Trigger("knowledge:no_card", "no_card")])
        best = found.hits[0]
        note = asdict(source_note(best.card, script, best.hit.relevance))
        if self.mode == "cards":
            ctx.meta["sources"] = [note]
            if self.tailo_view and script == "taigi_han":  # the card's own Tâi-lô, not a reading
                ctx.meta["answer_tailo"] = best.card.text.tailo
            text = _with(card_answer(best.card, script), self.disclaimer(script))
            return ImmediateReply(text, "card")
        ctx.context = rag_reference(found.hits, script)
        ctx.meta["sources"] = [
            asdict(source_note(h.card, script, h.hit.relevance)) for h in found.hits
        ]
        ctx.scratch["reference"] = guard.reference_terms([ctx.context])
        _fallback(ctx, best, script)
        return None


@dataclass
class AlarmCard:
    """The card beside an alarm only the classifier raised.

    The classifier is the triage's uncertain reading: on everyday messages no rule took for
    an emergency it still fires (*gua2 tiann7-tiann7 thau5-khak4 hin5*, "I am often dizzy",
    got the 119 notice and nothing else). The notice stays, first and unchanged (when unsure,
    escalate); under it the patient also reads the vetted card for the message, introduced
    as what to read when this is not happening now. ``None`` when no card is close enough.
    """

    kb: KnowledgeBase
    top_k: int
    min_confidence: float | None

    def __call__(self, ctx: TurnContext) -> tuple[str, list[dict]] | None:
        found = self.kb.retrieve(ctx.user_text, self.top_k, self.min_confidence)
        ctx.meta["knowledge_version"] = self.kb.version
        ctx.meta["retrieved"] = [[h.card.id, round(h.hit.relevance, 3)] for h in found.hits]
        if found.best is None:
            return None
        script, best = _script(ctx), found.hits[0]
        note = asdict(source_note(best.card, script, best.hit.relevance))
        return card_beside_alarm(best.card, script), [note]


def alarm_card(cfg, kb: KnowledgeBase | None) -> AlarmCard | None:
    """The ``AlarmCard`` for a server answering from cards (``cards``, ``rag``); ``model``
    mode shows the model's own answers, and no card beside an alarm either."""
    if kb is None or cfg.serve.answer_mode == "model":
        return None
    return AlarmCard(kb, cfg.knowledge.top_k, cfg.knowledge.min_confidence)


def _fallback(ctx: TurnContext, best, script: str) -> None:
    """The card that replaces a model answer the guard cuts."""
    ctx.scratch["fallback"] = card_answer(best.card, script)
    ctx.scratch["fallback_sources"] = [asdict(source_note(best.card, script, best.hit.relevance))]


def _with(text: str, disclaimer: str) -> str:
    return f"{text}\n\n{disclaimer}" if disclaimer else text


@dataclass
class AnswerGuard:
    """Stops a model answer at the first piece a patient must not read (module docstring)."""

    min_support: float

    def _problem(self, ctx: TurnContext, piece: str) -> str | None:
        return guard.first_problem(
            piece,
            question=ctx.user_text,
            earlier=ctx.scratch.setdefault("sent", []),
            reply_script=_script(ctx),
            reference=ctx.scratch.get("reference"),
            min_support=self.min_support,
        )

    def amend_chunk(self, ctx: TurnContext, text: str) -> str:
        if ctx.stop_generation:
            return ""
        if (problem := self._problem(ctx, text)) is None:
            ctx.scratch["sent"].append(text)
            return text
        ctx.stop_generation = True
        ctx.meta["answer_cut"] = problem
        ctx.triggers.append(Trigger(f"guard:{problem}", "answer_guard", "post", problem))
        return ""

    def finish(self, ctx: TurnContext, full_text: str) -> str:
        if not ctx.meta.get("answer_cut") and full_text.strip():
            return ""
        ctx.meta.setdefault("answer_cut", "empty")
        fallback = ctx.scratch.get("fallback")
        if fallback:
            ctx.meta["sources"] = ctx.scratch.get("fallback_sources", [])
        else:
            ctx.meta.pop("sources", None)
        text = fallback or no_card_answer(_script(ctx))
        return ("\n\n" if full_text.strip() else "") + text


def answer_hooks(cfg, kb: KnowledgeBase | None) -> tuple[list, list]:
    """(pre-model, post-model) hooks for ``serve.answer_mode``, placed after the safety
    layer's triage and dosing hooks and before its dose filter and disclaimer."""
    from taigimed.safety.in_effect import rules_in_effect

    s = cfg.serve
    pre: list = []
    if kb is not None:
        if s.safety.enabled and s.safety.disclaimer:
            rules = rules_in_effect(s.safety)

            def disclaimer(script: str) -> str:
                return rules.reply("disclaimer", script)
        else:

            def disclaimer(script: str) -> str:
                return ""

        k = cfg.knowledge
        tailo = s.safety.enabled and s.safety.answer_tailo
        pre.append(CardAnswer(kb, s.answer_mode, k.top_k, k.min_confidence, disclaimer, tailo))
    post = [AnswerGuard(s.rag_min_support)] if s.answer_guard else []
    return pre, post
