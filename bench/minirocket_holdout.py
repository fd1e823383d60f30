"""What the validation split alone costs MiniRocket on the small archives (issue #19's "best >= aeon" figure).

    python bench/minirocket_holdout.py

aeon's ``MiniRocketClassifier(random_state=0)`` fitted on the whole official training split (the issue's figure)
and on 20 stratified draws of 90% of it (what the lineup trains on once train_timeseries.py holds 10% out for
validation), each scored on the official test split. Prints the figures; writes
bench/results/minirocket_holdout.json.
"""

import json
import sys
from pathlib import Path

import numpy as np
from aeon.classification.convolution_based import MiniRocketClassifier
from aeon.datasets import load_classification
from sklearn.model_selection import train_test_split

DATASETS = ["ArrowHead", "ACSF1"]
DRAWS = 20


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else DATASETS
    results = {}
    for name in names:
        x, y = load_classification(name, split="train")
        x_test, y_test = load_classification(name, split="test")
        whole = float((MiniRocketClassifier(random_state=0).fit(x, y).predict(x_test) == y_test).mean())
        scores = []
        for draw in range(DRAWS):
            x_part, _, y_part, _ = train_test_split(x, y, test_size=0.1, stratify=y, random_state=draw)
            scores.append(
                float((MiniRocketClassifier(random_state=0).fit(x_part, y_part).predict(x_test) == y_test).mean())
            )
        results[name] = {
            "whole_training_split": {"series": len(y), "test_accuracy": round(whole, 4)},
            "ninety_percent": {
                "series": len(y_part), "draws": DRAWS, "mean": round(float(np.mean(scores)), 4),
                "std": round(float(np.std(scores)), 4), "min": round(min(scores), 4), "max": round(max(scores), 4),
                "draws_at_or_above_whole": sum(s >= whole for s in scores),
            },
        }  # fmt: skip
        part = results[name]["ninety_percent"]
        above = part["draws_at_or_above_whole"]
        print(
            f"{name}: whole training split ({len(y)} series) {whole:.4f}; 90% ({part['series']} series), {DRAWS} "
            f"draws: mean {part['mean']:.4f} (std {part['std']:.4f}, {part['min']:.4f} to {part['max']:.4f}), "
            f"{above} of {DRAWS} at or above the whole split's"
        )
    out = Path(__file__).parent / "results" / "minirocket_holdout.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
