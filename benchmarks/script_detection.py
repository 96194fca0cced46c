"""Script-detection accuracy on a labelled sample of the shared corpora.

    TAIGIMED_DATA_ROOT=../shared/data python benchmarks/script_detection.py

Sinica Han vs its Tâi-lô, and the parallel file's Mandarin, Taigi Han, Tâi-lô and POJ
(Simplified = the Mandarin through OpenCC t2s); seed 1234.
"""

from __future__ import annotations

import os
from pathlib import Path

from taigimed.text.script_eval import accuracy_table, labelled_sample


def main() -> None:
    root = Path(
        os.environ.get(
            "TAIGIMED_DATA_ROOT", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    t = accuracy_table(labelled_sample(root))
    print("| source:label | n | accuracy |\n|---|---|---|")
    for k, v in t["per_label"].items():
        print(f"| {k} | {v['n']} | {v['accuracy']:.3f} |")
    print(f"| **all** | {t['overall']['n']} | {t['overall']['accuracy']:.3f} |")
    print(
        f"\nTone style (numeric vs diacritic) on romanised rows: {t['tone_style']['accuracy']:.3f} "
        f"(n={t['tone_style']['n']}); confusions: {t['confusions']}"
    )


if __name__ == "__main__":
    main()
