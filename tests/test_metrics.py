import numpy as np
import pytest

from training.core.metrics import classification_metrics, roc_auc, trainer_compute_metrics


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
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc", "f1_positive"
    }  # fmt: skip
    assert metrics["accuracy"] == pytest.approx(2 / 3)
