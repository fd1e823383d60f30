"""The report and its insights, from fixture results: sections, numbers taken from the JSON, insights
that change when the results change, a self-contained HTML, and that HTML in headless Chromium."""

import json
import os
import re
import shutil
import subprocess
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


def test_calibration_crossing_curves_and_mistakes_are_read_from_the_numbers():
    def scored(name: str, accuracy: float, fpr: list, tpr: list, auc: float, bins: list) -> dict:
        roc = {"summary": {"fpr": fpr, "tpr": tpr, "auc": auc}}
        calibration = {"expected_calibration_error": sum(c * abs(a - p) for p, a, c in bins) / sum(c for *_, c in bins),
                       "bins": [{"confidence": p, "accuracy": a, "count": c} for p, a, c in bins]}  # fmt: skip
        return {"name": name, "test": {"accuracy": accuracy, "curves": {"positive_class": "yes", "roc": roc},
                                       "calibration": calibration}}  # fmt: skip

    results = {"primary_metric": "accuracy", "models": [
        # a: better at a strict threshold (FPR 0.1), b: better overall; a says 0.95 and is right 0.70 of the time.
        scored("a", 0.80, [0, 0.1, 1], [0, 0.6, 1], 0.75, [(0.9, 0.6, 50), (1.0, 0.8, 50)]),
        scored("b", 0.85, [0, 0.1, 0.3, 1], [0, 0.3, 0.9, 1], 0.80, [(0.7, 0.68, 50), (0.9, 0.91, 50)]),
    ]}  # fmt: skip
    assert insights.calibration(results) == (
        "**b** is the best calibrated (expected calibration error 0.015, 2 equal-mass bins); a is the least (0.250), "
        "overconfident: its mean confidence is 0.950 for an accuracy of 0.700."
    )
    crossing = insights.curve_crossing(results)
    assert crossing.startswith("The ROC curves of b (AUC 0.800) and a (AUC 0.750) cross: a has the higher")
    assert "false-positive rates between 0.01 and 0.21" in crossing  # a: 6x up to 0.1; b: 3x, then 3x to 0.3
    results["models"][0]["test"]["curves"]["roc"]["summary"]["tpr"] = [0, 0.2, 1]  # now b is above everywhere
    assert "lies on or above a's at every false-positive rate" in insights.curve_crossing(results)
    description = {"class_balance": {"test": {"yes": {"share": 0.25}, "no": {"share": 0.75}}},
                   "statistics": {"test": {"words": {"median": 20}}}}  # fmt: skip
    results["models"][0]["top_losses"] = [
        {"true": "yes", "confidence": 0.9, "words": 50, "top_words": ["free", "win"]},
        {"true": "yes", "confidence": 0.8, "words": 70, "top_words": ["free", "now"]},
        {"true": "no", "confidence": 0.7, "words": 40, "top_words": ["win"]},
    ]
    (line,) = insights.mistakes(results, description)
    assert line == (
        "a's 3 most confident mistakes (mean confidence 0.80 in the wrong class): 2 are truly **yes** (25% of the "
        "test split); their median length is 50 words against 20 in the test split; the words that most often drove "
        "them: 'free', 'win'."
    )


def test_pretraining_tie_is_called_a_tie(clear_win):
    results = json.loads((clear_win / "results.json").read_text())
    for m in results["models"]:
        m["test"]["accuracy"] = 0.9944
    assert insights.pretraining(results) == (
        "Pretraining does not pay here: the best model trained from scratch (cnn) ties the best pretrained one "
        "(effnet) at 0.994 accuracy."
    )


def test_pretraining_alone_is_weighed_against_the_same_network_from_scratch(clear_win):
    """A pretrained model naming its scratch counterpart (time series: the FCN) gets the gap pretraining alone
    made, with the paired test over the folds both ran."""
    results = json.loads((clear_win / "results.json").read_text())
    results["models"][1]["scratch_counterpart"] = "cnn"
    scores = {"cnn": [0.70, 0.72, 0.69, 0.71, 0.70], "effnet": [0.95, 0.94, 0.96, 0.95, 0.93]}
    for m in results["models"]:
        m["cross_validation"] = {"metrics": {"accuracy": {"values": scores[m["name"]]}}}
    sentence = insights.pretraining(results)
    assert sentence.startswith("Pretraining pays: the best pretrained model (effnet) beats the best model trained")
    assert (
        "by 0.250 accuracy. effnet is cnn's network started from pretrained weights instead of random ones: that "
        "gap is what pretraining alone changed." in sentence
    )
    assert "Over the same 5 cross-validation folds, effnet scores +0.242 accuracy against cnn" in sentence
    # Another scratch model is the best: the counterpart gets its own comparison.
    results["models"].append({**results["models"][0], "name": "mlp"})
    results["models"][-1]["test"] = {**results["models"][0]["test"], "accuracy": 0.97}
    assert "pretraining helped (0.950 against 0.700 accuracy)" in insights.pretraining(results)
    results["models"][1]["test"]["accuracy"] = 0.65
    assert "pretraining hurt (0.650 against 0.700 accuracy)" in insights.pretraining(results)


def test_report_sections_numbers_and_self_contained_html(clear_win, close_call, tmp_path):
    md_path, html_path = write_report([clear_win, close_call], tmp_path / "report", formats=("md", "html"))
    report = md_path.read_text()
    for heading in ("Task", "Data", "Metrics", "Models", "Experiments", "Results"):
        assert len(re.findall(rf"^### [12]\.\d\. {heading}$", report, re.M)) == 2, heading
    assert "## 3. Insights and conclusion" in report and report.count("## Appendix") == 1
    assert "| effnet | pretrained | **0.9500** |" in report  # the comparison table, from results.json
    assert "Overfitting: cnn (strong overfitting, gap +0.290)." in report
    assert "- **effnet** wins on test accuracy with 0.950" in report  # the conclusion
    # Figures and tables are numbered in reading order, and the text refers to each by its number.
    assert "*Table 2: Test split (3,000 examples)" in report and "Table 2 compares the models" in report
    assert "*Figure 2: Test confusion matrices" in report and "Figure 2 shows where each model errs." in report
    figures = re.findall(r"!\[[^]]*\]\((figures/[^)]+)\)", report)
    assert figures and all((tmp_path / "report" / f).is_file() for f in figures)
    assert "figures/1-cnn-confusion_matrix.png" in figures  # each model's own figure, in the appendix
    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == len(figures) and 'src="figures' not in html and "<table>" in html


def test_a_decision_threshold_is_told_under_the_results_table(tmp_path):
    cnn = model("cnn", "scratch", 0.81, 0.82, 5, [[14, 6, 0], [1, 18, 1], [0, 2, 18]])
    cnn["decision_threshold"] = {
        "threshold": 0.372, "positive_class": "dog", "chosen_on": "validation", "metric": "f1_positive",
        "validation": {"at_argmax": 0.78, "at_threshold": 0.8}, "test": {"at_argmax": 0.77, "at_threshold": 0.79},
    }  # fmt: skip
    effnet = model("effnet", "pretrained", 0.80, 0.81, 50, [[15, 4, 1], [2, 16, 2], [1, 2, 17]])
    run = write_run(tmp_path / "run", [cnn, effnet], n_test=60)
    (md_path,) = write_report([run], tmp_path / "report", formats=("md",))
    report = md_path.read_text()
    assert (
        "The table's scores are at the argmax. cnn predicts the positive class (dog) from probability 0.372 instead "
        "of 0.5 (chosen on validation): F1 0.780 -> 0.800 on validation, 0.770 -> 0.790 on test."
    ) in report
    assert "effnet predicts" not in report


def test_a_directory_without_results_is_refused(tmp_path, capsys):
    code, err = run_main(report_main, "report.py", [str(tmp_path)], capsys)
    assert code == 2 and "has no results.json" in err and not (tmp_path / "report.md").exists()


@requires_browser
def test_report_html_in_the_browser(clear_win):
    from playwright.sync_api import expect

    _, html_path = write_report([clear_win], formats=("md", "html"))
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
    (md_path,) = write_report([clear_win, ablations], tmp_path / "out", formats=("md",))
    report = md_path.read_text()
    assert "## 7. Ablations" in report and "### 7.1. batchnorm" in report  # after the run's six sections
    assert "| without BatchNorm | 0.7500 | 0.7400 | 70.0 | +0.120 (strong overfitting) |" in report
    assert (
        "batchnorm: with BatchNorm is best on validation accuracy (0.910), 0.160 above without BatchNorm (0.750); "
        "test 0.900 vs 0.740; training took 80 s vs 70 s." in report
    )
    assert "The ablations have their own section below." in report
    with pytest.raises(Exception, match="no training run given"):
        write_report([ablations], tmp_path / "alone", formats=("md",))


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
    report = write_report([steady], tmp_path / "out", formats=("md",))[0].read_text()
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
    md_path, html_path = write_report([clear_win, sweep_dir], tmp_path / "out", formats=("md", "html"))
    report = md_path.read_text()
    assert "## 3. Hyperparameter search" in report and "| learning_rate | 0.0004 to 0.01 (log scale) |" in report
    assert "2 trials of Optuna's TPE sampler through Trainer.hyperparameter_search (1 pruned early" in report
    assert "Best: trial 1 with validation accuracy 0.9400 (learning_rate 0.0031, optim sgd)" in report
    assert (
        "The default configuration (trial 0) scored 0.9000: the search gained +0.0400, within the validation "
        "split's noise (about ±0.099 on 60 examples)." in report
    )
    assert "Retrained from scratch with that configuration: validation 0.9350, test accuracy 0.9300" in report
    assert len(re.findall(r"^### \d\.6\. Results$", report, re.M)) == 2  # the retrained best is a run too
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


# --- The hand-in formats: the typeset paper, the slides, the notebook -------------------------------------

PDF_TOOLS = shutil.which("pdftotext") is not None
requires_pdf_tools = pytest.mark.skipif(
    not PDF_TOOLS and os.environ.get("REQUIRE_PDF_TOOLS", "").lower() not in ("1", "true", "yes"),
    reason="pdftotext (Debian's poppler-utils) is not installed: make pdftools",
)


def pdf_pages(path: Path, layout: bool = False) -> list[str]:
    """The PDF's text page by page, as pdftotext reads it (``layout``: table rows stay on one line)."""
    command = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.split("\f")[:-1]


def add_curves_and_mistakes(models: list[dict]) -> None:
    """What runs record since the explanations: test curves, calibration and top losses, from probabilities
    drawn for 60 test examples (the better the model, the more its probability mass sits on the true class)."""
    import numpy as np

    from training.core.metrics import calibration, curves

    rng = np.random.default_rng(0)
    y_true = np.repeat(np.arange(3), 20)
    for m in models:
        logits = rng.normal(size=(60, 3)) + 4 * m["test"]["accuracy"] * np.eye(3)[y_true]
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        m["test"]["curves"] = curves(y_true, probs, LABELS)
        m["test"]["calibration"] = calibration(y_true, probs)
        m["test"]["expected_calibration_error"] = m["test"]["calibration"]["expected_calibration_error"]
        m["test"]["average_precision"] = m["test"]["curves"]["pr"]["summary"]["average_precision"]
        m["top_losses"] = [
            {"index": i, "input": f"a {LABELS[(i + 1) % 3]}-like photo of a {LABELS[i % 3]} number {i}",
             "true": LABELS[i % 3], "predicted": LABELS[(i + 1) % 3], "confidence": 0.9 - 0.05 * i,
             "loss": 3.0 - 0.1 * i, "words": 9, "top_words": ["like", "photo", LABELS[(i + 1) % 3]]}
            for i in range(4)
        ]  # fmt: skip


def lineup_run(path: Path) -> Path:
    """A run as `make text` writes one: four models, their learning curves, how it was made."""
    specs = [
        ("scratch-simple", "scratch", 0.81, 0.97, 4, [[17, 2, 1], [3, 15, 2], [1, 1, 18]]),
        ("scratch-complex", "scratch", 0.77, 0.99, 60, [[15, 4, 1], [3, 14, 3], [2, 1, 17]]),
        ("glove-lstm", "pretrained", 0.86, 0.9, 30, [[18, 1, 1], [2, 17, 1], [1, 2, 17]]),
        ("transformer", "pretrained", 0.93, 0.96, 500, [[19, 1, 0], [1, 18, 1], [0, 1, 19]]),
    ]
    models = []
    for index, spec in enumerate(specs):
        m = model(*spec)
        m["test"]["f1_macro"] = round(spec[2] - 0.0123 * (index + 1), 4)  # columns that differ, to find in the PDF
        m["history"] = [
            {"epoch": e, "train_loss": 1 / e, "validation_loss": 1.2 / e + 0.02 * e,
             "validation_accuracy": spec[2] - 0.1 / e}
            for e in range(1, 7)
        ]  # fmt: skip
        models.append(m)
    from training.core.analysis import plot_run_curves

    add_curves_and_mistakes(models)
    run = write_run(path, models, n_test=60)
    plot_run_curves(models, run)  # roc_curves.png, pr_curves.png, calibration.png
    results = json.loads((run / "results.json").read_text())
    results["provenance"] = {
        "command": "python training/train_text.py --output_dir outputs/text --seed 7",
        "arguments": {}, "packages": {"torch": "2.14.1"}, "git": {"commit": "0123456789abcdef", "dirty": False},
        "platform": "Linux x86_64", "started": "2026-12-01 10:00:00 UTC",
    }  # fmt: skip
    (run / "results.json").write_text(json.dumps(results))
    return run


@pytest.fixture
def lineup(tmp_path) -> Path:
    return lineup_run(tmp_path / "text")


@requires_pdf_tools
def test_paper_two_pages_of_main_text_every_reference_and_the_json_numbers(lineup, tmp_path):
    (pdf,) = write_report([lineup], tmp_path / "report", formats=("pdf",))
    pages = pdf_pages(pdf)
    appendix = next(i for i, page in enumerate(pages) if page.lstrip().startswith("Appendix"))
    # Three A4 pages of main text (two before the curves and the top losses joined the results), then the appendix.
    assert appendix == 3 and len(pages) > appendix
    text = " ".join(" ".join(pages).split())
    main = " ".join(" ".join(pages[:appendix]).split())
    # Every figure and table has a caption and is referred to from the text (its number more than once).
    captions = re.findall(r"(Figure|Table) (\d+): ", text)
    assert len(captions) >= 10 and {kind for kind, _ in captions} == {"Figure", "Table"}
    for kind, number in captions:
        assert len(re.findall(rf"{kind} {number}\b", text)) >= 2, f"{kind} {number} is never referred to"
    assert [int(n) for k, n in captions if k == "Figure"] == list(
        range(1, len([k for k, _ in captions if k == "Figure"]) + 1)
    )
    # The numbers are the JSON's: each model's row of the results table, on one line of the layout text.
    results = json.loads((lineup / "results.json").read_text())
    rows = [line for page in pdf_pages(pdf, layout=True)[:appendix] for line in page.splitlines()]
    for m in results["models"]:
        row = next(
            line for line in rows if line.strip().startswith(m["name"]) and f"{m['test']['accuracy']:.4f}" in line
        )
        assert f"{m['test']['f1_macro']:.4f}" in row and f"{m['train_runtime_s']:.1f}" in row, row
    assert "transformer wins on test accuracy with 0.930, 0.070 ahead of glove-lstm (0.860)" in main
    assert "Abstract." in main and "1 Task" in main and "Insights and conclusion" in main
    assert "ROC (left) and precision-recall (middle) curves macro-averaged" in main  # the curves figure
    assert "is the best calibrated (expected calibration error" in main
    assert "Most confident test mistakes (top two) of the best and the worst model" in main
    assert "ROC and precision-recall curves per class" in text  # the appendix's small multiples
    assert "python training/train_text.py --output_dir outputs/text --seed 7" in text  # appendix: how it was made


@requires_pdf_tools
def test_paper_with_more_runs_a_sweep_and_an_ablation_grows_by_about_a_page_each(lineup, clear_win, tmp_path):
    ablations = tmp_path / "ablations"
    ablations.mkdir()
    row = {"model": "cnn", "metric": "accuracy", "train_runtime_s": 10.0, "train_validation_gap": 0.01,
           "verdict": "no sign of overfitting"}  # fmt: skip
    variants = [{**row, "variant": "with", "validation": 0.9, "test": 0.89}, {**row, "variant": "without",
                "validation": 0.8, "test": 0.8}]  # fmt: skip
    (ablations / "ablations.json").write_text(json.dumps({"batchnorm": variants}))
    pdf, pptx = write_report([lineup, clear_win, ablations], tmp_path / "report", formats=("pdf", "pptx"))
    pages = pdf_pages(pdf)
    appendix = next(i for i, page in enumerate(pages) if page.lstrip().startswith("Appendix"))
    assert 2 < appendix <= 4, appendix  # two runs and an ablation: at most two pages more
    from pptx import Presentation

    slides = {s.shapes.title.text: s for s in Presentation(str(pptx)).slides}
    assert "The data (pets, run 1)" in slides and "Results on the test split (pets, run 2)" in slides  # one dataset
    experiments = " ".join(sh.text_frame.text for sh in slides["Experiments"].shapes if sh.has_text_frame)
    assert "batchnorm: with is best on validation accuracy (0.900), 0.100 above without (0.800)" in experiments


def test_slides_read_back(lineup, tmp_path):
    from pptx import Presentation
    from pptx.util import Emu

    (path,) = write_report(
        [lineup], tmp_path / "report", formats=("pptx",), space_url="https://huggingface.co/spaces/u/demo"
    )
    deck = Presentation(str(path))
    slides = list(deck.slides)
    titles = [s.shapes.title.text for s in slides]
    assert 8 <= len(slides) <= 14, titles
    assert titles[1:] == [
        "The data: pets", "Ranked by accuracy", "The models", "Results on the test split", "Where the models err",
        "Learning curves and overfitting", "Ranking and calibration", "The most confident mistakes", "Insights",
        "Try the models",
    ]  # fmt: skip
    width, height = Emu(deck.slide_width), Emu(deck.slide_height)
    for slide, title in zip(slides, titles, strict=True):
        assert slide.notes_slide.notes_text_frame.text.strip(), f"{title}: no speaker notes"
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (title, shape.name)
            assert shape.left + shape.width <= width and shape.top + shape.height <= height, (title, shape.name)
            if shape.is_placeholder:
                assert shape.has_text_frame and shape.text_frame.text.strip(), (title, "empty placeholder")
    pictures = {t: sum(sh.shape_type == 13 for sh in s.shapes) for s, t in zip(slides, titles, strict=True)}
    assert (
        pictures["The data: pets"]
        == pictures["Where the models err"]
        == pictures["Learning curves and overfitting"]
        == pictures["Ranking and calibration"]
        == 1
    )
    mistakes = next(s for s, t in zip(slides, titles, strict=True) if t == "The most confident mistakes")
    assert any(sh.has_table for sh in mistakes.shapes)  # text runs: the table of texts and the words behind them
    # The results table holds the JSON's numbers.
    results = json.loads((lineup / "results.json").read_text())
    table = next(sh.table for sh in slides[4].shapes if sh.has_table)
    cells = {
        table.cell(r, 0).text: [table.cell(r, c).text for c in range(len(table.columns))]
        for r in range(1, len(table.rows))
    }
    for m in results["models"]:
        assert f"{m['test']['accuracy']:.4f}" in cells[m["name"]] and f"{m['test']['roc_auc']:.4f}" in cells[m["name"]]
    assert "https://huggingface.co/spaces/u/demo" in " ".join(
        sh.text_frame.text for sh in slides[-1].shapes if sh.has_text_frame
    )
    assert "transformer wins on test accuracy" in slides[4].notes_slide.notes_text_frame.text


def test_slides_show_a_runs_own_balance_and_examples_figures_side_by_side(lineup, tmp_path):
    """A run with its own examples figure (images, time series) gets it and the class balance on half the data
    slide each, not the paper's one-line overview, where a tall examples figure is a thumbnail."""
    from PIL import Image
    from pptx import Presentation
    from pptx.util import Emu

    Image.new("RGB", (900, 500), "white").save(lineup / "class_balance.png")
    Image.new("RGB", (960, 1152), "white").save(lineup / "examples.png")  # 6 classes of series: tall
    (path,) = write_report([lineup], tmp_path / "report", formats=("pptx",))
    deck = Presentation(str(path))
    slide = next(s for s in deck.slides if s.shapes.title.text.startswith("The data"))
    balance, examples = sorted((sh for sh in slide.shapes if sh.shape_type == 13), key=lambda sh: sh.left)
    width, height = Emu(deck.slide_width), Emu(deck.slide_height)
    assert balance.left + balance.width <= width / 2 <= examples.left and examples.left + examples.width <= width
    assert examples.top + examples.height <= height and examples.height > height / 2  # as tall as the slide allows
    assert abs(examples.width / examples.height - 960 / 1152) < 0.01


def test_notebook_is_written_executed_and_reexecutes(lineup, tmp_path):
    import nbformat

    from training.reporting.notebook import check_executes

    (path,) = write_report([lineup], tmp_path / "report", formats=("ipynb",))
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert len(code) >= 8 and all(c.execution_count for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # the figures, redrawn
    assert sum("text/html" in o.get("data", {}) for o in outputs) >= 3  # the tables, from pandas
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "python training/train_text.py --output_dir outputs/text --seed 7" in printed
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## 6. Results" in markdown and "transformer** wins on test accuracy" in markdown
    rerun = check_executes(path)  # a fresh kernel, from the notebook's own folder
    assert all(c.execution_count for c in rerun.cells if c.cell_type == "code")


def test_formats_chosen_and_a_failing_renderer_costs_only_itself(lineup, tmp_path, monkeypatch, capsys):
    from training.reporting import paper

    out = tmp_path / "report"
    code, err = run_main(
        report_main, "report.py", [str(lineup), "--output_dir", str(out), "--formats", "pdf,docx"], capsys
    )
    assert code == 2 and "--formats: unknown docx; choose from md, html, pdf, pptx, ipynb" in err and not out.exists()

    def broken(*args, **kwargs):
        raise RuntimeError("typst is broken")

    monkeypatch.setattr(paper, "write_pdf", broken)
    code, err = run_main(
        report_main, "report.py", [str(lineup), "--output_dir", str(out), "--formats", "md,pdf,pptx"], capsys
    )
    assert code == 2 and "could not write report.pdf (RuntimeError: typst is broken)" in err
    assert "Written: report.md, slides.pptx" in err
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.md", "slides.pptx"]  # no half-written PDF
