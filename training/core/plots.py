"""Figures shared by every pipeline: class balance, confusion matrix, learning curves."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_class_balance(counts: dict[str, list[int]], label_names: list[str], path: Path) -> None:
    """Grouped bars: examples per class in each split."""
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(label_names) + 3), 4))
    width = 0.8 / len(counts)
    x = np.arange(len(label_names))
    for i, (split, values) in enumerate(counts.items()):
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=split)
        ax.bar_label(bars, fontsize=7)
    crowded = len(label_names) > 6
    ax.set_xticks(x, label_names, rotation=30 if crowded else 0, ha="right" if crowded else "center")
    ax.set_ylabel("examples")
    ax.set_title("Class balance per split")
    ax.legend()
    _save(fig, path)


def plot_confusion_matrix(matrix: list[list[int]], label_names: list[str], title: str, path: Path) -> None:
    """Heatmap of counts, rows = true class, with each cell's count and row share."""
    counts = np.asarray(matrix)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.5, 0.7 * len(label_names) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(label_names)):
        for j in range(len(label_names)):
            ax.text(
                j,
                i,
                f"{counts[i, j]}\n{shares[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shares[i, j] > 0.5 else "black",
            )
    ticks = np.arange(len(label_names))
    ax.set_xticks(ticks, label_names, rotation=45, ha="right")
    ax.set_yticks(ticks, label_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _save(fig, path)


def plot_learning_curves(history: list[dict[str, Any]], primary_metric: str, title: str, path: Path) -> None:
    """Train vs validation loss per epoch, and the validation primary metric on the right."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    epochs = [h["epoch"] for h in history]
    for key, label, style in (("train_loss", "train loss", "o-"), ("validation_loss", "validation loss", "s-")):
        points = [(e, h[key]) for e, h in zip(epochs, history, strict=True) if h.get(key) is not None]
        if points:
            ax.plot(*zip(*points, strict=True), style, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    metric_key = f"validation_{primary_metric}"
    points = [(e, h[metric_key]) for e, h in zip(epochs, history, strict=True) if h.get(metric_key) is not None]
    handles, labels = ax.get_legend_handles_labels()
    if points:
        right = ax.twinx()
        (line,) = right.plot(*zip(*points, strict=True), "^--", color="tab:green")
        right.set_ylabel(f"validation {primary_metric}")
        handles.append(line)
        labels.append(f"validation {primary_metric}")
    ax.legend(handles, labels, loc="center right")
    ax.set_title(title)
    _save(fig, path)


def plot_image_examples(examples: dict[str, list[Any]], path: Path) -> None:
    """A grid of images, one row per class (PIL images, shown in RGB as the models see them)."""
    columns = max(len(images) for images in examples.values())
    rows = len(examples)
    fig, axes = plt.subplots(rows, columns, figsize=(1.4 * columns + 1, 1.4 * rows), squeeze=False)
    for row, (name, images) in zip(axes, examples.items(), strict=True):
        for column, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(False)
            if column < len(images):
                image = images[column].convert("RGB")
                # Tiny images (digits) shown as crisp pixels rather than smoothed blobs.
                ax.imshow(image, interpolation="nearest" if max(image.size) < 64 else "antialiased")
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("Training examples per class")
    _save(fig, path)
