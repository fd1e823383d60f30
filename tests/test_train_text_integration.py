"""The whole text pipeline on a tiny subset: every model trained, saved, and reloaded in a fresh
process that never imports this project, through pipeline(..., trust_remote_code=True)."""

import csv
import json
import re
from pathlib import Path

import pytest

from tests.conftest import check_ensemble, check_model_card, run_in_fresh_process, run_script, write_csv
from tests.test_report import pdf_pages, requires_pdf_tools
from training.reporting.report import write_report
from training.text.lineup import TEXT_MODELS

pytestmark = pytest.mark.slow

RELOAD = r"""
import json, sys
from transformers import pipeline
model_dir, texts = sys.argv[1], json.load(open(sys.argv[2]))
assert not any(name == "training" or name.startswith("training.") for name in sys.modules)
classifier = pipeline("text-classification", model=model_dir, trust_remote_code=True, device="cpu")
print(json.dumps([r for r in classifier(texts, truncation=True, batch_size=1)]))
"""


def bbc_headlines(path: Path) -> Path:
    """A small real dataset: the headline (first line) of 24 BBC articles per class."""
    from training.text.data import _load_bbc_news

    corpus = _load_bbc_news()["train"]
    per_class: dict[str, list[str]] = {}
    for text, label in zip(corpus["text"], corpus["label"], strict=True):
        per_class.setdefault(label, [])
        if len(per_class[label]) < 24:
            per_class[label].append(text.splitlines()[0])
    rows = [{"headline": t, "topic": label} for label, texts in per_class.items() for t in texts]
    return write_csv(path, rows)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("text_run")
    data = bbc_headlines(tmp / "headlines.csv")
    output = tmp / "out"
    args = [
        "--train_file", str(data),
        "--text_column", "headline", "--label_column", "topic", "--output_dir", str(output),
        "--num_train_epochs", "2", "--max_seq_length", "32", "--vocab_size", "500", "--glove_vocab_size", "2000",
        "--per_device_train_batch_size", "16", "--latency_samples", "3", "--seed", "7",
        "--test_split_percentage", "20", "--validation_split_percentage", "20",
        "--ensemble_weights", "stacking",  # its 24 validation headlines would weigh by likelihood (core/ensemble.py)
    ]  # fmt: skip
    run_script("train_text.py", args, cwd=tmp)
    return output


def test_run_writes_the_documented_layout(trained):
    dataset = json.loads((trained / "dataset.json").read_text())
    # 120 headlines; identical ones (two BBC articles share a headline) are removed before splitting.
    duplicates = dataset["notes"]["duplicates_removed"]["train"]
    assert dataset["num_examples"] == {"train": 120 - duplicates - 48, "validation": 24, "test": 24}
    assert set(dataset["class_balance"]["train"]["tech"]) == {"count", "share"}
    assert {"words", "characters"} <= set(dataset["statistics"]["train"])
    assert len(dataset["examples"]["sports"]) == 3
    assert (trained / "class_balance.png").stat().st_size > 1000
    results = json.loads((trained / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == [*TEXT_MODELS, "ensemble"]
    assert results["primary_metric"] == "accuracy" and "balanced" in results["primary_metric_reason"]
    assert set(results["overfitting"]) == {*TEXT_MODELS, "ensemble"}
    assert "| model | kind | accuracy * |" in (trained / "comparison.md").read_text()
    for name in TEXT_MODELS:
        metrics = json.loads((trained / name / "metrics.json").read_text())
        for key in ("name", "kind", "architecture", "num_parameters", "train_runtime_s", "train_samples_per_second",
                    "inference_ms_per_sample", "history"):  # fmt: skip
            assert metrics[key] is not None, (name, key)
        assert metrics["kind"] == TEXT_MODELS[name].kind
        assert len(metrics["history"]) == 2 and "train_loss" in metrics["history"][0]
        assert "validation_loss" in metrics["history"][0] and "validation_accuracy" in metrics["history"][0]
        for split in ("train", "validation", "test"):
            assert {"accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted", "roc_auc", "per_class",
                    "confusion_matrix"} <= set(metrics[split])  # fmt: skip
        assert sum(map(sum, metrics["test"]["confusion_matrix"])) == 24
        for file in ("config.json", "model.safetensors", "tokenizer.json", "confusion_matrix.png",
                     "learning_curves.png", "predictions.csv"):  # fmt: skip
            assert (trained / name / file).is_file(), (name, file)
        assert not (trained / name / "checkpoints").exists()
        assert not (trained / name / "training_args.bin").exists()  # a pickle that may hold a token
        config = json.loads((trained / name / "config.json").read_text())
        assert config["id2label"]["0"] == "business"
        tokenizer_config = json.loads((trained / name / "tokenizer_config.json").read_text())
        assert tokenizer_config["model_max_length"] == 32  # the training truncation, for pipeline(truncation=True)
        if name != "transformer":
            assert "AutoModelForSequenceClassification" in config["auto_map"]
            assert config["max_sequence_length"] == 32


@pytest.mark.parametrize("name", [*TEXT_MODELS, "ensemble"])
def test_saved_model_reloads_in_a_fresh_process_with_the_same_predictions(trained, tmp_path, name):
    with (trained / name / "predictions.csv").open(encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    texts_file = tmp_path / "texts.json"
    texts_file.write_text(json.dumps([row["input"] for row in expected]))
    predictions = json.loads(run_in_fresh_process(RELOAD, [str(trained / name), str(texts_file)], tmp_path))
    assert [p["label"] for p in predictions] == [row["predicted"] for row in expected]
    for got, row in zip(predictions, expected, strict=True):
        assert got["score"] == pytest.approx(float(row["confidence"]), abs=1e-4)


def test_model_card_is_valid_and_its_snippet_runs(trained, tmp_path):
    assert all((trained / name / "README.md").is_file() for name in TEXT_MODELS)
    check_model_card(trained / "glove-lstm", tmp_path)


def test_the_run_records_how_it_was_made(trained):
    record = json.loads((trained / "results.json").read_text())["provenance"]
    assert record["command"].startswith("python training/train_text.py --train_file ")
    assert "--seed 7" in record["command"] and "--num_train_epochs 2" in record["command"]
    assert record["arguments"]["training"]["seed"] == 7 and record["arguments"]["data"]["text_column"] == "headline"
    assert record["arguments"]["run"]["models"] == "all" and "hub_token" not in record["arguments"]["training"]
    assert {"python", "torch", "transformers", "datasets"} <= set(record["packages"])
    assert record["git"] is None or len(record["git"]["commit"]) == 40
    card = (trained / "glove-lstm" / "README.md").read_text()
    assert record["command"] in card and "transformers " + record["packages"]["transformers"] in card


@requires_pdf_tools
def test_the_hand_in_from_a_real_run(trained, tmp_path):
    """All five formats from a real run: at most three pages of main text (the curves and the top losses take the
    third), the slides, the executed notebook."""
    import nbformat
    from pptx import Presentation

    paths = write_report([trained], tmp_path / "report")
    assert [p.name for p in paths] == ["report.md", "report.html", "report.pdf", "slides.pptx", "report.ipynb"]
    pages = pdf_pages(tmp_path / "report" / "report.pdf")
    assert next(i for i, page in enumerate(pages) if page.lstrip().startswith("Appendix")) <= 3
    assert 8 <= len(Presentation(str(tmp_path / "report" / "slides.pptx")).slides) <= 12
    notebook = nbformat.read(tmp_path / "report" / "report.ipynb", as_version=4)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not [o for o in outputs if o.output_type == "error"]


def test_resume_keeps_finished_models_and_overwrite_replaces(trained, tmp_path):
    before = (trained / "results.json").read_text()
    args = ["--output_dir", str(trained), "--models", "scratch-simple", "--resume_from_checkpoint", "true"]
    assert "finished in an earlier run" in run_script("train_text.py", args, cwd=tmp_path)
    results = json.loads((trained / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == ["scratch-simple"]
    assert before != (trained / "results.json").read_text()


def test_several_text_columns_train_and_the_card_joins_them_as_trained(tmp_path):
    """--text_column keyword,headline: one input in the documented format; the card's snippet builds its
    input from the fields in that format and runs in a fresh process."""
    rows = list(csv.DictReader(bbc_headlines(tmp_path / "headlines.csv").open(encoding="utf-8")))
    for i, row in enumerate(rows):
        row["keyword"] = "" if i % 4 == 0 else row["headline"].split()[0].lower()
    data = write_csv(tmp_path / "two_columns.csv", rows)
    output = tmp_path / "out"
    args = [
        "--train_file", str(data), "--text_column", "keyword,headline", "--label_column", "topic",
        "--output_dir", str(output), "--models", "scratch-simple", "--num_train_epochs", "1", "--vocab_size", "300",
        "--latency_samples", "2", "--test_split_percentage", "20", "--validation_split_percentage", "20",
    ]  # fmt: skip
    run_script("train_text.py", args, cwd=tmp_path)
    dataset = json.loads((output / "dataset.json").read_text())
    assert dataset["input_fields"] == ["keyword", "headline"]
    examples = [t for texts in dataset["examples"].values() for t in texts]
    assert all(re.fullmatch(r"(keyword: \S+ \| )?headline: .+", t) for t in examples), examples
    card = (output / "scratch-simple" / "README.md").read_text()
    assert "`keyword: <keyword> | headline: <headline>`" in card and "fields = {'keyword': " in card
    check_model_card(output / "scratch-simple", tmp_path)


def test_the_ensemble_is_the_weighted_vote_of_the_others_and_is_carded(trained, tmp_path):
    check_ensemble(trained, list(TEXT_MODELS), "text-classification", tmp_path, weighing="stacking")
