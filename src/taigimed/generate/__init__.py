"""Build-time generators of the safety layer's shipped files: the triage tuning corpus
(``corpus``) and the classifier trained on it (``classifier``). Serving never imports this
package; run each with ``python -m taigimed.generate.<name>``."""
