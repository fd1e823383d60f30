"""Classification metrics, computed once, here, with scikit-learn.

scikit-learn rather than ``evaluate.load(...)``: the latter fetches metric scripts from the Hub at
run time, which fails offline, and sklearn's implementations are the reference ones anyway.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

# Scalar metrics, in the order tables show them. f1_positive exists for binary tasks only.
SCALAR_METRICS = [
    "accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc", "average_precision",
]  # fmt: skip
PRIMARY_METRIC_CHOICES = [*SCALAR_METRICS, "f1_positive"]
# Scalars where lower is better: reported and tabulated, never a primary metric.
ERROR_METRICS = ["expected_calibration_error"]
# Curves are stored at this many points at most (metrics.json stays small for any test split).
CURVE_POINTS = 101
# Equal-mass bins of the calibration error and the reliability diagram.
CALIBRATION_BINS = 10


def roc_auc(y_true: np.ndarray, probabilities: np.ndarray) -> float | None:
    """Binary ROC-AUC on the positive class, or macro one-vs-rest over the classes present in ``y_true``.

    Returns None when it is undefined (fewer than two classes present).
    """
    present = np.unique(y_true)
    if len(present) < 2:
        return None
    if probabilities.shape[1] == 2:
        return float(roc_auc_score(y_true, probabilities[:, 1]))
    # One-vs-rest per present class, averaged: sklearn's multi_class="ovr" refuses a class that is
    # absent from y_true, which happens on small validation splits.
    scores = [roc_auc_score(y_true == k, probabilities[:, k]) for k in present]
    return float(np.mean(scores))


def average_precision(y_true: np.ndarray, probabilities: np.ndarray) -> float | None:
    """Area under the precision-recall curve (sklearn's step-wise average precision): of the positive class
    for a binary task, else the macro mean of one-vs-rest over the classes present. None when undefined."""
    present = np.unique(y_true)
    if len(present) < 2:
        return None
    if probabilities.shape[1] == 2:
        return float(average_precision_score(y_true == 1, probabilities[:, 1]))
    return float(np.mean([average_precision_score(y_true == k, probabilities[:, k]) for k in present]))


def calibration(y_true: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Expected calibration error of the top-label confidence, over equal-mass bins, and the bins themselves.

    The examples are sorted by the confidence of their predicted class and cut into ``bins`` groups of equal
    size (``np.array_split``: sizes differ by at most one); ECE = sum over bins of
    (bin size / N) * |accuracy in bin - mean confidence in bin|. Equal-mass rather than equal-width bins:
    confident models put nearly every example above 0.9, which leaves equal-width bins empty or tiny.
    """
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == np.asarray(y_true)).astype(float)
    order = np.argsort(confidence, kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(order))) if len(g)]
    table = [
        {"confidence": float(confidence[g].mean()), "accuracy": float(correct[g].mean()), "count": int(len(g))}
        for g in groups
    ]
    ece = sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in table) / max(len(order), 1)
    return {"expected_calibration_error": float(ece), "bins": table}


def _thin(points: list[np.ndarray], limit: int = CURVE_POINTS) -> list[list[float]]:
    """At most ``limit`` points of a curve, first and last kept, evenly spaced along it, rounded."""
    n = len(points[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int))
    return [[round(float(v), 4) for v in axis[keep]] for axis in points]


def _roc(truth: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    fpr, tpr, _ = roc_curve(truth, score)
    fpr_points, tpr_points = _thin([fpr, tpr])
    return {"fpr": fpr_points, "tpr": tpr_points, "auc": float(roc_auc_score(truth, score))}


def _pr(truth: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    precision, recall, _ = precision_recall_curve(truth, score)
    # sklearn returns recall decreasing; stored increasing, as plotted.
    recall_points, precision_points = _thin([recall[::-1], precision[::-1]])
    return {
        "recall": recall_points, "precision": precision_points,
        "average_precision": float(average_precision_score(truth, score)),
    }  # fmt: skip


def curves(y_true: np.ndarray, probabilities: np.ndarray, label_names: list[str]) -> dict[str, Any] | None:
    """ROC and precision-recall curve points (at most ``CURVE_POINTS`` each). Binary: of the positive class
    (``summary``). Several classes: one-vs-rest per present class (``per_class``), and as ``summary`` their
    macro average: mean TPR over a common FPR grid (sklearn's macro ROC recipe) and mean precision over a
    common recall grid (each class's interpolated precision, the highest at that recall or above).
    None when fewer than two classes are present."""
    y_true = np.asarray(y_true)
    present = [int(k) for k in np.unique(y_true)]
    if len(present) < 2:
        return None
    if len(label_names) == 2:
        positive = label_names[1]
        return {
            "positive_class": positive,
            "roc": {"summary": _roc(y_true == 1, probabilities[:, 1])},
            "pr": {"summary": _pr(y_true == 1, probabilities[:, 1])},
        }
    roc_classes = {label_names[k]: _roc(y_true == k, probabilities[:, k]) for k in present}
    pr_classes = {label_names[k]: _pr(y_true == k, probabilities[:, k]) for k in present}
    grid = np.linspace(0, 1, CURVE_POINTS)
    mean_tpr = np.mean([np.interp(grid, c["fpr"], c["tpr"]) for c in roc_classes.values()], axis=0)
    interpolated = []
    for c in pr_classes.values():
        recall, precision = np.asarray(c["recall"]), np.asarray(c["precision"])
        # Interpolated precision: the best precision at this recall or above (right-to-left running max).
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        interpolated.append([envelope[recall >= r].max() if (recall >= r).any() else 0.0 for r in grid])
    return {
        "positive_class": None,
        "roc": {
            "summary": {"fpr": _thin([grid])[0], "tpr": _thin([mean_tpr])[0], "auc": roc_auc(y_true, probabilities)},
            "per_class": roc_classes,
        },
        "pr": {
            "summary": {
                "recall": _thin([grid])[0],
                "precision": _thin([np.mean(interpolated, axis=0)])[0],
                "average_precision": average_precision(y_true, probabilities),
            },
            "per_class": pr_classes,
        },
    }


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray, label_names: list[str]) -> dict[str, Any]:
    """All metrics of one split: scalars, per-class precision/recall/F1/support and the confusion matrix.

    ``probabilities`` has one row per example and one column per class; the prediction is the argmax.
    Classes that are never predicted count as precision 0 (sklearn's ``zero_division=0``).
    """
    y_true = np.asarray(y_true)
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(label_names)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = [k for k in labels if support[k] > 0]
    result: dict[str, Any] = {
        "num_examples": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        # Macro averages run over the classes present in this split, as sklearn does by default.
        "precision_macro": float(np.mean(precision[present])),
        "recall_macro": float(np.mean(recall[present])),
        "f1_macro": float(np.mean(f1[present])),
        "f1_weighted": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "roc_auc": roc_auc(y_true, probabilities),
        "average_precision": average_precision(y_true, probabilities),
        "expected_calibration_error": calibration(y_true, probabilities)["expected_calibration_error"],
    }
    if len(label_names) == 2:
        result["f1_positive"] = float(f1[1])
    result["per_class"] = {
        name: {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(support[k]),
        }
        for k, name in enumerate(label_names)
    }
    result["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return result


def best_threshold(positive_probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The threshold on the probability of the positive class (index 1, as ``f1_positive``) from which predicting
    it gives the highest F1 of the positive class on ``labels``.

    The candidates are 0.5 and every distinct probability (predicted positive when the probability is at least the
    threshold): every threshold in between predicts the same. On a tie the candidate closest to 0.5 wins, then the
    lower one; with no positive example every F1 is 0, so 0.5.
    """
    scores = np.asarray(positive_probabilities, dtype=np.float64)
    positive = np.asarray(labels) == 1
    candidates = np.unique(np.append(scores, 0.5))
    # Predicted positive at threshold t: the scores >= t, counted on the sorted scores of each class.
    true_positives = positive.sum() - np.searchsorted(np.sort(scores[positive]), candidates, side="left")
    false_positives = (~positive).sum() - np.searchsorted(np.sort(scores[~positive]), candidates, side="left")
    false_negatives = positive.sum() - true_positives
    f1 = 2 * true_positives / np.maximum(2 * true_positives + false_positives + false_negatives, 1)
    best = candidates[f1 == f1.max()]
    return float(best[np.lexsort((best, np.abs(best - 0.5)))[0]])


def thresholded_predictions(probabilities: np.ndarray, threshold: float | None, positive_index: int = 1) -> np.ndarray:
    """Predicted class indices of ``probabilities`` (one row per example, one column per class): the argmax when
    ``threshold`` is None, else (two classes only) ``positive_index`` wherever its probability is at least
    ``threshold`` and the other class elsewhere. The threshold is a model's ``config.decision_threshold``."""
    probabilities = np.asarray(probabilities)
    if threshold is None:
        return probabilities.argmax(axis=1)
    if probabilities.shape[1] != 2:
        raise ValueError(f"a decision threshold needs two classes; these probabilities have {probabilities.shape[1]}")
    return np.where(probabilities[:, positive_index] >= threshold, positive_index, 1 - positive_index)


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The scalar part of ``classification_metrics``' result."""
    return {k: metrics[k] for k in [*PRIMARY_METRIC_CHOICES, *ERROR_METRICS] if k in metrics}


def trainer_compute_metrics(label_names: list[str]) -> Callable[[Any], dict[str, float]]:
    """``compute_metrics`` for ``transformers.Trainer``: the same metrics, scalars only (Trainer logs them)."""

    def compute(eval_prediction: Any) -> dict[str, float]:
        logits = eval_prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        metrics = classification_metrics(eval_prediction.label_ids, softmax(logits, axis=1), label_names)
        # Trainer cannot log None; an undefined ROC-AUC is left out of the epoch's log instead.
        return {k: v for k, v in scalar_metrics(metrics).items() if v is not None}

    return compute
