"""Which knowledge version the server answers from, and why (like ``model_source``).

The version registered with the served model (``taigimed.knowledge.version`` on its
registry version) when there is one, so staging, canary and production each answer from
the cards they were evaluated with; otherwise the configured cards, built now (a cache
hit when unchanged). ``model`` mode without the answer guard needs none.
"""

from __future__ import annotations

import logging

from taigimed.config import Config
from taigimed.knowledge.base import KnowledgeBase, open_knowledge
from taigimed.workdir import Workdir

log = logging.getLogger("taigimed.serve")


def served_knowledge(cfg: Config, workdir: Workdir) -> KnowledgeBase | None:
    s = cfg.serve
    if s.answer_mode == "model" and not s.answer_guard:
        return None
    from taigimed.registry.knowledge import registered_knowledge

    folder, why = registered_knowledge(cfg, workdir, s.model)
    kb = open_knowledge(cfg.knowledge, workdir, folder)
    log.info(
        "answering in %r mode from knowledge %s (%d cards, %d unreviewed): %s",
        s.answer_mode,
        kb.version,
        len(kb.cards),
        len(kb.manifest.get("unreviewed", [])),
        why,
    )
    return kb
