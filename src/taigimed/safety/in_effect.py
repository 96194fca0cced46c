"""The safety rules in effect: the one reader of ``serve.safety.rules_path`` and
``serve.safety.classifier_path``.

The safety layer (triage, dosing, review gate, dose filter, disclaimer), the review routes'
notices, the answer hooks' disclaimer and the drift report all ask here, so they judge by the
same rule file and can name its version.

A classifier is only loaded together with the rules it was built for. It reads every message
through the rule file's spelling variants (``classifier.features_text``), and its threshold
was calibrated beside those rules (``cv_recall_with_rules``): under another rule version it
would score features it was never fitted on, and no figure of the held-out evaluation would
vouch for the emergency path it opens or closes. So a mismatch is refused when the server
starts, never only warned about (a warning in a start-up log is read after the fact, and
missed emergencies are the failure this layer exists to prevent).
"""

from __future__ import annotations

from pathlib import Path

from taigimed.safety.classifier import (
    MODEL_PATH,
    REBUILD_COMMAND,
    TriageClassifier,
    load_classifier,
)
from taigimed.safety.config import SafetyConfig
from taigimed.safety.dose import DOSE_MODEL_PATH, DoseReading, dose_reading_for
from taigimed.safety.rules import DEFAULT_RULES, RuleSet, load_rules


class ClassifierMismatch(ValueError):
    """The classifier was built for another version of the rules than the ones in effect."""


def rules_path(cfg: SafetyConfig | None = None) -> Path:
    """The rule file ``cfg`` names; the rules shipped in the package when it names none."""
    return Path(cfg.rules_path) if cfg is not None and cfg.rules_path else DEFAULT_RULES


def rules_in_effect(cfg: SafetyConfig | None = None) -> RuleSet:
    """The loaded rules (cached until the file changes); ``.version`` is what triggers,
    notices and reports record."""
    return load_rules(rules_path(cfg))


def classifier_for(rules: RuleSet, path: Path | str = MODEL_PATH) -> TriageClassifier:
    """The classifier at ``path``, refused unless it was built for ``rules``' version."""
    clf = load_classifier(path)
    if clf.rules_version != rules.version:
        raise ClassifierMismatch(
            f"{path}: the triage classifier was built for rules version {clf.rules_version!r}, "
            f"but the rules in effect are version {rules.version!r}; rebuild it with "
            f"`{REBUILD_COMMAND}` (it trains beside the shipped rules), or point "
            "serve.safety.classifier_path at one built for these rules, or set "
            "serve.safety.classifier: false to run the rules alone"
        )
    return clf


def classifier_in_effect(cfg: SafetyConfig, rules: RuleSet) -> TriageClassifier | None:
    """The classifier ``cfg`` asks for beside ``rules``; None when it is switched off."""
    if not cfg.classifier:
        return None
    return classifier_for(rules, Path(cfg.classifier_path) if cfg.classifier_path else MODEL_PATH)


def dose_reading_in_effect(cfg: SafetyConfig, rules: RuleSet) -> DoseReading | None:
    """The learned dosing reading ``cfg`` asks for beside ``rules`` (refused, naming the
    rebuild command, when broken or built for other rules); None when switched off."""
    if not (cfg.dose_questions and cfg.dose_reading):
        return None
    return dose_reading_for(
        rules, Path(cfg.dose_reading_path) if cfg.dose_reading_path else DOSE_MODEL_PATH
    )
