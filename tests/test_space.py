"""The Space's logic without a browser: configuration, loading (with unavailable models), the input
checks and messages, the explanations' glue, the tables and figures, and the Blocks app with its API
endpoints. Models and explanations are stand-ins here (a callable with the pipeline's signature, a fake
``explain``); the real checkpoints are in test_space_integration.py."""

import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "space"))

import catalog  # noqa: E402


class FakeClassifier:
    """pipeline(...)-like: remembers what it was given, answers with fixed scores."""

    def __init__(self, scores: dict[str, float]):
        self.scores, self.inputs = scores, []
        self.model, self.tokenizer, self.image_processor = self, "tokenizer", "image processor"

    def __call__(self, value, top_k=None, **kwargs):
        self.inputs.append(value)
        ranked = sorted(self.scores.items(), key=lambda item: -item[1])[:top_k]
        return [{"label": label, "score": score} for label, score in ranked]


def fake_metrics(name: str, accuracy: float, train_support: tuple[int, int] = (50, 50)) -> dict:
    split = {"accuracy": accuracy, "precision_macro": accuracy, "recall_macro": accuracy, "f1_macro": accuracy - 0.01,
             "per_class": {"neg": {"support": train_support[0]}, "pos": {"support": train_support[1]}},
             "confusion_matrix": [[8, 2], [1, 9]]}  # fmt: skip
    return {"name": name, "kind": "scratch", "num_parameters": 1000, "train_runtime_s": 2.0,
            "inference_ms_per_sample": 1.5, "train": {**split, "accuracy": 0.99, "f1_macro": 0.99},
            "validation": split, "test": split}  # fmt: skip


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A finished text run's files (no weights: the loader is a stand-in)."""
    run = tmp_path / "run"
    models = [fake_metrics("small", 0.80), fake_metrics("big", 0.90)]
    models[1]["cross_validation"] = {"folds": 3, "metrics": {"accuracy": {"mean": 0.88, "std": 0.02, "values": []}}}
    for metrics in models:
        (run / metrics["name"]).mkdir(parents=True)
        (run / metrics["name"] / "metrics.json").write_text(json.dumps(metrics))
        (run / metrics["name"] / "README.md").write_text("---\nlicense: mit\n---\n# Card of " + metrics["name"])
    from training.core.results import overfitting_note

    results = {
        "task": "text-classification",
        "primary_metric": "accuracy",
        "models": models,
        "primary_metric_reason": "The classes are balanced.",
        "label_names": ["neg", "pos"],
        "num_examples": {"train": 100, "validation": 20, "test": 20},
        "overfitting": {m["name"]: overfitting_note(m, "accuracy") for m in models},
    }
    (run / "results.json").write_text(json.dumps(results))
    description = {"source": "reviews.csv", "num_classes": 2, "num_examples": {"train": 100, "test": 20},
                   "imbalance_ratio": 1.0, "notes": {},
                   "class_balance": {"train": {"neg": {"count": 50, "share": 0.5}, "pos": {"count": 50, "share": 0.5}}},
                   "examples": {"neg": ["a bad film", "a poor meal"], "pos": ["a great film"]}}  # fmt: skip
    (run / "dataset.json").write_text(json.dumps(description))
    return run


def loader_for(classifiers: dict[str, FakeClassifier]):
    def load(task, model, **kwargs):
        name = Path(model).name
        if name not in classifiers:
            raise OSError(f"{model} is not a local folder and is not a valid model identifier")
        return classifiers[name]

    return load


def test_config_paths_are_relative_to_the_file_and_mistakes_are_named(tmp_path, run_dir):
    config = tmp_path / "models.yaml"
    config.write_text("text:\n  - run\n  - alice/news-glove-lstm\nimage: []\n")
    expected = {"text": [str(run_dir.resolve()), "alice/news-glove-lstm"], "image": [], "timeseries": []}
    assert catalog.read_config(config) == expected
    config.write_text("texts:\n  - run\n")
    with pytest.raises(catalog.ConfigError, match="expected the keys text, image, timeseries"):
        catalog.read_config(config)
    with pytest.raises(catalog.ConfigError, match="cannot read"):
        catalog.read_config(tmp_path / "missing.yaml")
    with pytest.raises(catalog.ConfigError, match="has no results.json"):
        catalog.sources_from_runs([tmp_path])
    assert catalog.sources_from_runs([run_dir]) == {"text": [str(run_dir.resolve())], "image": [], "timeseries": []}


def test_models_that_fail_to_load_are_unavailable_with_the_reason(run_dir, tmp_path):
    classifiers = {"small": FakeClassifier({"neg": 0.7, "pos": 0.3}), "big": FakeClassifier({"neg": 0.6, "pos": 0.4})}
    sources = {"text": [str(run_dir), str(tmp_path / "gone"), "alice/no-such-model"], "image": []}
    (section,) = catalog.load_sections(sources, loader=loader_for(classifiers))
    assert [m.name for m in section.models] == ["small", "big", "gone", "no-such-model"]
    assert [m.name for m in section.available] == ["small", "big"]
    gone, missing = section.models[2:]
    assert gone.error.startswith("FileNotFoundError") and "gone does not exist" in gone.error
    assert "not a valid model identifier" in missing.error
    assert section.primary_metric == "accuracy" and section.title == "Text: reviews.csv"
    assert section.models[0].card == "# Card of small"  # the YAML front matter is not shown


def test_primary_metric_without_a_run_follows_the_training_rule(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "metrics.json").write_text(json.dumps(fake_metrics("model", 0.8, train_support=(90, 10))))
    (section,) = catalog.load_sections({"text": [str(model)], "image": []}, loader=lambda *a, **k: FakeClassifier({}))
    assert section.primary_metric == "f1_macro" and "imbalanced" in section.primary_metric_reason


@pytest.fixture
def section(run_dir):
    classifiers = {"small": FakeClassifier({"neg": 0.7, "pos": 0.3}), "big": FakeClassifier({"pos": 0.8, "neg": 0.2})}
    (section,) = catalog.load_sections({"text": [str(run_dir)], "image": []}, loader=loader_for(classifiers))
    return section


def test_text_input_checks(section):
    for empty in (None, "", "   \n\t "):
        prediction = catalog.predict_text(section, empty)
        assert prediction.message == "Type or paste some text first." and not prediction.labels
    prediction = catalog.predict_text(section, "x" * 100_000)
    assert "100,000 characters" in prediction.message and "first 5,000" in prediction.message
    assert all(len(text) == catalog.MAX_TEXT_CHARS for text in section.models[0].classifier.inputs)
    assert prediction.labels["small"] == {"neg": 0.7, "pos": 0.3} and set(prediction.latency_ms) == {"small", "big"}
    assert prediction.agreement == "The models disagree: **neg** (small); **pos** (big)."
    assert catalog.predict_text(section, "fine", models=section.models[:1]).agreement == ""


def test_image_input_checks(section, tmp_path):
    section.task = "image-classification"
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    truncated = tmp_path / "cut.png"
    Image.new("RGB", (64, 64), "red").save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    cases = [
        (None, "Upload an image"),
        (catalog.UnreadableUpload("cannot identify image file"), "not an image we can read (cannot identify"),
        (str(text_file), "not an image we can read"),
        (str(truncated), "not an image we can read"),
    ]
    for upload, message in cases:
        prediction = catalog.predict_image(section, upload)
        assert message in prediction.message and not prediction.labels
    classifier = section.models[0].classifier
    for mode, note in (("RGBA", "RGBA image was converted to RGB"), ("L", "L image was converted to RGB")):
        path = tmp_path / f"{mode}.png"
        Image.fromarray(np.zeros((30, 40, 4 if mode == "RGBA" else 1), np.uint8).squeeze(), mode).save(path)
        prediction = catalog.predict_image(section, str(path))
        assert note in prediction.message and classifier.inputs[-1].mode == "RGB" and prediction.labels
    huge = tmp_path / "huge.jpg"
    Image.new("RGB", (4000, 3000), "white").save(huge)
    prediction = catalog.predict_image(section, str(huge))
    assert "(4000x3000) was downscaled to 1024 px" in prediction.message
    assert max(classifier.inputs[-1].size) <= catalog.MAX_IMAGE_SIDE


def fake_explain(model, processor, example, target=None):
    """explain.explain's stand-in: one token per word (text) scored by its position, or a ramp over a 4x4 image."""
    from training.core.explain import Explanation

    model.inputs.append(example)
    if isinstance(example, str):
        spans = [match.span() for match in re.finditer(r"\S+", example)]
        return Explanation(0, "neg", 0.7, "fake gradients", np.arange(1.0, len(spans) + 1), tokens=[""] * len(spans),
                           spans=spans, special=np.zeros(len(spans), bool))  # fmt: skip
    pixels = {"pixel_values": __import__("torch").zeros(1, 3, 4, 4)}
    return Explanation(1, "pos", 0.9, "fake Grad-CAM", np.arange(16.0).reshape(4, 4), model_inputs=pixels)


def test_explanations_share_the_input_checks(section, tmp_path, monkeypatch):
    monkeypatch.setattr(catalog.explain, "explain", fake_explain)
    for empty in (None, "", "  \n"):
        explanations = catalog.explain_text(section, empty)
        assert explanations.message == "Type or paste some text first." and not explanations.shown
    explanations = catalog.explain_text(section, "a  fine film")
    assert explanations.message == "" and set(explanations.shown) == {"small", "big"}
    assert explanations.shown["small"] == [("a", 0.3333), ("  ", None), ("fine", 0.6667), (" ", None), ("film", 1.0)]
    assert explanations.caption("small") == "small: why 'neg' (0.70)"
    explanations = catalog.explain_text(section, "word " * 20_000)
    assert "100,000 characters" in explanations.message and explanations.shown["big"]
    assert len(section.models[1].classifier.inputs[-1]) == catalog.MAX_TEXT_CHARS

    section.task = "image-classification"
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    for upload, message in ((None, "Upload an image"), (str(not_image), "not an image we can read")):
        explanations = catalog.explain_image(section, upload)
        assert message in explanations.message and not explanations.shown
    picture = tmp_path / "grey.png"
    Image.new("L", (30, 20), 128).save(picture)
    explanations = catalog.explain_image(section, str(picture), models=section.models[:1])
    assert "L image was converted to RGB" in explanations.message and list(explanations.shown) == ["small"]
    assert explanations.shown["small"].size == (224, 224) and explanations.caption("small") == "small: why 'pos' (0.90)"

    def broken(*args, **kwargs):
        raise RuntimeError("no gradient")

    monkeypatch.setattr(catalog.explain, "explain", broken)
    explanations = catalog.explain_text(section, "a fine film")
    assert explanations.errors == {"small": "RuntimeError: no gradient", "big": "RuntimeError: no gradient"}


def test_a_model_never_predicts_while_it_explains(section, monkeypatch):
    """Captum hooks the model while it explains: predictions and explanations of one model take turns, those
    of different models may overlap."""
    running: dict[int, int] = {}
    most: dict[int, int] = {}
    guard = threading.Lock()

    def busy(model) -> None:
        with guard:
            running[id(model)] = running.get(id(model), 0) + 1
            most[id(model)] = max(most.get(id(model), 0), running[id(model)])
        time.sleep(0.01)
        with guard:
            running[id(model)] -= 1

    classify = FakeClassifier.__call__

    def slow_classify(self, value, top_k=None, **kwargs):
        busy(self)
        return classify(self, value, top_k, **kwargs)

    def slow_explain(model, processor, example, target=None):
        busy(model)
        return fake_explain(model, processor, example, target)

    monkeypatch.setattr(FakeClassifier, "__call__", slow_classify)
    monkeypatch.setattr(catalog.explain, "explain", slow_explain)
    calls = [catalog.predict_text, catalog.explain_text] * 8
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda call: call(section, "a fine film"), calls))
    assert all(len(r.labels if isinstance(r, catalog.Prediction) else r.shown) == 2 for r in results)
    assert sorted(most.values()) == [1, 1]


def test_comparison_table_and_overfitting(section):
    header, rows = catalog.comparison(section)
    assert header[:3] == ["model", "kind", "accuracy *"] and [r[0] for r in rows] == ["small", "big"]
    assert rows[1][2] == "**0.9000**" and rows[0][2] == "0.8000"  # best per column in bold
    lines = catalog.overfitting(section)
    assert lines[0].startswith("**small**: accuracy: train 0.990, validation 0.800")
    assert "strong overfitting" in lines[0]
    assert catalog.text_examples(section) == ["a bad film", "a poor meal", "a great film"]
    assert catalog.conclusions(section)[0].startswith("**big** wins on test accuracy with 0.900")
    # Trained with --cv_folds: the cross-validation table, training's own rows.
    assert catalog.cross_validation(section) == (["model", "folds", "accuracy *"], [["big", "3", "0.8800 ± 0.0200"]])


def test_app_builds_with_one_endpoint_per_model(section, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_EXAMPLES_CACHE", str(tmp_path / "examples"))
    import app

    broken = catalog.ModelEntry("broken", "alice/broken", error="OSError: no such repo")
    section.models.append(broken)
    demo = app.build_app([section])
    api_names = {dep.get("api_name") for dep in demo.config["dependencies"]}
    assert {"predict_text", "text_small", "text_big"} <= api_names and "text_broken" not in api_names
    assert {"explain_text_small", "explain_text_big"} <= api_names and "explain_text_broken" not in api_names
    assert (demo._queue.max_size, demo._queue.default_concurrency_limit) == (app.QUEUE_SIZE, app.CONCURRENCY_LIMIT)
    # Every explanation (the Why? button and the endpoints) waits for one shared limit in the queue.
    explaining = [fn for fn in demo.fns.values() if fn.name in ("explain_all", "one_explanation")]
    assert len(explaining) == 3 and {(fn.queue, fn.concurrency_id) for fn in explaining} == {(True, "explain")}
    components = demo.config["components"]
    labels = [c for c in components if c["type"] == "label"]
    assert sorted(c["props"]["label"] for c in labels) == ["big", "small"]
    why = [c["props"] for c in components if c["type"] == "highlightedtext"]
    assert [c["elem_id"] for c in why] == ["text-why-small", "text-why-big"] and not any(c["visible"] for c in why)
    assert any(c["props"].get("elem_id") == "text-why" for c in components if c["type"] == "button")
    markdown = " ".join(str(c["props"].get("value")) for c in components if c["type"] == "markdown")
    assert "**broken** is unavailable: OSError: no such repo" in markdown
    # A run from before the curves and the error analysis: none of their figures, and no empty places for them.
    assert not [c for c in components if c["type"] == "image"] and "mistakes" not in markdown


HOSTILE = "<img src=x onerror=alert(1)>"  # a class name from the user's data


def test_a_thresholded_model_says_the_class_it_predicts(section, tmp_path, monkeypatch):
    """gr.Label heads each answer with the most probable class: where a model's decision threshold predicts the
    other one, a line under its answer says so (the class name escaped); elsewhere that line stays empty, and
    predict_text keeps the outputs it always had."""
    monkeypatch.setenv("GRADIO_EXAMPLES_CACHE", str(tmp_path / "examples"))
    import app

    small = section.models[0].classifier
    small.scores = {"calm": 0.6, HOSTILE: 0.4}
    small.config = SimpleNamespace(decision_threshold=0.372, id2label={0: "calm", 1: HOSTILE})
    prediction = catalog.predict_text(section, "a fire downtown")
    assert list(prediction.labels["small"]) == [HOSTILE, "calm"]
    tuned, plain = app._threshold_notes(prediction, section.available)
    shown = "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert tuned == (f"Predicts **{shown}** (its decision threshold: P({shown}) >= 0.372, chosen on validation)")
    assert plain == ""  # no threshold: nothing shown
    assert prediction.agreement == f"The models disagree: **{shown}** (small); **pos** (big)."
    small.scores = {"calm": 0.7, HOSTILE: 0.3}  # the threshold predicts the most probable class: the Label says it
    calm = catalog.predict_text(section, "calm")
    assert not any(app._threshold_notes(calm, section.models))

    demo = app.build_app([section])
    notes = {c["id"]: c["props"] for c in demo.config["components"] if "-predicts-" in str(c["props"].get("elem_id"))}
    assert [n["elem_id"] for n in notes.values()] == ["text-predicts-small", "text-predicts-big"]
    assert not any(n.get("value") for n in notes.values())
    # The Classify button, the text box's Enter and the examples show them; no documented endpoint returns them.
    showing = [d for d in demo.config["dependencies"] if set(notes) <= set(d["outputs"])]
    assert len(showing) >= 2 and not [d["api_name"] for d in showing if d["api_visibility"] == "public"]
    predict = [d for d in demo.config["dependencies"] if d["api_name"] == "predict_text"]
    assert len(predict) == 1 and len(predict[0]["outputs"]) == 1 + 2 * 2 + 1  # status, (label, latency)s, agreement


def test_a_run_on_several_text_columns_asks_for_them_in_the_documented_format(section, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_EXAMPLES_CACHE", str(tmp_path / "examples"))
    import app

    section.description["input_fields"] = ["keyword", "text"]
    components = app.build_app([section]).config["components"]
    (box,) = [c["props"] for c in components if c["type"] == "textbox" and c["props"].get("elem_id") == "text-input"]
    assert box["label"] == "Text, as keyword: <keyword> | text: <text> (empty fields left out)"


def test_why_shows_each_models_explanation_under_its_answer(section, monkeypatch):
    import app

    monkeypatch.setattr(catalog.explain, "explain", fake_explain)
    status, legend, small, big = app._why_outputs(catalog.explain_text(section, "a fine film"), section.models, "text")
    assert status == "" and "red towards it, purple away from it" in legend and "Method: fake gradients." in legend
    assert small["visible"] and small["label"] == "small: why 'neg' (0.70)" and small["value"][0] == ("a", 0.3333)
    status, legend, *hidden = app._why_outputs(catalog.explain_text(section, " "), section.models, "text")
    assert status == "Type or paste some text first." and legend == "" and not any(h["visible"] for h in hidden)


def test_an_ensemble_is_not_explained_and_the_legend_says_why(section, monkeypatch):
    import app

    monkeypatch.setattr(catalog.explain, "explain", fake_explain)
    big = section.models[1].classifier
    big.tokenizer = big.image_processor = None  # as the ensemble's pipeline: no processor of its own
    explanations = catalog.explain_text(section, "a fine film")
    assert list(explanations.shown) == ["small"] and not explanations.errors
    status, legend, small, big = app._why_outputs(explanations, section.models, "text")
    assert small["visible"] and not big["visible"]
    assert legend.endswith("big: a vote of the other models, explained by their explanations.")


def test_compare_shows_the_curves_and_top_losses_when_present(run_dir, tmp_path, monkeypatch):
    """A run with the curves, calibration and error analysis: the Compare tab shows them and the app serves
    the figures, and still nothing else of the run (the top losses' Markdown is shown inline, not served)."""
    monkeypatch.setenv("GRADIO_EXAMPLES_CACHE", str(tmp_path / "examples"))
    import app

    for figure in catalog.RUN_FIGURES:
        Image.new("RGB", (40, 30), "white").save(run_dir / figure)
    Image.new("RGB", (40, 30), "white").save(run_dir / "small" / "curves.png")
    (run_dir / "big" / "top_losses.md").write_text("# big: the 1 most confident mistakes\n\n<mark>dull</mark> film\n")
    classifiers = {"small": FakeClassifier({"neg": 1.0}), "big": FakeClassifier({"pos": 1.0})}
    (section,) = catalog.load_sections({"text": [str(run_dir)], "image": []}, loader=loader_for(classifiers))
    assert list(section.figures) == ["roc_curves.png", "pr_curves.png", "calibration.png"]
    assert section.models[1].top_losses.startswith("# big") and section.models[0].top_losses is None
    components = app.build_app([section]).config["components"]
    images = [c["props"] for c in components if c["type"] == "image"]
    assert [i["label"] for i in images if i.get("label")] == list(app.RUN_FIGURE_TITLES.values())
    # One accordion per model that has the figure or text; the top losses' headings below the tab's own.
    accordions = {c["props"].get("elem_id"): c["props"]["label"] for c in components if c["type"] == "accordion"}
    assert accordions["text-curves-small"] == "small" and "text-curves-big" not in accordions
    assert accordions["text-top_losses-big"] == "big" and "text-top_losses-small" not in accordions
    markdown = [str(c["props"].get("value")).strip() for c in components if c["type"] == "markdown"]
    assert "#### big: the 1 most confident mistakes\n\n<mark>dull</mark> film" in markdown
    served = app.served_files([section])
    assert {str(run_dir / f) for f in catalog.RUN_FIGURES} | {str(run_dir / "small" / "curves.png")} <= set(served)
    assert not [f for f in served if not f.endswith(".png")]


def test_the_deployed_bundle_imports_without_the_project(tmp_path):
    """The files deploy_space uploads are enough for app.py's imports: no module of the project missing."""
    import os
    import subprocess

    from training.hub.deploy_space import plan_space

    files, hub_ids = plan_space({"text": ["alice/news-glove-lstm"], "image": []}, "Demo")
    assert hub_ids == ["alice/news-glove-lstm"] and b"alice/news-glove-lstm" in files["models.yaml"]
    for path, value in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(value if isinstance(value, bytes) else value.read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import sys; sys.path.insert(0, '.'); import app, catalog, training.core.results; print(catalog.TASKS)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sdk: gradio" in files["README.md"].decode() and "title: Demo" in files["README.md"].decode()


def test_series_input_checks(tmp_path):
    """Pasted series: one channel in any layout; several as a line per channel or a row per step (a header row
    allowed); missing values said; non-numbers, the wrong channel count and too few steps refused."""
    series, message = catalog.read_series("1, 2, 3\n4 5 6", channels=1)
    assert series.tolist() == [[1, 2, 3, 4, 5, 6]] and message == ""
    assert catalog.read_series("1;2;;4", channels=1)[1].startswith("1 missing value(s) filled")
    lines = catalog.read_series("1, 2, 3, 4\n5, 6, 7, 8", channels=2)[0]
    rows = catalog.read_series("x,y\n1,5\n2,6\n3,7\n4,8", channels=2)[0]
    assert lines.tolist() == rows.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    for text, channels, reason in (
        ("", 1, "Paste the series' values"),
        ("1, 2, x", 1, "numbers only"),
        ("1, 2\n3, 4\n5, 6", 1, "read one channel"),
        ("1, 2, 3", 2, "read 2 channels"),
        ("1, 2", 1, "needs at least 3"),
    ):
        assert catalog.read_series(text, channels)[0] is None
        assert reason in catalog.read_series(text, channels)[1]
    upload = tmp_path / "one.csv"
    upload.write_text("channel_1,channel_2\n1,5\n2,6\n3,\n")
    assert catalog.series_text(str(upload)) == "1, 2, 3\n5, 6, nan"
    upload.write_text("channel_1\n1\n\n3\n4\n")  # a blank line between steps: a missing value, as training reads it
    assert catalog.series_text(str(upload)) == "1, nan, 3, 4"
    assert catalog.read_series("1, nan, 3, 4", channels=1)[1].startswith("1 missing value(s) filled")
    # Missing values at the ends only make the series shorter (unequal lengths): nothing was filled.
    series, message = catalog.read_series("nan, 1, 2, 3, nan, nan", channels=1)
    assert series.shape == (1, 6) and message == ""
    assert catalog.read_series("1, nan, nan, 4", channels=1)[1].startswith("2 missing value(s) filled")  # 4 steps
    assert "has 2 step(s)" in catalog.read_series("nan, 1, 2, nan", channels=1)[1]
    upload.write_text("a,b\n1,2\n3,4\n5\n")
    with pytest.raises(ValueError, match="for each channel"):
        catalog.series_text(str(upload))
