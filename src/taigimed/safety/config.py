"""Safety settings, nested in ``ServeConfig`` as ``serve.safety``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taigimed.configbase import StrictModel


class SafetyConfig(StrictModel):
    enabled: bool = Field(
        True, description="Run the safety layer (standardiser, triage, dose filter, disclaimer)."
    )
    rules_path: str | None = Field(
        None, description="Red-flag rule YAML; None: the rule set shipped in the package."
    )
    red_flag_triage: bool = Field(
        True, description="Answer red-flag messages at once with emergency guidance (119, 1925)."
    )
    classifier: bool = Field(
        True,
        description="Run the learned second opinion (logistic regression) beside the red-flag "
        "rules; either one firing answers with the emergency notice.",
    )
    classifier_path: str | None = Field(
        None, description="Triage classifier JSON; None: the model shipped in the package."
    )
    dose_questions: bool = Field(
        True,
        description="Answer questions about how much / how often / doubling or skipping a "
        "medicine at once: ask the pharmacist or doctor (no model, no number).",
    )
    dose_reading: bool = Field(
        True,
        description="Beside the dosing rules, the learned dosing reading (model/"
        "dose_classifier.json): a turn naming a medicine that it scores at its threshold gets "
        "the pharmacist reply too. Only with dose_questions.",
    )
    dose_reading_path: str | None = Field(
        None, description="Dosing reading JSON; None: the one shipped in the package."
    )
    dose_filter: bool = Field(
        True, description="Replace specific doses in answers and tell the user why."
    )
    disclaimer: bool = Field(
        True, description="Append the not-a-diagnosis disclaimer to every answer."
    )
    answer_tailo: bool = Field(
        True, description="Also give each answer in Tâi-lô (taibun) as meta.answer_tailo."
    )
    review_mode: Literal["off", "all", "flagged"] = Field(
        "off",
        description="Clinician review: hold every answer, only flagged ones (suppressed red "
        "flags, medication questions), or none.",
    )
    review_token_env: str = Field(
        "TAIGIMED_REVIEW_TOKEN",
        description="Environment variable holding the clinician token; when it is set, the "
        "review queue API requires the header 'X-Review-Token'.",
    )
