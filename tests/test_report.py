"""The report and its insights, from fixture results: sections, numbers taken from the JSON, insights
that change when the results change, a self-contained HTML, and that HTML in headless Chromium."""

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import browser_page, requires_browser, screenshot
from tests.conftest import run_main
from training.reporting import insights
from training.reporting.report import main as report_main
from training.reporting.report import write_report

LABELS = ["cat", "dog", "fox"]


def model(name: str, kind: str, test_acc: float, train_acc: float, seconds: float, confusion: list[list[int]]) -> dict:
    def split(acc: float) -> dict:
        per_class = {
            c: {"precision": acc, "recall": acc, "f1": acc, "support": sum(confusion[i])} for i, c in enumerate(LABELS)
        }
        return {
            "accuracy": acc,
            "precision_macro": acc,
            "recall_macro": acc,
            "f1_macro": acc,
            "roc_auc": 0.9,
            "per_class": per_class,
            "confusion_matrix": confusion,
            "num_examples": 300,
        }

    return {
        "name": name,
        "kind": kind,
        "architecture": f"{name} net",
        "num_parameters": 1000 if kind == "scratch" else 5_000_000,
        "num_trainable_parameters": 1000,
        "train_runtime_s": seconds,
        "train_samples_per_second": 100.0,
        "inference_ms_per_sample": 2.0,
        "epochs_trained": 3,
        "training_device": "CPU (2 threads)",
        "inference_device": "cpu",
        "hyperparameters": {"learning_rate": 0.001, "num_train_epochs": 3, "optim": "adamw_torch"},
        "train": split(train_acc),
        "validation": split(test_acc),
        "test": split(test_acc),
    }


def write_run(path: Path, models: list[dict], n_test: int) -> Path:
    from training.core.results import overfitting_note

    path.mkdir(parents=True)
    results = {
        "task": "image-classification",
        "dataset": "pets",
        "label_names": LABELS,
        "num_examples": {"train": 900, "validation": n_test, "test": n_test},
        "test_is_validation": False,
        "primary_metric": "accuracy",
        "primary_metric_reason": "The classes are balanced.",
        "best_model": max(models, key=lambda m: m["test"]["accuracy"])["name"],
        "overfitting": {m["name"]: overfitting_note(m, "accuracy") for m in models},
        "models": models,
    }
    balance = {s: {c: {"count": 10, "share": 1 / 3} for c in LABELS} for s in ("train", "validation", "test")}
    description = {
        "source": "pets",
        "num_examples": results["num_examples"],
        "class_balance": balance,
        "imbalance_ratio": 1.0,
        "examples": {},
    }
    (path / "results.json").write_text(json.dumps(results))
    (path / "dataset.json").write_text(json.dumps(description))
    for m in models:
        (path / m["name"]).mkdir()
        Image.new("RGB", (8, 8), "navy").save(path / m["name"] / "confusion_matrix.png")
    return path


@pytest.fixture
def clear_win(tmp_path) -> Path:
    """The pretrained model wins by far on 3,000 test examples; the scratch model overfits; dogs pass for foxes."""
    return write_run(
        tmp_path / "clear",
        [
            model("cnn", "scratch", 0.70, 0.99, 10, [[90, 5, 5], [2, 60, 38], [3, 4, 93]]),
            model("effnet", "pretrained", 0.95, 0.96, 200, [[98, 1, 1], [1, 97, 2], [2, 1, 97]]),
        ],
        n_test=3000,
    )


@pytest.fixture
def close_call(tmp_path) -> Path:
    """The scratch model edges ahead by 0.01 on 60 examples; nobody overfits; cats pass for dogs."""
    return write_run(
        tmp_path / "close",
        [
            model("cnn", "scratch", 0.81, 0.82, 5, [[14, 6, 0], [1, 18, 1], [0, 2, 18]]),
            model("effnet", "pretrained", 0.80, 0.81, 50, [[15, 4, 1], [2, 16, 2], [1, 2, 17]]),
        ],
        n_test=60,
    )


def test_insights_follow_the_numbers(clear_win, close_call):
    clear = json.loads((clear_win / "results.json").read_text())
    close = json.loads((close_call / "results.json").read_text())
    assert insights.winner(clear).startswith("**effnet** wins on test accuracy with 0.950, 0.250 ahead of cnn")
    assert "beyond the test set's noise" in insights.winner(clear)
    assert insights.winner(close).startswith("**cnn** wins on test accuracy with 0.810, 0.010 ahead of effnet")
    assert "within the test set's noise" in insights.winner(close)
    assert "effnet trained in 3.3 min, 20.0x cnn's 10 s, for +0.250 accuracy" in insights.cost(clear)
    assert insights.cost(close) == "cnn is also the fastest to train (5.0 s): no trade-off here."
    assert insights.pretraining(clear).startswith("Pretraining pays") and "by 0.250" in insights.pretraining(clear)
    assert insights.pretraining(close).startswith("Pretraining does not pay here")
    assert insights.overfitting(clear) == "Overfitting: cnn (strong overfitting, gap +0.290)."
    assert insights.overfitting(close).startswith("No model overfits")
    assert "cnn most often takes **dog** for **fox** (38 of 100 dog test examples)." in insights.confusions(clear)
    assert "cnn most often takes **cat** for **dog** (6 of 20 cat test examples)." in insights.confusions(close)


def test_report_sections_numbers_and_self_contained_html(clear_win, close_call, tmp_path):
    md_path, html_path, pdf_path = write_report([clear_win, close_call], tmp_path / "report")
    report = md_path.read_text()
    for heading in (
        "### Task",
        "### Dataset",
        "### Metrics",
        "### Models",
        "### Experiments",
        "### Results",
        "### Insights",
        "## Appendix",
    ):
        assert report.count(heading) == 2 if heading.startswith("###") else 1, heading
    assert "| effnet | pretrained | **0.9500** |" in report  # the comparison table, from results.json
    assert "- Overfitting: cnn (strong overfitting, gap +0.290)." in report
    assert "(../clear/cnn/confusion_matrix.png)" in report
    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == 4 and 'src="../' not in html and "<table>" in html
    from pypdf import PdfReader  # xhtml2pdf's own dependency

    pdf = PdfReader(pdf_path)
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) >= 2 and "Scratch vs pretrained classifiers: pets" in text and "Appendix" in text
    assert "effnet wins on test accuracy with 0.950" in " ".join(text.split())


def test_a_directory_without_results_is_refused(tmp_path, capsys):
    code, err = run_main(report_main, "report.py", [str(tmp_path)], capsys)
    assert code == 2 and "has no results.json" in err and not (tmp_path / "report.md").exists()


@requires_browser
def test_report_html_in_the_browser(clear_win):
    from playwright.sync_api import expect

    _, html_path = write_report([clear_win], pdf=False)
    with browser_page(name="report") as page:
        page.goto(html_path.as_uri())
        expect(page.locator("h1")).to_contain_text("Scratch vs pretrained classifiers: pets")
        expect(page.locator("table").first).to_be_visible()
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        screenshot(page, "report")


def test_ablation_tables_and_what_they_changed(clear_win, tmp_path):
    rows = [
        {
            "variant": "with BatchNorm",
            "model": "scratch-complex",
            "metric": "accuracy",
            "validation": 0.91,
            "test": 0.90,
            "train_runtime_s": 80.0,
            "train_validation_gap": 0.02,
            "verdict": "no sign of overfitting",
        },
        {
            "variant": "without BatchNorm",
            "model": "scratch-complex",
            "metric": "accuracy",
            "validation": 0.75,
            "test": 0.74,
            "train_runtime_s": 70.0,
            "train_validation_gap": 0.12,
            "verdict": "strong overfitting",
        },
    ]
    ablations = tmp_path / "ablations-image"
    ablations.mkdir()
    (ablations / "ablations.json").write_text(json.dumps({"batchnorm": rows}))
    md_path, _ = write_report([clear_win, ablations], tmp_path / "out", pdf=False)
    report = md_path.read_text()
    assert "## Ablations" in report and "### batchnorm" in report
    assert "| without BatchNorm | 0.7500 | 0.7400 | 70.0 | +0.120 (strong overfitting) |" in report
    assert (
        "batchnorm: with BatchNorm is best on validation accuracy (0.910), 0.160 above without BatchNorm (0.750); "
        "test 0.900 vs 0.740; training took 80 s vs 70 s." in report
    )
    assert "Ablations are in their own section below." in report
    with pytest.raises(Exception, match="no training run given"):
        write_report([ablations], tmp_path / "alone", pdf=False)


def repeated_run(path: Path, cnn: tuple, effnet: tuple) -> Path:
    """A run of two models measured with 5-fold cross-validation and 2 seeds: each given as
    (test accuracy, the folds' accuracies, the seeds' test accuracies)."""
    from training.core.experiment import score_summary

    confusion = [[10, 0, 0], [0, 10, 0], [0, 0, 10]]
    models = []
    for (name, kind, seconds), (test, cv, seeds) in (
        (("cnn", "scratch", 5), cnn),
        (("effnet", "pretrained", 9), effnet),
    ):
        m = model(name, kind, test, 0.85, seconds, confusion)
        m["cross_validation"] = {"folds": len(cv), "metrics": score_summary([{"accuracy": v} for v in cv])}
        m["seeds"] = {"seeds": list(range(len(seeds))), "test": score_summary([{"accuracy": v} for v in seeds])}
        models.append(m)
    return write_run(path, models, n_test=60)


def test_winner_is_judged_against_cross_validation_noise(tmp_path):
    from training.reporting.tables import comparison_markdown

    steady = repeated_run(
        tmp_path / "steady",
        (0.80, [0.80, 0.81, 0.79, 0.80, 0.82], [0.8, 0.81]),
        (0.9, [0.9, 0.91, 0.92, 0.9, 0.91], [0.9, 0.92]),
    )
    noisy = repeated_run(
        tmp_path / "noisy",
        (0.86, [0.88, 0.86, 0.90, 0.84, 0.87], [0.86, 0.8]),
        (0.88, [0.9, 0.8, 0.95, 0.85, 0.88], [0.8, 0.9]),
    )
    clear = json.loads((steady / "results.json").read_text())
    close = json.loads((noisy / "results.json").read_text())
    # On 60 test examples a 0.10 lead is within the test set's noise, but five folds agree on it.
    assert "Over the same 5 cross-validation folds, effnet scores +0.104 accuracy against cnn" in insights.winner(clear)
    assert "beyond the noise of repeated training" in insights.winner(clear)
    assert "within the noise of repeated training" in insights.winner(close)
    comparison = comparison_markdown(clear)
    assert "| effnet | 5 | **0.9080 ± 0.0084** |" not in comparison  # the CV table is not bolded
    assert "| effnet | 5 | 0.9080 ± 0.0084 |" in comparison
    assert "| effnet | pretrained | **0.9100 ± 0.0141** |" in comparison  # test: mean ± std over the 2 seeds
    report = write_report([steady], tmp_path / "out", pdf=False)[0].read_text()
    assert "stratified 5-fold on the training split" in report and "effnet with 2 seeds, test accuracy 0.910" in report


def test_sweep_section_from_sweep_json(clear_win, tmp_path):
    sweep_dir = tmp_path / "sweep-image-cnn"
    write_run(sweep_dir / "best", [model("cnn", "scratch", 0.93, 0.95, 40, [[9, 1, 0], [0, 10, 0], [0, 0, 10]])], 60)
    Image.new("RGB", (8, 8), "navy").save(sweep_dir / "optimization_history.png")
    trials = [{"number": 0, "value": 0.90, "state": "COMPLETE"}, {"number": 1, "value": 0.94, "state": "COMPLETE"}]
    summary = {
        "task": "image", "model": "cnn", "primary_metric": "accuracy", "pruner": "hyperband",
        "objective": "validation accuracy at the best epoch (maximised)", "finished_trials": 2, "pruned_trials": 1,
        "search_seconds": 300.0, "trials": trials,
        "search_space": {"learning_rate": {"type": "float", "low": 0.0004, "high": 0.01, "log": True},
                         "optim": {"type": "categorical", "choices": ["adamw_torch", "sgd"]}},
        "best": {"number": 1, "value": 0.94, "params": {"learning_rate": 0.0031, "optim": "sgd"}},
        "default": {"number": 0, "value": 0.90, "params": {}},
        "retrained": {"validation": 0.935, "test": 0.93, "train_runtime_s": 40.0},
    }  # fmt: skip
    (sweep_dir / "sweep.json").write_text(json.dumps(summary))
    md_path, html_path = write_report([clear_win, sweep_dir], tmp_path / "out", pdf=False)
    report = md_path.read_text()
    assert "## Hyperparameter search" in report and "| learning_rate | 0.0004 to 0.01 (log scale) |" in report
    assert "2 trials of Optuna's TPE sampler through Trainer.hyperparameter_search (1 pruned early" in report
    assert "Best: trial 1 with validation accuracy 0.9400 (learning_rate 0.0031, optim sgd)" in report
    assert (
        "The default configuration (trial 0) scored 0.9000: the search gained +0.0400, within the validation "
        "split's noise (about ±0.099 on 60 examples)." in report
    )
    assert "Retrained from scratch with that configuration: validation 0.9350, test accuracy 0.9300" in report
    assert report.count("### Results") == 2  # the retrained best model is reported as a run too
    assert "cnn: optimisation history" in report and "data:image/png;base64," in html_path.read_text()


def test_search_gain_when_the_default_is_already_perfect():
    trials = [{"number": 0, "value": 1.0, "state": "COMPLETE"}, {"number": 1, "value": 1.0, "state": "COMPLETE"}]
    sweep = {"primary_metric": "accuracy", "best": trials[0], "default": trials[0], "trials": trials}
    assert "already scores the maximum, accuracy 1.0000 on validation: no configuration can beat it, and 2 " in (
        insights.search_gain(sweep, 180)
    )
    sweep["default"] = {"number": 0, "value": 0.80}
    assert insights.search_gain(sweep, 2000).endswith(
        "+0.2000, beyond the validation split's noise (about ±0.018 on 2000 examples)."
    )
