"""``dataset.json``: what the data looks like, written before any training. The modality brings its own
input statistics and examples (``training/text/describe.py``, ``training/image/describe.py``)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from training.core.data import SPLITS, ClassificationData
from training.core.plots import plot_class_balance
from training.core.results import write_json

EXAMPLES_PER_CLASS = 3  # in dataset.json


def summary(values: list[float]) -> dict[str, float]:
    """Min, mean, median, 95th percentile and max of ``values`` (lengths, sizes)."""
    array = np.asarray(values, dtype=float)
    return {
        "min": float(array.min()),
        "mean": round(float(array.mean()), 1),
        "median": float(np.median(array)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
    }


def example_indices(split: Dataset, label_names: list[str], per_class: int) -> dict[str, list[int]]:
    """Row indices of the first ``per_class`` examples of each class."""
    indices: dict[str, list[int]] = {name: [] for name in label_names}
    for i, label in enumerate(split["label"][:]):
        bucket = indices[label_names[label]]
        if len(bucket) < per_class:
            bucket.append(i)
    return indices


def describe_dataset(
    data: ClassificationData,
    statistics: Callable[[Dataset], dict[str, Any]],
    examples: Callable[[Dataset, list[str]], dict[str, list]],
) -> dict[str, Any]:
    """Sizes, class balance (counts and shares), input statistics and examples per class.

    ``statistics`` and ``examples`` are the modality's own (text lengths, image sizes, ...).
    """
    num_classes = len(data.label_names)
    balance = {}
    for name in SPLITS:
        counts = np.bincount(data.splits[name]["label"][:], minlength=num_classes)
        balance[name] = {
            label: {"count": int(c), "share": round(float(c) / max(int(counts.sum()), 1), 4)}
            for label, c in zip(data.label_names, counts, strict=True)
        }
    train_counts = [v["count"] for v in balance["train"].values()]
    return {
        "source": data.source,
        "hub_dataset": data.hub_dataset,
        "input_column": data.input_column,
        "input_fields": data.input_fields,
        "num_classes": num_classes,
        "label_names": data.label_names,
        "num_examples": {name: len(data.splits[name]) for name in SPLITS},
        "class_balance": balance,
        # Largest over smallest training class: 1.0 is perfectly balanced.
        "imbalance_ratio": round(max(train_counts) / max(min(train_counts), 1), 3),
        "statistics": {name: statistics(data.splits[name]) for name in SPLITS},
        "examples": examples(data.splits["train"], data.label_names),
        "notes": data.notes,
    }


def write_description(description: dict[str, Any], output_dir: Path) -> None:
    """Write ``dataset.json`` and ``class_balance.png``."""
    counts = {
        split: [v["count"] for v in per_class.values()] for split, per_class in description["class_balance"].items()
    }
    plot_class_balance(counts, description["label_names"], output_dir / "class_balance.png")
    write_json(description, output_dir / "dataset.json")
