"""Ablations: each variant a real training run in its own folder, tabulated; finished variants are
kept when the command is run again; unknown ablations are refused before anything runs."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_main, sentiment_csv_args
from training.experiments.ablate import ablations
from training.experiments.ablate import main as ablate_main


def test_documented_ablations_and_bad_names(tmp_path, capsys):
    assert set(ablations("image")) == {"batchnorm", "dropout", "backbone", "optimizer", "batch_size"}
    assert set(ablations("text")) == {"glove", "optimizer", "batch_size"}
    assert set(ablations("timeseries")) == {"normalization", "network", "pretraining", "optimizer", "batch_size"}
    assert ["--models", "scratch-complex", "--normalize", "none"] in dict(
        ablations("timeseries")["normalization"]
    ).values()
    sgd = dict(ablations("image")["optimizer"])["SGD momentum 0.9"]
    assert sgd[sgd.index("--optim_args") + 1] == "momentum=0.9" and "--learning_rate" in sgd
    code, err = run_main(
        ablate_main,
        "ablate.py",
        ["--task", "text", "--ablations", "batchnorm", "--output_dir", str(tmp_path / "out")],
        capsys,
    )
    assert code == 2 and "unknown ablation(s) batchnorm for text" in err and not (tmp_path / "out").exists()
    code, err = run_main(ablate_main, "ablate.py", ["--task", "audio"], capsys)
    assert code == 2 and "--task must be text, image, timeseries" in err


@pytest.mark.slow
def test_optimizer_ablation_runs_tabulates_and_resumes(tmp_path):
    output = tmp_path / "ablations"
    data_args = sentiment_csv_args(tmp_path / "reviews.csv")
    script = [sys.executable, str(ROOT / "training" / "ablate.py")]
    own = ["--task", "text", "--ablations", "optimizer", "--output_dir", str(output)]
    training = ["--num_train_epochs", "1", "--max_seq_length", "16", "--vocab_size", "200", "--latency_samples", "2"]
    command = [*script, *own, "--", *data_args, *training]
    first = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    rows = json.loads((output / "ablations.json").read_text())["optimizer"]
    assert [r["variant"] for r in rows] == ["AdamW", "SGD momentum 0.9", "RMSprop"]
    optims = [
        json.loads((output / "optimizer" / d / "results.json").read_text())["models"][0]["hyperparameters"]
        for d in ("adamw", "sgd-momentum-0-9", "rmsprop")
    ]
    assert [h["optim"] for h in optims] == ["adamw_torch", "sgd", "rmsprop"]
    assert optims[1]["learning_rate"] == pytest.approx(10 * optims[0]["learning_rate"])
    assert "| SGD momentum 0.9 |" in (output / "ablations.md").read_text()
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert again.returncode == 0 and "$ " not in again.stdout  # every variant was finished: nothing retrained
