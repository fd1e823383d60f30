"""What ``dataset.json`` says of texts: their lengths and a few examples per class."""

from typing import Any

from datasets import Dataset

from training.core.describe import EXAMPLES_PER_CLASS, example_indices, summary


def text_statistics(split: Dataset) -> dict[str, Any]:
    """Length of the texts of one split, in words and characters."""
    texts = split["text"]
    return {
        "words": summary([len(t.split()) for t in texts]),
        "characters": summary([len(t) for t in texts]),
    }


def shorten(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, ending in "..." when cut (examples, predictions.csv)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_examples(split: Dataset, label_names: list[str]) -> dict[str, list]:
    """The first few training texts of each class, shortened to 300 characters."""
    indices = example_indices(split, label_names, EXAMPLES_PER_CLASS)
    return {name: [shorten(split[i]["text"]) for i in rows] for name, rows in indices.items()}
