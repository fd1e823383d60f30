"""Figures shared by every pipeline: class balance, confusion matrix, learning curves; and the report's small
multiples of a whole run (every model in one figure)."""

import math
import textwrap
import warnings
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


def plot_series_examples(examples: dict[str, list[np.ndarray]], path: Path) -> None:
    """One row per class: a few of its series (one if it has several channels, each its own colour) and, at the
    right, the class's mean with a band of one standard deviation per step, over all its series given."""
    rows = len(examples)
    channels = next(iter(examples.values()))[0].shape[0]
    shown_series = EXAMPLE_SERIES if channels == 1 else 1  # several channels of several series are a tangle
    fig, axes = plt.subplots(rows, 2, figsize=(8, 1.5 * rows + 0.6), squeeze=False, sharex=True)
    for (shown, summary), (name, series) in zip(axes, examples.items(), strict=True):
        length = max(s.shape[1] for s in series)
        stacked = np.full((len(series), series[0].shape[0], length), np.nan)
        for i, s in enumerate(series):
            stacked[i, :, : s.shape[1]] = s
        for i, s in enumerate(series[:shown_series]):
            for channel, values in enumerate(s):
                plot_series_line(shown, values, f"C{channel % 10}", 0.8, 1.0 - 0.2 * i, f"channel {channel + 1}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # steps where every series has ended
            mean, std = np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)
        for channel in range(mean.shape[0]):
            steps = np.arange(length)
            plot_series_line(summary, mean[channel], f"C{channel % 10}", 1.0, 1.0)
            summary.fill_between(steps, mean[channel] - std[channel], mean[channel] + std[channel],
                                 color=f"C{channel % 10}", alpha=0.2, lw=0)  # fmt: skip
        shown.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        for ax in (shown, summary):
            ax.tick_params(labelsize=7)
    axes[0, 0].set_title(f"{shown_series} series per class" if shown_series > 1 else "one series per class", fontsize=9)
    legend_space = 0.0
    if channels > 1:  # below the panels: inside one it would hide the series
        handles, labels = axes[0, 0].get_legend_handles_labels()
        columns = min(channels, 8)
        fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize=7, frameon=False)
        legend_space = 0.25 * math.ceil(channels / columns) / fig.get_figheight()
    axes[0, 1].set_title("class mean ± 1 std", fontsize=9)
    axes[-1, 0].set_xlabel("step", fontsize=8)
    axes[-1, 1].set_xlabel("step", fontsize=8)
    fig.suptitle("Training series per class")
    fig.tight_layout(rect=(0, legend_space, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


EXAMPLE_SERIES = 3  # drawn per class in plot_series_examples


def plot_series_line(
    ax: Any, values: np.ndarray, colour: str, width: float, alpha: float, label: str | None = None
) -> None:
    """One channel of a series as a line, or, when it has more steps than the axes have pixel columns twice
    over, as the band between its lowest and highest value in each column: a line that swings at every step
    (ACSF1's 1,460 steps of power readings) would otherwise paint a solid block over whatever is beneath it,
    a saliency map included."""
    figure = ax.get_figure()
    columns = max(int(ax.get_position().width * figure.get_figwidth() * figure.dpi), 1)
    if len(values) <= 2 * columns:
        ax.plot(values, lw=width, color=colour, alpha=alpha, label=label)
        return
    starts = np.linspace(0, len(values), columns, endpoint=False).astype(int)
    centres = (starts + np.append(starts[1:], len(values)) - 1) / 2
    # fmin/fmax skip NaN (the steps past the end of a shorter series).
    low, high = np.fmin.reduceat(values, starts), np.fmax.reduceat(values, starts)
    ax.fill_between(centres, low, high, color=colour, alpha=0.55 * alpha, lw=0, label=label)


def series_picture(
    values: np.ndarray, scores: np.ndarray | None = None, title: str = "", width: float = 6.5, height: float = 2.4
) -> Any:
    """A series (channels x steps, each channel a line) as a PIL image, over ``scores`` per step when given
    (``coolwarm``, symmetric around 0): the Space's drawing of a pasted series and every saliency plot."""
    import io

    from PIL import Image

    length = values.shape[1]
    fig, ax = plt.subplots(figsize=(width, height))
    if scores is not None:
        limit = float(np.abs(scores).max()) or 1.0
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        pad = 0.05 * (high - low or 1.0)
        ax.imshow(scores[None, :], aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit, alpha=0.6,
                  extent=(-0.5, length - 0.5, low - pad, high + pad), interpolation="nearest")  # fmt: skip
    for channel, line in enumerate(values):
        colour = "black" if len(values) == 1 else f"C{channel % 10}"
        plot_series_line(ax, line, colour, 1.0, 1.0, f"channel {channel + 1}")
    if len(values) > 1 and scores is None:
        ax.legend(fontsize=7, ncol=min(len(values), 6), loc="best", frameon=False)
    ax.set_xlim(-0.5, length - 0.5)
    ax.set_xlabel("step")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return Image.open(buffer).convert("RGB")


# --- Small multiples: every model of a run in one figure (the report, its slides and notebook) -------------
# Sized in inches as they are printed (a page's text width is about 6.7 in), so that 8 pt on the figure
# reads as 8 pt on paper.
PRINT_WIDTH = 6.7
SMALL = 9


def plot_confusion_matrices(matrices: dict[str, list[list[int]]], label_names: list[str], path: Path) -> None:
    """Every model's test confusion matrix side by side, rows normalised to shares of the true class, on one
    colour scale (0-100 %); cells carry their share in percent where there is room (up to 6 classes)."""
    count = len(matrices)
    columns = min(count, 4)
    rows = math.ceil(count / columns)
    side = min(PRINT_WIDTH / columns, 2.6)  # one or two models: matrices of a readable size, not a page each
    fig, axes = plt.subplots(rows, columns, figsize=(side * columns, side * rows + 0.3), squeeze=False)
    annotate = len(label_names) <= 6
    size = SMALL - 2 if len(label_names) <= 4 else SMALL - 3  # "100" fits its cell
    short = [name if len(name) <= 8 else name[:7] + "." for name in label_names]
    ticks = np.arange(len(label_names))
    image = None
    for index, ax in enumerate(axes.flat):
        if index >= count:
            ax.set_axis_off()
            continue
        name, matrix = list(matrices.items())[index]
        counts = np.asarray(matrix)
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        if annotate:
            for i in range(len(label_names)):
                for j in range(len(label_names)):
                    color = "white" if shares[i, j] > 0.5 else "black"
                    ax.text(j, i, f"{100 * shares[i, j]:.0f}", ha="center", va="center", fontsize=size, color=color)
        ax.set_xticks(ticks, short, rotation=45, ha="right", fontsize=SMALL - 1)
        ax.set_yticks(ticks, short if index % columns == 0 else [], fontsize=SMALL - 1)
        ax.set_title(name, fontsize=SMALL + 1)
        ax.set_xlabel("predicted", fontsize=SMALL)
        if index % columns == 0:
            ax.set_ylabel("true", fontsize=SMALL)
    fig.tight_layout()
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, pad=0.02, format=lambda x, _: f"{x:.0%}")
        bar.ax.tick_params(labelsize=SMALL - 1)
    fig.savefig(path, dpi=200, bbox_inches="tight")
    plt.close(fig)


def plot_validation_curves(histories: dict[str, list[dict[str, Any]]], primary_metric: str, path: Path) -> None:
    """Every model's validation primary metric per epoch (left) and its train (dashed) and validation (solid)
    loss (right), overlaid: the learning curves and the overfitting of a whole run in one figure."""
    fig, (score, loss) = plt.subplots(1, 2, figsize=(PRINT_WIDTH, 2.1))
    for index, (name, history) in enumerate(histories.items()):
        color = f"C{index % 10}"
        for ax, key, style, label in (
            (score, f"validation_{primary_metric}", "o-", name),
            (loss, "validation_loss", "o-", name),
            (loss, "train_loss", "--", None),
        ):
            points = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), style, color=color, label=label, markersize=3, linewidth=1.2)
    score.set_ylabel(f"validation {primary_metric}", fontsize=SMALL)
    loss.set_ylabel("loss", fontsize=SMALL)
    for ax in (score, loss):
        ax.set_xlabel("epoch", fontsize=SMALL)
        ax.tick_params(labelsize=SMALL - 1)
        ax.grid(alpha=0.3)
    score.legend(fontsize=SMALL - 1, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=200)
    plt.close(fig)


def plot_dataset_overview(
    balance: dict[str, dict[str, dict[str, Any]]], examples: Path | dict[str, str] | None, path: Path
) -> None:
    """The class balance of every split (left) beside examples (right): the run's ``examples.png`` for images,
    or one text per class, shortened."""
    fig = plt.figure(figsize=(PRINT_WIDTH, 2.0))
    bars = fig.add_axes((0.15, 0.2, 0.29, 0.68))
    names = list(next(iter(balance.values())))
    y = np.arange(len(names))
    height = 0.8 / len(balance)
    for i, (split, classes) in enumerate(balance.items()):
        bars.barh(y + i * height - 0.4 + height / 2, [classes[n]["count"] for n in names], height, label=split)
    bars.set_yticks(y, [n if len(n) <= 14 else n[:13] + "." for n in names], fontsize=SMALL - 1)
    bars.invert_yaxis()
    bars.set_xlabel("examples per class", fontsize=SMALL)
    bars.tick_params(axis="x", labelsize=SMALL - 1)
    # Above the bars, not over them: with ten classes there is no free corner.
    bars.legend(fontsize=SMALL - 1, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(balance))
    right = fig.add_axes((0.48, 0.02, 0.51, 0.85))
    right.set_axis_off()
    if isinstance(examples, Path) and examples.is_file():
        right.imshow(plt.imread(examples), interpolation="antialiased")
        right.set_title("examples per class", fontsize=SMALL + 1)
    elif isinstance(examples, dict):
        right.set_title("an example per class", fontsize=SMALL + 1)
        lines = []
        for label, text in list(examples.items())[:8]:
            text = " ".join(text.split())
            lines.append(f"{label}: " + (text[:70] + "..." if len(text) > 70 else text))
        right.text(0, 1, "\n\n".join(_wrap(line, 72) for line in lines), va="top", fontsize=SMALL - 2.5, wrap=True,
                   transform=right.transAxes)  # fmt: skip
    fig.savefig(path, dpi=200)
    plt.close(fig)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)[:2])


# --- Curves and calibration: the run's models in one figure (roc_curves.png, pr_curves.png, calibration.png),
# and one model's own three panels (<model>/curves.png). They read the points ``metrics.curves`` and
# ``metrics.calibration`` stored in each model's metrics.json, so a resumed run draws finished models too.
CURVE_KINDS = {
    # kind: (x key, y key, x label, y label, the score in the legend, its short name)
    "roc": ("fpr", "tpr", "false positive rate", "true positive rate", "auc", "AUC"),
    "pr": ("recall", "precision", "recall", "precision", "average_precision", "AP"),
}


def _curve_panel(ax: plt.Axes, kind: str, curves: dict[str, dict[str, Any]], title: str, names: bool = True) -> None:
    """One panel of ROC or PR curves; ``names``: a legend of model names and scores, else (small multiples,
    whose shared legend is the first panel's) only each model's score, in its colour, in a corner."""
    x, y, xlabel, ylabel, score, short = CURVE_KINDS[kind]
    for index, (name, curve) in enumerate(curves.items()):
        value = curve.get(score)
        label = f"{name} ({short} {value:.3f})" if value is not None else name
        # Precision-recall points are stored by increasing recall: precision holds up to each point.
        style = "steps-pre" if kind == "pr" else "default"
        ax.plot(curve[x], curve[y], color=f"C{index % 10}", linewidth=1.3, label=label, drawstyle=style)
        if not names and value is not None:
            _corner_score(ax, index, len(curves), f"{short} {value:.3f}")
    if kind == "roc":
        ax.plot([0, 1], [0, 1], ":", color="grey", linewidth=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel, fontsize=SMALL)
    ax.set_ylabel(ylabel, fontsize=SMALL)
    ax.set_title(title, fontsize=SMALL + 1)
    ax.tick_params(labelsize=SMALL - 1)
    ax.grid(alpha=0.3)
    if names:
        ax.legend(fontsize=SMALL - 2, frameon=False, loc="lower right" if kind == "roc" else "lower left")


def plot_curves(kind: str, models: dict[str, dict[str, Any]], path: Path) -> None:
    """``kind`` "roc" or "pr" of every model (``models``: name -> its ``test["curves"]``): the positive class of a
    binary task in one panel, or the macro average and then one panel per class (small multiples)."""
    first = next(iter(models.values()))
    summary = {name: c[kind]["summary"] for name, c in models.items()}
    what = "ROC" if kind == "roc" else "Precision-recall"
    if first.get("positive_class") is not None:
        panels = [(f"{what} (positive class: {first['positive_class']})", summary)]
    else:
        panels = [("macro average", summary)]
        for label in first[kind]["per_class"]:
            per_class = {n: c[kind]["per_class"][label] for n, c in models.items() if label in c[kind]["per_class"]}
            panels.append((f"class {label}", per_class))
    if len(panels) == 1:
        fig, ax = plt.subplots(figsize=(3.8, 3.6))
        _curve_panel(ax, kind, summary, panels[0][0])
        _save(fig, path)
        return
    # Small multiples: the shared legend (model names, macro scores) under the grid.
    columns = min(len(panels), 4)
    rows = math.ceil(len(panels) / columns)
    side = PRINT_WIDTH / columns * 1.15
    fig, axes = plt.subplots(rows, columns, figsize=(side * columns, side * rows + 0.5), squeeze=False)
    for index, (ax, (title, curves)) in enumerate(zip(axes.flat, panels, strict=False)):
        _curve_panel(ax, kind, curves, title, names=False)
        if index % columns:
            ax.set_ylabel("")
        if index < len(panels) - columns:
            ax.set_xlabel("")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_axis_off()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.suptitle(f"{what} curves, one-vs-rest per class (test split); legend: macro averages", fontsize=SMALL + 1)
    fig.tight_layout()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 3),
               fontsize=SMALL - 1, frameon=False)  # fmt: skip
    fig.savefig(path, dpi=200, bbox_inches="tight")
    plt.close(fig)


def _corner_score(ax: plt.Axes, index: int, count: int, text: str) -> None:
    """Model ``index``'s score in its colour, stacked in the panel's lower right corner (small multiples)."""
    ax.text(0.97, 0.04 + 0.09 * (count - 1 - index), text, color=f"C{index % 10}", ha="right", va="bottom",
            fontsize=SMALL - 2, transform=ax.transAxes,
            bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.4})  # fmt: skip


def _reliability_panel(ax: plt.Axes, models: dict[str, dict[str, Any]], names: bool = True) -> None:
    """The reliability diagram of ``models`` (name -> calibration); ``names`` as for ``_curve_panel``."""
    ax.plot([0, 1], [0, 1], ":", color="grey", linewidth=0.8, label="perfect calibration" if names else None)
    for index, (name, calibration) in enumerate(models.items()):
        bins, ece = calibration["bins"], calibration["expected_calibration_error"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color=f"C{index % 10}",
                markersize=3, linewidth=1.2, label=f"{name} (ECE {ece:.3f})" if names else name)  # fmt: skip
        if not names:
            _corner_score(ax, index, len(models), f"ECE {ece:.3f}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence of the predicted class (bin mean)" if names else "confidence (bin mean)",
                  fontsize=SMALL)  # fmt: skip
    ax.set_ylabel("accuracy in the bin" if names else "accuracy", fontsize=SMALL)
    ax.set_title("Reliability (equal-mass bins, test)" if names else "Reliability diagram", fontsize=SMALL + 1)
    ax.tick_params(labelsize=SMALL - 1)
    ax.grid(alpha=0.3)
    if names:
        ax.legend(fontsize=SMALL - 2, frameon=False, loc="upper left")


def plot_calibration(models: dict[str, dict[str, Any]], path: Path) -> None:
    """The reliability diagram of every model (``models``: name -> its ``test["calibration"]``), ECE in the legend."""
    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    _reliability_panel(ax, models)
    _save(fig, path)


def plot_model_curves(name: str, curves: dict[str, Any], calibration: dict[str, Any], path: Path) -> None:
    """One model's ROC, precision-recall (summary curves) and reliability diagram side by side (its card)."""
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, kind in zip(axes, ("roc", "pr"), strict=False):
        what = "ROC" if kind == "roc" else "Precision-recall"
        scope = f"positive class {curves['positive_class']}" if curves.get("positive_class") else "macro average"
        _curve_panel(ax, kind, {name: curves[kind]["summary"]}, f"{what} ({scope})")
    _reliability_panel(axes[2], {name: calibration})
    _save(fig, path)


def plot_top_losses(items: list[tuple[Any, Any, str]], title: str, path: Path, width: float | None = None) -> None:
    """A grid of the most confident mistakes, each with its caption: an image (as the model saw it) with its
    explanation overlay below it, six a row; or, where there is no overlay (a series' saliency plot, wide), the
    picture alone, three a row (one at a given ``width``). ``items``: (picture, overlay or None, caption), PIL
    images; ``width`` in inches."""
    alone = all(overlay is None for _, overlay, _ in items)
    columns = min(len(items), (1 if width else 3) if alone else 6)
    groups = math.ceil(len(items) / columns)
    cell = (width or (2.6 if alone else 1.75) * columns) / columns
    per_item = 1 if alone else 2
    height = cell * max(image.height / image.width for image, _, _ in items) if alone else cell
    size = (cell * columns, (per_item * height + 0.5) * groups + 0.4)
    fig, axes = plt.subplots(per_item * groups, columns, figsize=size, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for index, (image, overlay, caption) in enumerate(items):
        top = axes[per_item * (index // columns), index % columns]
        small = max(image.size) < 64
        top.imshow(image, interpolation="nearest" if small else "antialiased")
        top.set_title(caption, fontsize=7 if cell >= 1.5 else 6)
        if overlay is not None:
            axes[2 * (index // columns) + 1, index % columns].imshow(overlay)
    # Wrapped to the grid's width: a model with few mistakes has a narrow grid.
    fig.suptitle(
        "\n".join(textwrap.wrap(title, max(30, int(11 * cell * columns)))), fontsize=SMALL + 1 if cell >= 1.5 else SMALL
    )
    fig.tight_layout(h_pad=0.6)
    fig.savefig(path, dpi=200 if width else 120)
    plt.close(fig)


def plot_curves_and_calibration(models: dict[str, dict[str, Any]], path: Path) -> None:
    """Every model's ROC and precision-recall curve (the positive class, or the macro average) and reliability
    diagram, side by side at the printed width (``models``: name -> its ``test`` metrics), one legend of model
    names under them and each panel's scores (AUC, AP, ECE) in the models' colours: the report's figure."""
    fig, axes = plt.subplots(1, 3, figsize=(PRINT_WIDTH, 2.45))
    first = next(iter(models.values()))["curves"]
    scope = f"positive class {first['positive_class']}" if first.get("positive_class") else "macro average"
    for ax, kind, what in zip(axes, ("roc", "pr"), ("ROC", "Precision-recall"), strict=False):
        curves = {n: t["curves"][kind]["summary"] for n, t in models.items()}
        _curve_panel(ax, kind, curves, f"{what} ({scope})", names=False)
    reliability = axes[2]
    _reliability_panel(reliability, {n: t["calibration"] for n, t in models.items()}, names=False)
    for ax in axes:
        ax.title.set_fontsize(SMALL)
    handles, labels = reliability.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=SMALL - 1, frameon=False)
    fig.savefig(path, dpi=200)
    plt.close(fig)


def stack_pictures(paths: list[Path], path: Path, side_by_side: bool = False) -> None:
    """PNG files one above the other (or side by side), on white, as one picture (the report's top losses)."""
    from PIL import Image

    pictures = [Image.open(p).convert("RGB") for p in paths]
    if side_by_side:
        canvas = Image.new("RGB", (sum(p.width for p in pictures), max(p.height for p in pictures)), "white")
        left = 0
        for picture in pictures:
            canvas.paste(picture, (left, 0))
            left += picture.width
    else:
        width = max(p.width for p in pictures)
        canvas = Image.new("RGB", (width, sum(p.height for p in pictures)), "white")
        top = 0
        for picture in pictures:
            canvas.paste(picture, ((width - picture.width) // 2, top))
            top += picture.height
    dpi = pictures[0].info.get("dpi", (120, 120))
    canvas.save(path, dpi=tuple(round(float(d)) for d in dpi))
