"""Time series in, class probabilities out: the feature extractor that turns a series into model inputs, and
the ``time-series-classification`` pipeline that transformers lacks (the checkpoints name it in their
config's ``custom_pipelines``, so ``pipeline(model=<folder or repo id>, trust_remote_code=True)`` finds it).

A series is an array of numbers: 1-D (``length``) for one channel, 2-D (``channels x length``) for several
(also ``1 x length``), or the path of a CSV file (a column per channel); ``NaN`` marks a missing value. Each
series is read as training read it: interior gaps filled by linear interpolation, leading and trailing
``NaN`` dropped (unequal lengths), cut to ``max_length``, each channel z-normalised over its own values
(``normalize="per_series"``), padded with zeros to ``max_length`` and masked.

Self-contained on purpose (numpy, torch, transformers): this file ships with the weights.
"""

import csv
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import BatchFeature, FeatureExtractionMixin, Pipeline

TASK = "time-series-classification"
NORMALIZATIONS = ("per_series", "none")
# Shorter series have no shape to classify (the archives' shortest, JapaneseVowels', have 7 steps).
MIN_LENGTH = 3


def fill_gaps(series: np.ndarray) -> tuple[np.ndarray, int]:
    """``series`` (channels x length) without leading/trailing steps where every channel is NaN, interior
    NaN filled by linear interpolation per channel; and how many values were filled."""
    observed = ~np.isnan(series)
    steps = np.flatnonzero(observed.any(axis=0))
    if steps.size == 0:
        raise ValueError("the series has no values (every value is missing)")
    series = series[:, steps[0] : steps[-1] + 1].copy()
    filled = 0
    for channel in series:
        missing = np.isnan(channel)
        if missing.all():
            raise ValueError("a channel of the series has no values (every value is missing)")
        if missing.any():
            positions = np.arange(channel.size)
            channel[missing] = np.interp(positions[missing], positions[~missing], channel[~missing])
            filled += int(missing.sum())
    return series, filled


def read_series_file(path: str) -> np.ndarray:
    """One series from a CSV file: one column per channel (a header row is skipped), one row per time step; an
    empty cell, ``nan`` or a blank line between steps is a missing value."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = [row if any(v.strip() for v in row) else [] for row in csv.reader(handle)]
    while rows and not rows[-1]:
        rows.pop()
    while rows and not rows[0]:
        rows.pop(0)
    if rows and not _numeric(rows[0]):
        rows = rows[1:]
    width = max((len(row) for row in rows), default=0)
    rows = [row or [""] * width for row in rows]  # a blank line: one step, every channel missing
    if not rows or not all(_numeric(row) for row in rows) or any(len(row) != width for row in rows):
        raise ValueError(f"{Path(path).name}: expected numbers only, one column per channel and one row per step")
    return np.array([[float(v) if v.strip() else np.nan for v in row] for row in rows]).T


def _numeric(row: list[str]) -> bool:
    try:
        [float(v) for v in row if v.strip()]
    except ValueError:
        return False
    return True


class TimeSeriesFeatureExtractor(FeatureExtractionMixin):
    """Series -> ``values`` (batch x channels x max_length, float32) and ``attention_mask`` (batch x max_length)."""

    model_input_names = ["values", "attention_mask"]

    def __init__(self, num_channels: int = 1, max_length: int = 512, normalize: str = "per_series", **kwargs: Any):
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
        self.num_channels = num_channels
        self.max_length = max_length
        self.normalize = normalize
        super().__init__(**kwargs)

    def as_series(self, values: Any) -> np.ndarray:
        """One series as a float array of shape (channels, length), checked against the trained channels."""
        if isinstance(values, str):
            values = read_series_file(values)
        array = np.asarray(values, dtype=np.float64)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[0] != self.num_channels:
            raise ValueError(
                f"expected a series of {self.num_channels} channel(s) (channels x length), got shape {array.shape}"
            )
        return array

    def is_batch(self, inputs: Any) -> bool:
        """Several series (a list of them, or of file paths) rather than one, which nests one level (a single
        channel) or two (channels x length)."""
        if isinstance(inputs, str):
            return False
        if isinstance(inputs, list | tuple) and inputs and isinstance(inputs[0], str):
            return True
        depth = _depth(inputs)
        if self.num_channels == 1 and depth == 2 and len(inputs) == 1:
            return False  # one channel written as channels x length
        return depth > (2 if self.num_channels > 1 else 1)

    def encode(self, values: Any) -> tuple[np.ndarray, np.ndarray]:
        """One series -> (values: channels x max_length, mask: max_length)."""
        series, _ = fill_gaps(self.as_series(values))
        series = series[:, : self.max_length]
        if self.normalize == "per_series":
            mean = series.mean(axis=1, keepdims=True)
            std = series.std(axis=1, keepdims=True)
            # A constant channel carries only its level, which z-normalisation removes: it becomes zeros.
            series = (series - mean) / np.where(std > 1e-8, std, 1.0)
        length = series.shape[1]
        padded = np.zeros((self.num_channels, self.max_length), dtype=np.float32)
        padded[:, :length] = series
        mask = np.zeros(self.max_length, dtype=np.int64)
        mask[:length] = 1
        return padded, mask

    def __call__(self, series: Any, return_tensors: str | None = None, **kwargs: Any) -> BatchFeature:
        batch = series if self.is_batch(series) else [series]
        encoded = [self.encode(s) for s in batch]
        data = {"values": np.stack([v for v, _ in encoded]), "attention_mask": np.stack([m for _, m in encoded])}
        return BatchFeature(data=data, tensor_type=return_tensors)


def _depth(value: Any) -> int:
    """How many levels of nesting ``value`` has (an array's dimensions; a list's, through its first item)."""
    if isinstance(value, np.ndarray | torch.Tensor):
        return value.ndim
    depth = 0
    while isinstance(value, list | tuple) and value:
        value, depth = value[0], depth + 1
    return depth + (np.ndim(value) if isinstance(value, np.ndarray) else 0)


class TimeSeriesClassificationPipeline(Pipeline):
    """``pipeline("time-series-classification", model=..., trust_remote_code=True)``: one series (or a CSV
    file's path) gives a list of ``{"label", "score"}``, best first (``top_k``: how many, ``None`` for every
    class; default 5); a list of series gives one such list each."""

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = True
    _load_tokenizer = False

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        if self.feature_extractor.is_batch(inputs):
            return super().__call__(list(inputs), **kwargs)
        return super().__call__([inputs], **kwargs)[0]

    def _sanitize_parameters(self, top_k: int | None = -1, **kwargs: Any):
        classes = self.model.config.num_labels
        top_k = min(5, classes) if top_k == -1 else classes if top_k is None else min(top_k, classes)
        return {}, {}, {"top_k": top_k}

    def preprocess(self, inputs: Any) -> BatchFeature:
        return self.feature_extractor(inputs, return_tensors="pt")

    def _forward(self, model_inputs: BatchFeature) -> dict[str, torch.Tensor]:
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, model_outputs: dict[str, torch.Tensor], top_k: int = 5) -> list[dict[str, Any]]:
        probabilities = model_outputs["logits"][0].float().softmax(-1)
        scores, indices = probabilities.topk(top_k)
        labels = self.model.config.id2label
        return [{"label": labels[int(i)], "score": float(s)} for s, i in zip(scores, indices, strict=True)]
