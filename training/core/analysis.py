"""Error analysis of one trained model: its top losses (the test examples it gets most confidently wrong), each
explained (``core.explain``), written as ``<model>/top_losses.png`` (images, time series) or
``<model>/top_losses.md`` (text)
and listed in ``metrics.json``; and its ROC, precision-recall and reliability figure (``<model>/curves.png``)."""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.core.explain import (
    explain,
    heatmap_overlay,
    is_series,
    is_text,
    load_image,
    model_view,
    saliency_plot,
    top_words,
    words,
)
from training.core.plots import PRINT_WIDTH, plot_calibration, plot_curves, plot_model_curves, plot_top_losses

logger = logging.getLogger(__name__)

TOP_LOSSES_IMAGE = "top_losses.png"
TOP_LOSSES_STRIP = "top_losses_strip.png"  # the first three at half a page's width: the report's figure
TOP_LOSSES_TEXT = "top_losses.md"
MODEL_CURVES = "curves.png"
RUN_FIGURES = {"roc": "roc_curves.png", "pr": "pr_curves.png", "calibration": "calibration.png"}
# Words whose attribution reaches this share of the strongest one are highlighted in top_losses.md.
HIGHLIGHT = 0.3


def top_loss_indices(probabilities: np.ndarray, labels: np.ndarray, k: int) -> list[int]:
    """The misclassified examples with the highest cross-entropy loss (-log p(true class)), at most ``k``,
    worst first (ties by index): the mistakes made with the most confidence in a wrong class."""
    labels = np.asarray(labels)
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    loss = -np.log(np.clip(probabilities[wrong, labels[wrong]], 1e-12, None))
    order = np.lexsort((wrong, -loss))
    return [int(i) for i in wrong[order][:k]]


def analyse_errors(
    model: Any, processor: Any, probabilities: np.ndarray, labels: np.ndarray, label_names: list[str],
    example: Callable[[int], Any], display: list[str], k: int, model_dir: Path,
) -> list[dict[str, Any]]:  # fmt: skip
    """Explain the model's ``k`` top losses on the test split (``example(i)``: the raw test input i) towards
    the class it wrongly predicted, write them to ``model_dir`` and return their entries for ``metrics.json``."""
    indices = top_loss_indices(probabilities, labels, k)
    if not indices:
        return []
    model = model.eval()
    entries, explained = [], []
    with torch.enable_grad():
        for i in indices:
            raw = example(i)
            predicted = int(probabilities[i].argmax())
            explanation = explain(model, processor, raw, target=predicted)
            entry = {
                "index": i,
                "input": display[i],
                "true": label_names[int(labels[i])],
                "predicted": label_names[predicted],
                "confidence": round(float(probabilities[i, predicted]), 4),
                "loss": round(float(-np.log(max(probabilities[i, int(labels[i])], 1e-12))), 4),
            }
            if is_text(processor):
                entry["words"] = len(raw.split())
                entry["top_words"] = top_words(explanation, raw)
            elif is_series(processor):
                entry["length"] = len(explanation.scores)
            else:
                image = load_image(raw)
                entry["width"], entry["height"] = image.size
            entries.append(entry)
            explained.append((raw, explanation))
    if is_text(processor):
        (model_dir / TOP_LOSSES_TEXT).write_text(_markdown(entries, explained, model_dir.name), encoding="utf-8")
    else:  # images: the image as the model saw it over its heatmap; series: the saliency curve under the series
        series = is_series(processor)
        items = [
            (
                saliency_plot(e) if series else model_view(e),
                None if series else heatmap_overlay(e, size=160),
                f"true {x['true']}\npred {x['predicted']} ({x['confidence']:.2f})",
            )
            for x, (_, e) in zip(entries, explained, strict=True)
        ]
        title = (
            f"{model_dir.name}: the {len(items)} most confident mistakes on the test split; {explained[0][1].method}"
        )
        plot_top_losses(items, title, model_dir / TOP_LOSSES_IMAGE)
        shown = items[: 2 if series else 3]  # a saliency plot is wide: two, one above the other, at half a page
        strip = f"{model_dir.name}: its {len(shown)} most confident mistakes"
        plot_top_losses(shown, strip, model_dir / TOP_LOSSES_STRIP, width=PRINT_WIDTH / 2)
    return entries


def _markdown(entries: list[dict[str, Any]], explained: list[tuple[str, Any]], name: str) -> str:
    """The top losses of a text model, each with the words that drove the wrong prediction highlighted."""
    method = explained[0][1].method
    lines = [
        f"# {name}: the {len(entries)} most confident mistakes on the test split",
        "",
        f"Worst first (highest loss). Highlighted: the words that pushed hardest towards the wrong prediction "
        f"(at least {HIGHLIGHT:.0%} of the strongest word's attribution; **bold**: at least 60%), from {method}. "
        "Only the part of each text the model reads is shown (it truncates long texts).",
        "",
    ]
    for rank, (entry, (text, explanation)) in enumerate(zip(entries, explained, strict=True), start=1):
        pieces = words(explanation, text)
        read = "".join(_highlight(piece, score) for piece, score in _read_part(pieces))
        lines += [
            f"## {rank}. true **{entry['true']}**, predicted **{entry['predicted']}** "
            f"(confidence {entry['confidence']:.2f}, loss {entry['loss']:.2f}), test example {entry['index']}",
            "",
            read.strip() + (" …" if len(pieces) and pieces[-1][1] is None and len(pieces[-1][0]) > 3 else ""),
            "",
        ]
    return "\n".join(lines)


def _read_part(pieces: list[tuple[str, float | None]]) -> list[tuple[str, float | None]]:
    """The pieces up to the last token the model read (a truncated tail is left out)."""
    last = max((i for i, (_, s) in enumerate(pieces) if s is not None), default=-1)
    return pieces[: last + 1]


def _highlight(piece: str, score: float | None) -> str:
    text = " ".join(piece.split()) if piece.strip() else (" " if piece else "")
    for char in "\\*_`[]#|<>":  # Markdown's and HTML's own characters in the data, shown as themselves
        text = text.replace(char, "\\" + char)
    if score is None or score < HIGHLIGHT or not text.strip():
        return text
    return f"<mark>**{text}**</mark>" if score >= 0.6 else f"<mark>{text}</mark>"


def plot_curves_of(metrics: dict[str, Any], model_dir: Path) -> None:
    """``curves.png``: the model's test ROC, precision-recall and reliability diagram (when defined)."""
    test = metrics["test"]
    if test.get("curves"):
        plot_model_curves(metrics["name"], test["curves"], test["calibration"], model_dir / MODEL_CURVES)


def plot_run_curves(models: list[dict[str, Any]], output_dir: Path) -> None:
    """The run's ``roc_curves.png``, ``pr_curves.png`` and ``calibration.png``: every model whose metrics hold
    the curves (all but models finished by an older version) in one figure each."""
    measured = [m for m in models if m["test"].get("curves") and m["test"].get("calibration")]
    if not measured:
        return
    for kind in ("roc", "pr"):
        plot_curves(kind, {m["name"]: m["test"]["curves"] for m in measured}, output_dir / RUN_FIGURES[kind])
    plot_calibration({m["name"]: m["test"]["calibration"] for m in measured}, output_dir / RUN_FIGURES["calibration"])
