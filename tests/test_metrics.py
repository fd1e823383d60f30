import numpy as np
import pytest

from training.core.analysis import top_loss_indices
from training.core.metrics import (
    CURVE_POINTS,
    calibration,
    classification_metrics,
    curves,
    roc_auc,
    trainer_compute_metrics,
)


def one_hot_probs(predictions: list[int], num_classes: int) -> np.ndarray:
    probs = np.full((len(predictions), num_classes), 0.1 / (num_classes - 1))
    probs[np.arange(len(predictions)), predictions] = 0.9
    return probs


def test_multiclass_metrics_match_hand_computed_values_with_a_never_predicted_class():
    # true: a a a b b c ; predicted: a a b b b a  -> class c is never predicted.
    y_true = np.array([0, 0, 0, 1, 1, 2])
    metrics = classification_metrics(y_true, one_hot_probs([0, 0, 1, 1, 1, 0], 3), ["a", "b", "c"])
    # a: tp 2, fp 1, fn 1 -> p 2/3 r 2/3 f 2/3 ; b: tp 2, fp 1, fn 0 -> p 2/3 r 1 f 0.8 ; c: p 0 r 0 f 0
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["precision_macro"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert metrics["recall_macro"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert metrics["f1_macro"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    assert metrics["f1_weighted"] == pytest.approx((3 * 2 / 3 + 2 * 0.8 + 0) / 6)
    assert metrics["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics["per_class"]["b"]["support"] == 2
    assert metrics["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert "f1_positive" not in metrics
    assert metrics["num_examples"] == 6


def test_binary_metrics_include_positive_class_f1_and_auc():
    y_true = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])  # predictions 0 1 1 0
    metrics = classification_metrics(y_true, probs, ["neg", "pos"])
    assert metrics["f1_positive"] == pytest.approx(0.5)  # tp 1, fp 1, fn 1
    # Positive scores: negatives 0.1, 0.6 ; positives 0.7, 0.2 -> pairs won: (0.7>0.1, 0.7>0.6, 0.2>0.1) = 3/4
    assert metrics["roc_auc"] == pytest.approx(0.75)


def test_multiclass_auc_is_macro_one_vs_rest_over_present_classes():
    y_true = np.array([0, 0, 1, 1])  # class 2 absent from this split
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    # class 0 vs rest: scores pos .8 .6 neg .2 .5 -> 1.0 ; class 1 vs rest: pos .7 .4 neg .1 .3 -> 1.0
    assert roc_auc(y_true, probs) == pytest.approx(1.0)
    assert roc_auc(np.array([1, 1]), probs[:2]) is None


def test_trainer_compute_metrics_returns_scalars_only():
    class Prediction:
        predictions = np.log(one_hot_probs([0, 1, 1], 2))
        label_ids = np.array([0, 1, 0])

    metrics = trainer_compute_metrics(["a", "b"])(Prediction())
    assert set(metrics) == {
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc", "f1_positive",
        "average_precision", "expected_calibration_error",
    }  # fmt: skip
    assert metrics["accuracy"] == pytest.approx(2 / 3)


def test_curves_and_average_precision_match_hand_computed_values():
    # sklearn's documented example: scores 0.1 0.4 0.35 0.8 for labels 0 0 1 1.
    y_true = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    probs = np.stack([1 - scores, scores], axis=1)
    found = curves(y_true, probs, ["neg", "pos"])
    roc, pr = found["roc"]["summary"], found["pr"]["summary"]
    assert found["positive_class"] == "pos"
    assert roc["fpr"] == [0.0, 0.0, 0.5, 0.5, 1.0] and roc["tpr"] == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert roc["auc"] == pytest.approx(0.75)
    # Ranked 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg): AP = 0.5 * 1 + 0.5 * 2/3.
    assert pr["average_precision"] == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert classification_metrics(y_true, probs, ["neg", "pos"])["average_precision"] == pytest.approx(5 / 6)
    assert pr["recall"][0] == 0.0 and pr["recall"][-1] == 1.0  # stored by increasing recall


def test_multiclass_curves_are_per_class_and_macro_averaged_at_bounded_resolution():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 2000)
    logits = rng.normal(size=(2000, 3)) + 2 * np.eye(3)[y_true]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    found = curves(y_true, probs, ["a", "b", "c"])
    assert set(found["roc"]["per_class"]) == {"a", "b", "c"} and found["positive_class"] is None
    for kind in ("roc", "pr"):
        for curve in [found[kind]["summary"], *found[kind]["per_class"].values()]:
            assert all(len(points) <= CURVE_POINTS for points in curve.values() if isinstance(points, list))
    assert found["roc"]["summary"]["auc"] == pytest.approx(roc_auc(y_true, probs))
    per_class_ap = [c["average_precision"] for c in found["pr"]["per_class"].values()]
    assert found["pr"]["summary"]["average_precision"] == pytest.approx(np.mean(per_class_ap))
    # Macro ROC: the mean of the classes' TPR on a common FPR grid, from (0, 0) to (1, 1).
    summary = found["roc"]["summary"]
    assert summary["fpr"][0] == 0.0 and summary["fpr"][-1] == 1.0 and summary["tpr"][-1] == 1.0
    assert curves(np.zeros(5, int), probs[:5], ["a", "b", "c"]) is None  # one class present: undefined


def test_expected_calibration_error_uses_equal_mass_bins():
    # Confidences 0.9 (right), 0.8 (right), 0.6 (wrong), 0.7 (wrong); two equal-mass bins:
    # {0.6, 0.7}: accuracy 0, confidence 0.65 -> 0.65; {0.8, 0.9}: accuracy 1, confidence 0.85 -> 0.15.
    y_true = np.array([0, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    found = calibration(y_true, probs, bins=2)
    assert found["expected_calibration_error"] == pytest.approx(0.5 * 0.65 + 0.5 * 0.15)
    assert [b["count"] for b in found["bins"]] == [2, 2]
    assert found["bins"][0]["confidence"] == pytest.approx(0.65) and found["bins"][0]["accuracy"] == 0.0
    # Calibrated: every prediction made with confidence 0.8, and 8 of the 10 right.
    y_true = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    predicted = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
    probs = np.where(np.eye(2)[predicted] == 1, 0.8, 0.2)
    assert calibration(y_true, probs, bins=1)["expected_calibration_error"] == pytest.approx(0.0)
    # Fewer examples than bins: one example per bin.
    assert len(calibration(y_true[:3], probs[:3], bins=10)["bins"]) == 3


def test_top_losses_are_the_most_confident_mistakes():
    y_true = np.array([0, 1, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.95, 0.05], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4]])
    # Mistakes: 1 (p(true) 0.05), 3 (0.3), 4 (0.4); example 0 and 2 are right.
    assert top_loss_indices(probs, y_true, 2) == [1, 3]
    assert top_loss_indices(probs, y_true, 10) == [1, 3, 4]
