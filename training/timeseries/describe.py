"""What ``dataset.json`` says of time series: lengths, channels and missing values per split, a few series per
class, and ``examples.png`` (some series of each class beside the class's mean ± std curve)."""

from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from training.core.describe import EXAMPLES_PER_CLASS, example_indices, summary
from training.core.plots import plot_series_examples
from training.timeseries.data import series_lengths

# Series per class behind the mean ± std curve of examples.png (the first ones of each class).
SUMMARY_SERIES = 200


def timeseries_statistics(split: Dataset) -> dict[str, Any]:
    """Length (steps, without leading/trailing missing ones), channels and interior missing values of a split."""
    lengths, channels, gaps = series_lengths(split)
    return {
        "length": summary(lengths),
        "equal_length": len(set(lengths)) == 1,
        "channels": int(channels[0]),
        "missing_values": gaps,
    }


def timeseries_examples(split: Dataset, label_names: list[str]) -> dict[str, list]:
    """The first few training series of each class: ``train[i]`` with its length and first values."""
    indices = example_indices(split, label_names, EXAMPLES_PER_CLASS)
    chosen = [i for rows in indices.values() for i in rows]  # only these series are measured, not the whole split
    lengths = dict(zip(chosen, series_lengths(split.select(chosen))[0], strict=True))
    return {
        name: [
            {"series": f"train[{i}]", "length": lengths[i], "start": [round(v, 3) for v in split[i]["series"][0][:5]]}
            for i in rows
        ]
        for name, rows in indices.items()
    }


def plot_examples(split: Dataset, label_names: list[str], path: Path) -> None:
    """``examples.png``: a few series per class, and each class's mean ± one standard deviation."""
    indices = example_indices(split, label_names, SUMMARY_SERIES)
    series = {name: [np.asarray(split[i]["series"], dtype=float) for i in rows] for name, rows in indices.items()}
    plot_series_examples(series, path)


def series_examples(split: Dataset, label_names: list[str]) -> dict[str, list[list[float | None]]]:
    """The first series of each class of ``split`` (channels x steps; ``None`` for a missing value)."""
    rows = example_indices(split, label_names, 1)
    return {
        name: [[None if v is None or np.isnan(v) else round(float(v), 6) for v in c] for c in split[i[0]]["series"]]
        for name, i in rows.items()
        if i
    }
