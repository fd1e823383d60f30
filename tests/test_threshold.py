"""The decision threshold of a binary task ranked by F1 of the positive class: chosen on validation, recorded in
metrics.json and config.json, told by the card and the report, and followed by the Space."""

import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from tests.conftest import ROOT, sentiment_csv_args
from training.core.experiment import decision_threshold
from training.core.metrics import best_threshold, classification_metrics, thresholded_predictions
from training.reporting import insights
from training.reporting.model_card import threshold_text

sys.path.insert(0, str(ROOT / "space"))

import catalog  # noqa: E402


def f1_at(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    return float(f1_score(labels == 1, probabilities >= threshold, zero_division=0))


def f1_on_grid(probabilities: np.ndarray, labels: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """F1 of the positive class at each threshold of ``grid`` (predicted positive from the threshold up)."""
    predicted = probabilities[None, :] >= grid[:, None]
    true_positives = (predicted & (labels == 1)).sum(axis=1)
    return 2 * true_positives / np.maximum(predicted.sum(axis=1) + (labels == 1).sum(), 1)


def test_the_threshold_of_best_positive_f1_is_found():
    # At 0.5 two of five positives are found, with one false alarm (F1 0.5); from 0.3 all five, still one false
    # alarm (F1 10/11); from 0.2 a second false alarm.
    probabilities = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 1, 1, 1, 0, 1, 1])
    assert best_threshold(probabilities, labels) == pytest.approx(0.3)
    assert f1_at(probabilities, labels, 0.3) == pytest.approx(10 / 11)


def test_ties_go_to_the_threshold_closest_to_one_half():
    separable = np.array([0.1, 0.2, 0.7, 0.8])
    assert best_threshold(separable, np.array([0, 0, 1, 1])) == 0.5  # anything in (0.2, 0.7] is perfect
    assert best_threshold(np.array([0.1, 0.6, 0.8, 0.9]), np.array([0, 0, 1, 1])) == pytest.approx(0.8)
    assert best_threshold(separable, np.zeros(4, dtype=int)) == 0.5  # no positive example: nothing to gain


def test_no_threshold_on_a_fine_grid_beats_the_one_chosen():
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels = rng.integers(0, 2, 60)
        probabilities = np.clip(0.3 * labels + rng.normal(0.35, 0.2, 60), 0, 1).astype(np.float32)
        chosen = best_threshold(probabilities, labels)
        best_on_grid = f1_on_grid(probabilities, labels, np.linspace(0, 1, 10001)).max()
        assert f1_at(probabilities, labels, chosen) >= best_on_grid - 1e-12
        assert best_threshold(probabilities, labels) == chosen  # deterministic


def test_thresholded_predictions():
    probabilities = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    assert thresholded_predictions(probabilities, None).tolist() == [0, 0, 1]  # the argmax
    assert thresholded_predictions(probabilities, 0.4).tolist() == [0, 1, 1]  # P(class 1) >= 0.4
    assert thresholded_predictions(probabilities, 0.7, positive_index=0).tolist() == [0, 1, 1]
    assert thresholded_predictions(np.eye(3), None).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="two classes"):
        thresholded_predictions(np.eye(3), 0.5)


def test_the_record_compares_argmax_and_threshold_on_validation_and_test():
    labels = np.array([0, 0, 1, 1, 1, 0, 1, 1])
    positive = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    probabilities = np.stack([1 - positive, positive], axis=1)
    predictions = {"validation": (probabilities, labels), "test": (probabilities[::-1], labels[::-1])}
    names = ["calm", "disaster"]
    scores = {split: classification_metrics(y, p, names) for split, (p, y) in predictions.items()}
    record = decision_threshold(predictions, scores, names, "f1_positive")
    assert record == {
        "threshold": pytest.approx(0.3), "positive_class": "disaster", "chosen_on": "validation",
        "metric": "f1_positive",
        "validation": {"at_argmax": pytest.approx(0.5), "at_threshold": pytest.approx(10 / 11)},
        "test": {"at_argmax": pytest.approx(0.5), "at_threshold": pytest.approx(10 / 11)},
    }  # fmt: skip
    assert decision_threshold(predictions, scores, names, "f1_macro") is None
    three = {s: (np.eye(3)[y], y) for s, y in (("validation", labels), ("test", labels))}
    assert decision_threshold(three, scores, ["a", "b", "c"], "f1_positive") is None


RECORD = {
    "threshold": 0.372, "positive_class": "disaster", "chosen_on": "validation", "metric": "f1_positive",
    "validation": {"at_argmax": 0.78, "at_threshold": 0.80}, "test": {"at_argmax": 0.77, "at_threshold": 0.79},
}  # fmt: skip
SENTENCE = (
    "glove-lstm predicts the positive class (disaster) from probability 0.372 instead of 0.5 (chosen on validation): "
    "F1 0.780 -> 0.800 on validation, 0.770 -> 0.790 on test."
)


def test_the_card_and_the_report_say_what_the_threshold_gained():
    model = {"name": "glove-lstm", "decision_threshold": RECORD}
    assert insights.decision_threshold(model) == SENTENCE
    assert insights.thresholds({"models": [model, {"name": "cnn"}]}) == [SENTENCE]
    assert threshold_text(model).startswith(f"Decision threshold: {SENTENCE}")
    assert "`decision_threshold`" in threshold_text(model)
    assert threshold_text({"name": "cnn"}) == "" and insights.decision_threshold({"name": "cnn"}) is None


def fake_pipeline(scores: dict[str, float], config):
    """A pipeline(...) stand-in whose model has ``config``."""

    def classify(value, top_k=None, **kwargs):
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:top_k]
        return [{"label": label, "score": score} for label, score in ranked]

    classify.model = SimpleNamespace(config=config)
    return classify


def test_the_space_shows_the_class_the_threshold_predicts():
    names = {0: "calm", 1: "disaster"}
    answer = [{"label": "calm", "score": 0.6}, {"label": "disaster", "score": 0.4}]
    config = SimpleNamespace(decision_threshold=0.372, id2label=names)
    assert [s["label"] for s in catalog.follow_threshold(answer, config)] == ["disaster", "calm"]
    assert catalog.follow_threshold(answer, SimpleNamespace(decision_threshold=0.45, id2label=names)) == answer
    assert catalog.follow_threshold(answer, SimpleNamespace(id2label=names)) == answer  # no threshold: as it is
    assert catalog.follow_threshold(answer, None) == answer
    models = [
        catalog.ModelEntry("tuned", "tuned", classifier=fake_pipeline({"calm": 0.6, "disaster": 0.4}, config)),
        catalog.ModelEntry("plain", "plain", classifier=fake_pipeline({"calm": 0.6, "disaster": 0.4}, None)),
    ]
    prediction = catalog._run(models, "a fire downtown", "")
    assert list(prediction.labels["tuned"]) == ["disaster", "calm"]
    assert prediction.labels["tuned"] == {"disaster": 0.4, "calm": 0.6}  # the probabilities themselves unchanged
    assert prediction.agreement == "The models disagree: **disaster** (tuned); **calm** (plain)."


def test_a_run_ranked_by_positive_f1_ships_its_threshold(tmp_path, monkeypatch):
    from training.train_text import main

    out = tmp_path / "run"
    argv = [
        *sentiment_csv_args(tmp_path / "reviews.csv"), "--primary_metric", "f1_positive",
        "--models", "scratch-simple,scratch-complex,ensemble", "--num_train_epochs", "1", "--max_seq_length", "16",
        "--vocab_size", "200", "--latency_samples", "2", "--output_dir", str(out),
    ]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["train_text.py", *argv])
    main()
    results = json.loads((out / "results.json").read_text())
    for name in ("scratch-simple", "scratch-complex", "ensemble"):
        metrics = json.loads((out / name / "metrics.json").read_text())
        record = metrics["decision_threshold"]
        assert set(record) == {"threshold", "positive_class", "chosen_on", "metric", "validation", "test"}
        assert record["positive_class"] == results["label_names"][1]
        for split in ("validation", "test"):
            assert record[split]["at_argmax"] == metrics[split]["f1_positive"]  # the argmax scores stay as they were
        assert record["validation"]["at_threshold"] >= record["validation"]["at_argmax"]
        config = json.loads((out / name / "config.json").read_text())
        assert config["decision_threshold"] == record["threshold"]
        assert "Decision threshold: " in (out / name / "README.md").read_text()
    assert len(insights.thresholds(results)) == 3

    # The Space, on the real checkpoints: each model's first class is the one its threshold predicts.
    (section,) = catalog.load_sections({"text": [str(out)], "image": []})
    prediction = catalog.predict_text(section, "a great film number 3")
    for entry in section.available:
        threshold = entry.classifier.model.config.decision_threshold
        scores = prediction.labels[entry.name]
        positive = results["label_names"][1]
        assert next(iter(scores)) == (positive if scores[positive] >= threshold else results["label_names"][0])


def test_other_primary_metrics_get_no_threshold(tmp_path, monkeypatch):
    from training.train_text import main

    out = tmp_path / "run"
    argv = [
        *sentiment_csv_args(tmp_path / "reviews.csv"), "--primary_metric", "accuracy", "--models", "scratch-simple",
        "--num_train_epochs", "1", "--max_seq_length", "16", "--vocab_size", "200", "--latency_samples", "2",
        "--output_dir", str(out),
    ]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["train_text.py", *argv])
    main()
    assert "decision_threshold" not in json.loads((out / "scratch-simple" / "metrics.json").read_text())
    assert "decision_threshold" not in json.loads((out / "scratch-simple" / "config.json").read_text())
