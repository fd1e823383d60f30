"""What the validation split alone costs MiniRocket on the small archives (issue #19's "best >= aeon" figure).

    python bench/minirocket_holdout.py

aeon's ``MiniRocketClassifier(random_state=0)`` fitted on the whole official training split (the issue's figure)
and on 20 stratified draws of 90% of it (what the lineup trains on once train_timeseries.py holds 10% out for
validation), each scored on the official test split. Also how much the issue's figure itself moves on the whole
split: under 20 other random states, and under 20 shuffled orders of the same training series (MiniRocket draws
its biases from training series picked by index, so their order changes the model). Prints the figures; writes
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


def spread(scores: list[float], reference: float) -> dict:
    return {
        "draws": len(scores), "mean": round(float(np.mean(scores)), 4), "std": round(float(np.std(scores)), 4),
        "min": round(min(scores), 4), "max": round(max(scores), 4),
        "draws_at_or_above_whole": sum(s >= reference for s in scores),
    }  # fmt: skip


def accuracy(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, random_state: int = 0) -> float:
    return float((MiniRocketClassifier(random_state=random_state).fit(x, y).predict(x_test) == y_test).mean())


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else DATASETS
    results = {}
    for name in names:
        x, y = load_classification(name, split="train")
        x_test, y_test = load_classification(name, split="test")
        whole = accuracy(x, y, x_test, y_test)
        parts, states, orders = [], [], []
        for draw in range(DRAWS):
            x_part, _, y_part, _ = train_test_split(x, y, test_size=0.1, stratify=y, random_state=draw)
            parts.append(accuracy(x_part, y_part, x_test, y_test))
            states.append(accuracy(x, y, x_test, y_test, random_state=draw + 1))
            order = np.random.default_rng(draw).permutation(len(y))
            orders.append(accuracy(x[order], y[order], x_test, y_test))
        results[name] = {
            "whole_training_split": {"series": len(y), "test_accuracy": round(whole, 4)},
            "ninety_percent": {"series": len(y_part), **spread(parts, whole)},
            "whole_other_random_states": spread(states, whole),
            "whole_shuffled_order": spread(orders, whole),
        }
        print(f"{name}: whole training split ({len(y)} series), random_state=0: {whole:.4f}")
        for key, what in [
            ("ninety_percent", f"90% ({len(y_part)} series), stratified draws"),
            ("whole_other_random_states", "whole split, random_state 1 to 20"),
            ("whole_shuffled_order", "whole split, random_state=0, shuffled series order"),
        ]:
            part = results[name][key]
            print(
                f"  {what}: mean {part['mean']:.4f} (std {part['std']:.4f}, {part['min']:.4f} to {part['max']:.4f}), "
                f"{part['draws_at_or_above_whole']} of {DRAWS} at or above {whole:.4f}"
            )
    out = Path(__file__).parent / "results" / "minirocket_holdout.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
