"""Extension points around the model: the safety layer and input standardisation plug in here.

One turn runs: standardisers → pre-model hooks → model → post-model hooks → storage
(``taigimed.serve.generation``). This module only defines the shapes and imports no
implementation; the safety layer (``taigimed.safety``) builds on them, and the app
(``taigimed.serve.app.default_hooks``) composes the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class Trigger:
    """One safety rule that fired; stored in ``safety_events`` and counted in the metrics."""

    rule_id: str
    category: str
    stage: str = "pre"  # "pre" (before the model) or "post" (amending the answer)
    detail: str | None = None  # why, for reviewers; never shown to the user


@dataclass
class TurnContext:
    """Everything the hooks may read about the turn being answered.

    ``messages`` is the conversation after standardisation, without the system
    prompt, ending with the user's new message. Hooks may add to ``meta`` (script,
    language, confidence...) and ``triggers``; both are stored with the answer.
    """

    request_id: str
    session_id: str
    messages: list[dict[str, str]]
    raw_user_text: str
    meta: dict[str, Any] = field(default_factory=dict)
    triggers: list[Trigger] = field(default_factory=list)
    # Set by a hook that wants the answer held for clinician review ("pending").
    review_status: str | None = None
    # Reference text a pre-model hook adds to the system prompt (rag: the retrieved cards).
    context: str | None = None
    # Set by a post-model hook: send nothing more and stop the engine.
    stop_generation: bool = False
    # Hooks' working state for this turn (fallback answers, pieces seen); never stored.
    scratch: dict[str, Any] = field(default_factory=dict)

    @property
    def user_text(self) -> str:
        """The standardised text of the user's new message."""
        return self.messages[-1]["content"]


@dataclass
class ImmediateReply:
    """An answer given at once, without the model (e.g. red-flag triage).

    ``kind`` names what kind of reply it is ("red_flag", "review_pending", ...) and
    is sent to clients so they can style it (the emergency notice).
    """

    text: str
    kind: str
    triggers: list[Trigger] = field(default_factory=list)


@runtime_checkable
class InputStandardizer(Protocol):
    """Normalise one user message; returns the new text and facts about it (script, ...).

    Applied to the user's new message before anything else; the returned meta is
    merged into ``TurnContext.meta``.
    """

    def __call__(self, text: str) -> tuple[str, dict[str, Any]]: ...


@runtime_checkable
class PreModelHook(Protocol):
    """Look at the turn before the model; return an ``ImmediateReply`` to answer at once."""

    def __call__(self, ctx: TurnContext) -> ImmediateReply | None: ...


@runtime_checkable
class PostModelHook(Protocol):
    """Amend the answer while it streams.

    ``amend_chunk`` gets sentence-sized pieces (split after 。！？.!? or a newline,
    or at most ``CHUNK_MAX_CHARS``) before they reach the user and returns the text
    to send instead; ``finish`` gets the full amended answer and returns a suffix
    to append (e.g. the disclaimer), or "".
    """

    def amend_chunk(self, ctx: TurnContext, text: str) -> str: ...

    def finish(self, ctx: TurnContext, full_text: str) -> str: ...


@dataclass
class Hooks:
    """The configured hooks, applied in list order."""

    standardizers: list[InputStandardizer] = field(default_factory=list)
    pre_model: list[PreModelHook] = field(default_factory=list)
    post_model: list[PostModelHook] = field(default_factory=list)
