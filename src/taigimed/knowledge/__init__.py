"""Vetted health-education cards: format and checks (cards), terms and BM25 index, the
versioned knowledge build (base), how a card reads in each script (render), and the checks on
generated text (guard). Used by data prepare, evaluation, the gate and serving."""
