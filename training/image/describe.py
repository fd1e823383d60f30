"""What ``dataset.json`` says of images: their sizes and colour modes, a few per class, and ``examples.png``."""

from collections import Counter
from pathlib import Path
from typing import Any

from datasets import Dataset

from training.core.describe import EXAMPLES_PER_CLASS, example_indices, summary
from training.core.plots import plot_image_examples
from training.image.data import image_references, image_sizes

IMAGE_GRID_PER_CLASS = 6  # in examples.png


def image_statistics(split: Dataset) -> dict[str, Any]:
    """Width and height of the images of one split, and how many there are of each colour mode."""
    sizes = image_sizes(split)
    return {
        "width": summary([w for w, _, _ in sizes]),
        "height": summary([h for _, h, _ in sizes]),
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
