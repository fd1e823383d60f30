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
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

# Scalar metrics, in the order tables show them. f1_positive exists for binary tasks only.
SCALAR_METRICS = ["accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc"]
PRIMARY_METRIC_CHOICES = [*SCALAR_METRICS, "f1_positive"]


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


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The scalar part of ``classification_metrics``' result."""
    return {k: metrics[k] for k in PRIMARY_METRIC_CHOICES if k in metrics}


def trainer_compute_metrics(label_names: list[str]) -> Callable[[Any], dict[str, float]]:
    """``compute_metrics`` for ``transformers.Trainer``: the same metrics, scalars only (Trainer logs them)."""

    def compute(eval_prediction: Any) -> dict[str, float]:
        logits = eval_prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        metrics = classification_metrics(eval_prediction.label_ids, softmax(logits, axis=1), label_names)
        # Trainer cannot log None; an undefined ROC-AUC is left out of the epoch's log instead.
        return {k: v for k, v in scalar_metrics(metrics).items() if v is not None}

    return compute
