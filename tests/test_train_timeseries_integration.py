"""The whole time-series pipeline on a small multivariate long table of unequal lengths: every model trained,
saved, carded and reloaded in a fresh process that never imports this project, through pipeline(...,
trust_remote_code=True); bad input to the script ends with one message and nothing written."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import check_ensemble, check_model_card, run_in_fresh_process, run_main, run_script
from tests.test_timeseries_data import long_frame, waves, wide_frame
from training.timeseries.lineup import TIMESERIES_MODELS
from training.train_timeseries import load_data, main, parse

LINEUP = [*TIMESERIES_MODELS, "ensemble"]

RELOAD = r"""
import json, sys
from transformers import pipeline
model_dir, series = sys.argv[1], json.load(open(sys.argv[2]))
assert not any(name == "training" or name.startswith("training.") for name in sys.modules)
classifier = pipeline(model=model_dir, trust_remote_code=True, device="cpu")
print(json.dumps([classifier(s, top_k=None) for s in series]))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("timeseries_run")
    series, labels = waves(count=60, length=24, channels=2)
    series = [s[:, :18] if i % 3 == 1 else s for i, s in enumerate(series)]  # unequal lengths (test[0] too)
    long_frame(series, labels).to_csv(tmp / "motion.csv", index=False)
    output = tmp / "out"
    args = [
        "--train_file", str(tmp / "motion.csv"), "--series_id_column", "id", "--time_column", "time",
        "--output_dir", str(output), "--num_train_epochs", "3", "--latency_samples", "3", "--seed", "7",
        "--pretraining_steps", "5",
    ]  # fmt: skip
    run_script("train_timeseries.py", args, cwd=tmp)
    return output


@pytest.mark.slow
def test_run_writes_the_documented_layout(trained):
    dataset = json.loads((trained / "dataset.json").read_text())
    assert dataset["num_examples"] == {"train": 48, "validation": 6, "test": 6}
    statistics = dataset["statistics"]["train"]
    assert statistics["channels"] == 2 and statistics["length"]["min"] == 18 and statistics["length"]["max"] == 24
    assert not statistics["equal_length"]
    assert (trained / "examples.png").stat().st_size > 10000
    results = json.loads((trained / "results.json").read_text())
    assert results["task"] == "time-series-classification"
    assert [m["name"] for m in results["models"]] == LINEUP
    for name in LINEUP:
        metrics = json.loads((trained / name / "metrics.json").read_text())
        assert set(metrics["test"]) >= {"accuracy", "f1_macro", "confusion_matrix"}
        assert (trained / name / "example.csv").is_file() and (trained / name / "confusion_matrix.png").is_file()
        if name != "ensemble" and metrics["test"]["accuracy"] < 1:  # its mistakes, each with its saliency curve
            assert (trained / name / "top_losses.png").is_file() and metrics["top_losses"][0]["length"] in (18, 24)
    pretrained = json.loads((trained / "pretrained" / "metrics.json").read_text())
    assert pretrained["kind"] == "pretrained" and pretrained["left_out"] == {} and len(pretrained["pretrained_on"]) == 8
    assert pretrained["pretraining"]["recipe"]["steps"] == 5 and pretrained["scratch_counterpart"] == "scratch-complex"
    assert "spread over the channels" in pretrained["architecture"]  # 2 channels from a one-channel network
    card = (trained / "pretrained" / "README.md").read_text()
    assert "**Base model**: the FCN pretrained by this project on 8 other aeon archives (ACSF1, ArrowHead," in card
    config = json.loads((trained / "scratch-complex" / "config.json").read_text())
    assert config["custom_pipelines"]["time-series-classification"]["impl"].startswith("processing_timeseries.")
    assert (trained / "scratch-complex" / "processing_timeseries.py").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TIMESERIES_MODELS))
def test_reloaded_in_a_fresh_process_answers_as_in_training(trained, tmp_path, name):
    """The saved pipeline gives, for a test series (one of the shorter ones, padded), the probabilities the run
    recorded for it, given as values or as the path of its CSV file."""
    probabilities = np.load(trained / name / "probabilities.npz")["test_probs"]
    steps = (trained / name / "example.csv").read_text().splitlines()[1:]  # example.csv is test[0]
    assert len(steps) == 18  # shorter than the longest (24): the pipeline pads and masks it as training did
    example = np.array([[float(v) for v in line.split(",")] for line in steps]).T.tolist()
    series_file = tmp_path / "series.json"
    series_file.write_text(json.dumps([example, str(trained / name / "example.csv")]))
    answers = json.loads(run_in_fresh_process(RELOAD, [str(trained / name), str(series_file)], tmp_path))
    labels = json.loads((trained / "results.json").read_text())["label_names"]
    for answer in answers:
        by_label = {a["label"]: a["score"] for a in answer}
        assert np.allclose([by_label[n] for n in labels], probabilities[0], atol=1e-5)


@pytest.mark.slow
def test_cards_and_ensemble(trained, tmp_path):
    check_model_card(trained / "scratch-complex", tmp_path)
    check_ensemble(trained, list(TIMESERIES_MODELS), "time-series-classification", tmp_path, weighing="likelihood")


def test_series_longer_than_the_longest_training_series_are_cut_and_said():
    """JapaneseVowels: one test series (29 steps) is longer than every training series (26 at most)."""
    data = load_data(parse(["--archive_dataset", "JapaneseVowels", "--output_dir", "unused"]))
    assert data.notes["max_length"] == 26
    assert data.notes["truncated"].startswith("series longer than 26 steps are cut to it (1 test; the longest")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--series_id_column", "serial"], "column 'serial' not found"),
        (["--models", "scratch-simple,lstm-fcn"], "unknown model name(s): lstm-fcn"),
        (["--normalize", "minmax"], "--normalize must be one of per_series, none"),
        (["--archive_dataset", "GunPoint"], "give one data source"),
    ],
)
def test_user_mistakes_end_with_one_message_and_no_output(tmp_path, capsys, extra, message):
    series, labels = waves(count=20, length=12)
    long_frame(series, labels).to_csv(tmp_path / "motion.csv", index=False)
    output = tmp_path / "out"
    argv = ["--train_file", str(tmp_path / "motion.csv"), "--series_id_column", "id", "--output_dir", str(output)]
    code, err = run_main(main, "train_timeseries.py", [*argv, *extra], capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not output.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.write_text(p.read_text() + "sine,1,2,3\n"), "t11) but line 22 has 4"),
        (lambda p: p.write_text(p.read_text().replace("\nsquare,", "\nsquare,abc,", 1)), "but line 3 has 14"),
        (lambda p: p.write_text(p.read_text().replace("square,", "sine,")), "single class"),
        (lambda p: wide_frame(*waves(count=20, length=2)).to_csv(p, index=False), "too short for a time-series model"),
        (lambda p: p.write_text(p.read_text().replace("\nsquare,", "\nsquare,x", 1)), "not a number at data row 2"),
    ],
    ids=["ragged", "extra-field", "single-class", "too-short", "non-numeric"],
)
def test_bad_data_ends_with_one_message_and_no_output(tmp_path, capsys, change, message):
    """The issue's bad inputs through the script: exit 2, the message, no traceback, nothing written."""
    path = tmp_path / "waves.csv"
    wide_frame(*waves(count=20, length=12)).to_csv(path, index=False)
    change(path)
    output = tmp_path / "out"
    code, err = run_main(main, "train_timeseries.py", ["--train_file", str(path), "--output_dir", str(output)], capsys)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not output.exists()


@pytest.mark.slow
def test_the_report_of_a_time_series_run(trained, tmp_path):
    """The paper, slides and notebook of a time-series run: its task named as such, the reference described,
    every model in the results; the notebook executes."""
    import nbformat
    from pptx import Presentation

    from training.reporting.report import write_report

    md, pdf, pptx, notebook = write_report([trained], tmp_path / "report", formats=("md", "pdf", "pptx", "ipynb"))
    text = md.read_text()
    assert "Classify each time series of motion.csv" in text
    assert "a reference baseline" in text and "fitted in closed form" in text
    assert all(f"| {name} |" in text for name in LINEUP)
    assert pdf.stat().st_size > 50_000
    slides = " ".join(shape.text_frame.text for slide in Presentation(pptx).slides for shape in slide.shapes
                      if shape.has_text_frame)  # fmt: skip
    assert "time series classifier" in slides
    cells = nbformat.read(notebook, as_version=4).cells
    assert any(cell.cell_type == "code" and cell.get("outputs") for cell in cells)
