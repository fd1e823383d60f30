"""``dataset.json``: what the data looks like, written before any training."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from training.data import SPLITS, ClassificationData
from training.image_data import image_references, image_sizes
from training.plots import plot_class_balance, plot_image_examples
from training.results import write_json

EXAMPLES_PER_CLASS = 3  # in dataset.json
IMAGE_GRID_PER_CLASS = 6  # in examples.png


def _summary(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    return {
        "min": float(array.min()),
        "mean": round(float(array.mean()), 1),
        "median": float(np.median(array)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
    }


def text_statistics(split: Dataset) -> dict[str, Any]:
    """Length of the texts of one split, in words and characters."""
    texts = split["text"]
    return {
        "words": _summary([len(t.split()) for t in texts]),
        "characters": _summary([len(t) for t in texts]),
    }


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, ending in "..." when cut (examples, predictions.csv)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def example_indices(split: Dataset, label_names: list[str], per_class: int) -> dict[str, list[int]]:
    """Row indices of the first ``per_class`` examples of each class."""
    indices: dict[str, list[int]] = {name: [] for name in label_names}
    for i, label in enumerate(split["label"]):
        bucket = indices[label_names[label]]
        if len(bucket) < per_class:
            bucket.append(i)
    return indices


def text_examples(split: Dataset, label_names: list[str]) -> dict[str, list]:
    """The first few training texts of each class, shortened to 300 characters."""
    indices = example_indices(split, label_names, EXAMPLES_PER_CLASS)
    return {name: [shorten(split[i]["text"]) for i in rows] for name, rows in indices.items()}


def image_statistics(split: Dataset) -> dict[str, Any]:
    """Width and height of the images of one split, and how many there are of each colour mode."""
    sizes = image_sizes(split)
    return {
        "width": _summary([w for w, _, _ in sizes]),
        "height": _summary([h for _, h, _ in sizes]),
        "modes": dict(Counter(mode for _, _, mode in sizes).most_common()),
    }


def image_examples(split: Dataset, label_names: list[str]) -> dict[str, list]:
    """The first few training images of each class: file paths, or ``train[i]`` for in-memory images."""
    references = image_references(split, "train")
    indices = example_indices(split, label_names, EXAMPLES_PER_CLASS)
    return {name: [references[i] for i in rows] for name, rows in indices.items()}


def plot_examples(split: Dataset, label_names: list[str], path: Path) -> None:
    """``examples.png``: a row of training images per class."""
    indices = example_indices(split, label_names, IMAGE_GRID_PER_CLASS)
    plot_image_examples({name: [split[i]["image"] for i in rows] for name, rows in indices.items()}, path)


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
        counts = np.bincount(data.splits[name]["label"], minlength=num_classes)
        balance[name] = {
            label: {"count": int(c), "share": round(float(c) / max(int(counts.sum()), 1), 4)}
            for label, c in zip(data.label_names, counts, strict=True)
        }
    train_counts = [v["count"] for v in balance["train"].values()]
    return {
        "source": data.source,
        "hub_dataset": data.hub_dataset,
        "input_column": data.input_column,
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
