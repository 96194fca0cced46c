"""The safety layer: red-flag triage before the model, dose filter and disclaimer after it,
and the clinician-review gate. Rules are data (``rules/red_flags.yaml``)."""
