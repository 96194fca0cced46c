"""Evaluation on three sets (MedQA-TW, the authored Taigi medical set, general Taigi), the gate.

``evaluate_model`` is imported lazily: ``taigimed.config`` imports this package for
``EvalConfig``, and every CLI start should not pay for torch and transformers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate_model", "item_values"]


def __getattr__(name: str) -> Any:
    if name == "evaluate_model":
        from taigimed.evaluate.run import evaluate_model

        return evaluate_model
    if name == "item_values":
        from taigimed.evaluate.metrics import item_values

        return item_values
    raise AttributeError(f"module 'taigimed.evaluate' has no attribute {name!r}")
