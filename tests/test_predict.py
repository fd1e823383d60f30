"""training/predict.py: predictions for new files, folders and runs, equal to the pipeline's; competition
submissions in the sample's form; and bad input ending in one message, exit code 2 and no output file."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, sentiment_data, write_csv, write_image
from tests.test_timeseries_data import long_frame, waves, wide_frame
from tests.tiny_models import tiny_resnet
from training.core.ensemble import save_ensemble
from training.core.fields import join_fields
from training.inference.predict import main

QUICK = ["--num_train_epochs", "1", "--max_seq_length", "16", "--vocab_size", "200", "--latency_samples", "2",
         "--top_losses", "0", "--seed", "3"]  # fmt: skip


def call(entry, script: str, argv: list[str]) -> int:
    """A command's ``main`` run in-process as the command line would; its exit code (0: success)."""
    import sys

    from training.core.errors import run_cli

    old, sys.argv = sys.argv, [script, *argv]
    try:
        run_cli(entry)
    except SystemExit as exit_info:
        return int(exit_info.code or 0)
    finally:
        sys.argv = old
    return 0


def predict(argv: list[str], capsys) -> tuple[int | None, str]:
    code = call(main, "predict.py", argv)
    return (None if code == 0 else code), capsys.readouterr().err


def train(script: str, argv: list[str]) -> None:
    from importlib import import_module

    assert call(import_module(f"training.{script}").main, f"{script}.py", argv) == 0


def read(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def pipeline_scores(task: str, model_dir, inputs: list, **kwargs) -> list[dict[str, float]]:
    from transformers import pipeline

    classifier = pipeline(task, model=str(model_dir), trust_remote_code=True, device="cpu")
    return [{s["label"]: s["score"] for s in answer} for answer in classifier(inputs, top_k=None, **kwargs)]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """Two scratch models and their ensemble trained on reviews; one more trained on two joined columns with its
    classes renamed (``--class_names``)."""
    tmp = tmp_path_factory.mktemp("predict_text")
    rows = [{**r, "topic": r["review"].split()[2]} for r in sentiment_data()]
    data = write_csv(tmp / "reviews.csv", rows)
    base = ["--train_file", str(data), "--label_column", "sentiment", *QUICK]
    train("train_text", [*base, "--text_column", "review", "--models", "scratch-simple,scratch-complex,ensemble",
                         "--output_dir", str(tmp / "run")])  # fmt: skip
    train("train_text", [*base, "--text_column", "topic,review", "--models", "scratch-simple", "--class_names",
                         "bad,good", "--output_dir", str(tmp / "joined")])  # fmt: skip
    return tmp


def test_a_run_predicts_with_each_model_as_its_pipeline_does(text_run, tmp_path, capsys):
    texts = ["a superb concert number 2", "a dreadful hotel number 4", "an evening out", "NA"]
    inputs = write_csv(tmp_path / "new.csv", [{"id": f"x{i}", "review": t} for i, t in enumerate(texts)])
    code, err = predict(["--run", str(text_run / "run"), "--input_file", str(inputs), "--id_column", "id",
                         "--output", str(tmp_path / "out.csv"), "--batch_size", "3"], capsys)  # fmt: skip
    assert code is None, err
    rows = read(tmp_path / "out.csv")
    assert [r["id"] for r in rows] == ["x0", "x1", "x2", "x3"]
    for name in ("scratch-simple", "scratch-complex", "ensemble"):
        # batch_size as any pipeline takes it, the ensemble's too
        expected = pipeline_scores("text-classification", text_run / "run" / name, texts, truncation=True, batch_size=3)
        for row, scores in zip(rows, expected, strict=True):
            assert row[f"{name}_label"] == max(scores, key=scores.get)
            for label, score in scores.items():
                assert float(row[f"{name}_probability_{label}"]) == pytest.approx(score, abs=1e-5)
    assert not list(tmp_path.glob(".out.csv*"))  # the temporary file was renamed into place


def test_joined_columns_and_renamed_classes_come_from_the_model(text_run, tmp_path, capsys):
    """The model's config carries its input columns and its classes as the data spelled them."""
    config = json.loads((text_run / "joined" / "scratch-simple" / "config.json").read_text())
    assert config["input_columns"] == ["topic", "review"] and config["label_values"] == ["negative", "positive"]
    rows = [{"id": "a", "topic": "film", "review": "a superb film number 1"},
            {"id": "b", "topic": "", "review": "a dreadful meal number 3"}]  # fmt: skip
    inputs = write_csv(tmp_path / "new.csv", rows)
    code, err = predict(["--model", str(text_run / "joined" / "scratch-simple"), "--input_file", str(inputs),
                         "--output", str(tmp_path / "out.csv")], capsys)  # fmt: skip
    assert code is None, err
    joined = [join_fields({"topic": r["topic"], "review": r["review"]}) for r in rows]
    expected = pipeline_scores("text-classification", text_run / "joined" / "scratch-simple", joined)
    got = read(tmp_path / "out.csv")
    assert [r["row"] for r in got] == ["1", "2"]
    assert float(got[1]["probability_good"]) == pytest.approx(expected[1]["good"], abs=1e-5)
    # A submission spells the classes as the training data did, in the sample's order of ids.
    write_csv(tmp_path / "sample.csv", [{"id": "b", "sentiment": "x"}, {"id": "a", "sentiment": "x"}])
    code, err = predict(["--model", str(text_run / "joined" / "scratch-simple"), "--input_file", str(inputs),
                         "--sample_submission", str(tmp_path / "sample.csv"), "--output", str(tmp_path / "sub.csv")],
                        capsys)  # fmt: skip
    assert code is None, err
    submission = read(tmp_path / "sub.csv")
    assert [r["id"] for r in submission] == ["b", "a"]
    expected_labels = {"a": got[0]["label"], "b": got[1]["label"]}
    spelled = {"bad": "negative", "good": "positive"}
    assert all(r["sentiment"] == spelled[expected_labels[r["id"]]] for r in submission)


def test_submissions_of_probabilities_class_columns_and_a_threshold(text_run, tmp_path, capsys):
    model = str(text_run / "run" / "scratch-simple")
    texts = {"p": "a superb concert number 2", "q": "a dreadful hotel number 4", "r": "a meal"}
    inputs = write_csv(tmp_path / "new.csv", [{"id": k, "review": v} for k, v in texts.items()])
    expected = dict(zip(texts, pipeline_scores("text-classification", model, list(texts.values())), strict=True))
    write_csv(tmp_path / "probability.csv", [{"id": k, "target": 0} for k in texts])
    out = tmp_path / "probability-out.csv"
    code, err = predict(["--model", model, "--input_file", str(inputs), "--sample_submission",
                         str(tmp_path / "probability.csv"), "--submission_value", "probability", "--output", str(out)],
                        capsys)  # fmt: skip
    assert code is None, err
    assert {r["id"]: float(r["target"]) for r in read(out)} == pytest.approx(
        {k: v["positive"] for k, v in expected.items()}, abs=1e-5
    )
    write_csv(tmp_path / "classes.csv", [{"id": k, "positive": 0, "negative": 0} for k in texts])
    out = tmp_path / "classes-out.csv"
    code, err = predict(["--model", model, "--input_file", str(inputs), "--sample_submission",
                         str(tmp_path / "classes.csv"), "--output", str(out)], capsys)  # fmt: skip
    assert code is None, err
    assert list(read(out)[0]) == ["id", "positive", "negative"]
    assert float(read(out)[1]["negative"]) == pytest.approx(expected["q"]["negative"], abs=1e-5)
    # A threshold above every probability of the positive class: every prediction is the other class.
    out = tmp_path / "threshold.csv"
    top = max(v["positive"] for v in expected.values())
    code, err = predict(["--model", model, "--input_file", str(inputs), "--id_column", "id", "--decision_threshold",
                         str(min(top + (1 - top) / 2, 0.999)), "--output", str(out)], capsys)  # fmt: skip
    assert code is None, err
    assert {r["label"] for r in read(out)} == {"negative"}


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda p: write_csv(p, [{"id": 1, "body": "x"}]), [], "lacks the column(s) 'review' that the model needs"),
        (lambda p: p.write_text(""), [], "is empty"),
        (lambda p: p.write_text("id,review\n"), [], "holds nothing to predict"),
        (lambda p: write_csv(p, [{"id": 1, "review": "a b"}]), ["--sample_submission", "SAMPLE"], "ids do not match"),
        (lambda p: write_csv(p, [{"id": 1, "review": "a b"}]), ["--id_column", "key"], "lacks the column(s) 'key'"),
        (lambda p: write_csv(p, [{"id": 1, "review": "a b"}]), ["--decision_threshold", "1.5"], "between 0 and 1"),
    ],
)
def test_bad_input_ends_in_one_message_and_no_output(text_run, tmp_path, capsys, make, extra, message):
    make(tmp_path / "new.csv")
    write_csv(tmp_path / "sample.csv", [{"id": 2, "target": 0}, {"id": 3, "target": 0}])
    extra = [str(tmp_path / "sample.csv") if a == "SAMPLE" else a for a in extra]
    out = tmp_path / "out.csv"
    code, err = predict(["--model", str(text_run / "run" / "scratch-simple"), "--input_file", str(tmp_path / "new.csv"),
                         "--output", str(out), *extra], capsys)  # fmt: skip
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not out.exists() and not list(tmp_path.glob(".out.csv*"))


def test_models_that_are_not_ours_or_cannot_be_found_are_one_message(text_run, tmp_path, capsys):
    inputs = write_csv(tmp_path / "new.csv", [{"review": "a b"}])
    (tmp_path / "empty").mkdir()
    cases = [(str(tmp_path / "empty"), "has no config.json"), (str(tmp_path / "nope"), "not a model folder"),
             ("someone/no-such-model", "could not load the model config of Hub model id")]  # fmt: skip
    for model, message in cases:
        code, err = predict(
            ["--model", model, "--input_file", str(inputs), "--output", str(tmp_path / "o.csv")], capsys
        )
        assert code == 2 and message in err and "Traceback" not in err, err
    code, err = predict(["--run", str(text_run / "run"), "--model_name", "bert", "--input_file", str(inputs),
                         "--output", str(tmp_path / "o.csv")], capsys)  # fmt: skip
    assert code == 2 and "has no model 'bert'" in err
    (tmp_path / "o.csv").write_text("keep")
    argv = ["--run", str(text_run / "run"), "--input_file", str(inputs), "--output", str(tmp_path / "o.csv")]
    code, err = predict(argv, capsys)
    assert code == 2 and "--overwrite_output" in err and (tmp_path / "o.csv").read_text() == "keep"
    assert not list(tmp_path.glob(".o.csv*"))


def test_an_interrupted_run_leaves_no_output(text_run, tmp_path, capsys, monkeypatch):
    """A failure after the first chunk was written: the partial file is removed, nothing is renamed into place."""
    from training.inference import classifiers

    inputs = write_csv(tmp_path / "new.csv", [{"review": f"a superb film number {i}"} for i in range(10)])
    original, calls = classifiers._batched, []

    def failing(*args, **kwargs):
        inner = original(*args, **kwargs)

        def probabilities(batch):
            calls.append(len(batch))
            if len(calls) > 1:
                raise KeyboardInterrupt
            return inner(batch)

        return probabilities

    monkeypatch.setattr(classifiers, "_batched", failing)
    with pytest.raises(KeyboardInterrupt):
        main(["--model", str(text_run / "run" / "scratch-simple"), "--input_file", str(inputs), "--chunk_size", "4",
              "--output", str(tmp_path / "out.csv")])  # fmt: skip
    assert calls == [4, 4] and not (tmp_path / "out.csv").exists() and not list(tmp_path.glob(".out.csv*"))


@pytest.fixture(scope="module")
def image_models(tmp_path_factory):
    """Two tiny image classifiers of two classes and their ensemble, and a folder of new images (one in a subfolder,
    one that does not decode)."""
    tmp = tmp_path_factory.mktemp("predict_images")
    for name in ("first", "second"):
        tiny_resnet(tmp / "run" / name, num_labels=2)
    save_ensemble(tmp / "run" / "ensemble", [{"name": "first", "weight": 0.6}, {"name": "second", "weight": 0.4}],
                  ["LABEL_0", "LABEL_1"], "image-classification")  # fmt: skip
    for i in range(5):
        write_image(tmp / "test" / ("nested" if i == 4 else "") / f"img{i}.png", seed=i)
    (tmp / "test" / "broken.png").write_bytes(b"not an image")
    return tmp


def test_images_of_a_folder_are_predicted_as_the_pipeline_does(image_models, tmp_path, capsys, caplog):
    for name in ("first", "ensemble"):
        out = tmp_path / f"{name}.csv"
        code, err = predict(["--model", str(image_models / "run" / name), "--image_dir", str(image_models / "test"),
                             "--output", str(out), "--batch_size", "2", "--num_workers", "1"], capsys)  # fmt: skip
        assert code is None, err
        assert "1 image file(s) cannot be decoded" in caplog.text and "broken.png" in caplog.text
        rows = read(out)
        assert [r["id"] for r in rows] == ["img0", "img1", "img2", "img3", "nested/img4"]
        files = [str(image_models / "test" / f"{r['id']}.png") for r in rows]
        expected = pipeline_scores("image-classification", image_models / "run" / name, files)
        for row, scores in zip(rows, expected, strict=True):
            assert float(row["probability_LABEL_1"]) == pytest.approx(scores["LABEL_1"], abs=1e-5)
    code, err = predict(["--model", str(image_models / "run" / "first"), "--image_dir", str(image_models / "test"),
                         "--strict_images", "--output", str(tmp_path / "strict.csv"), "--num_workers", "0"],
                        capsys)  # fmt: skip
    assert code == 2 and "broken.png" in err and not (tmp_path / "strict.csv").exists()


def test_an_image_submission_from_a_csv_of_ids(image_models, tmp_path, capsys):
    """Ids with or without the file extension; the sample's order; the positive class's probability."""
    ids = write_csv(tmp_path / "ids.csv", [{"id": "img3"}, {"id": "img1.png"}, {"id": "nested/img4"}])
    write_csv(tmp_path / "sample.csv", [{"id": i, "label": 0} for i in ("nested/img4", "img1.png", "img3")])
    out = tmp_path / "sub.csv"
    code, err = predict(["--model", str(image_models / "run" / "second"), "--image_dir", str(image_models / "test"),
                         "--input_file", str(ids), "--sample_submission", str(tmp_path / "sample.csv"),
                         "--submission_value", "probability", "--output", str(out)], capsys)  # fmt: skip
    assert code is None, err
    rows = read(out)
    assert [r["id"] for r in rows] == ["nested/img4", "img1.png", "img3"]
    expected = pipeline_scores("image-classification", image_models / "run" / "second",
                               [str(image_models / "test" / "nested" / "img4.png")])  # fmt: skip
    assert float(rows[0]["label"]) == pytest.approx(expected[0]["LABEL_1"], abs=1e-5)
    missing = write_csv(tmp_path / "missing.csv", [{"id": "img9"}])
    code, err = predict(["--model", str(image_models / "run" / "second"), "--image_dir", str(image_models / "test"),
                         "--input_file", str(missing), "--output", str(tmp_path / "m.csv")], capsys)  # fmt: skip
    assert code == 2 and "1 id(s) of" in err and "img9" in err


@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict_series")
    series, labels = waves(count=40, length=24, channels=2)
    long_frame(series, labels).to_csv(tmp / "motion.csv", index=False)
    train("train_timeseries", ["--train_file", str(tmp / "motion.csv"), "--series_id_column", "id", "--time_column",
                               "time", "--models", "scratch-simple", "--num_train_epochs", "1", "--latency_samples",
                               "2", "--top_losses", "0", "--output_dir", str(tmp / "run")])  # fmt: skip
    return tmp


def test_time_series_from_a_long_table_and_the_wrong_channel_count(series_run, tmp_path, capsys):
    series, labels = waves(count=3, length=24, channels=2, seed=7)
    long_frame(series, labels).drop(columns="label").to_csv(tmp_path / "new.csv", index=False)
    model = str(series_run / "run" / "scratch-simple")
    code, err = predict(["--model", model, "--input_file", str(tmp_path / "new.csv"), "--series_id_column", "id",
                         "--time_column", "time", "--output", str(tmp_path / "out.csv")], capsys)  # fmt: skip
    assert code is None, err
    rows = read(tmp_path / "out.csv")
    assert sorted(r["row"] for r in rows) == ["s0", "s1", "s2"]
    expected = pipeline_scores("time-series-classification", model, [s.tolist() for s in series])
    for row in rows:
        scores = expected[int(row["row"][1:])]
        assert float(row["probability_sine"]) == pytest.approx(scores["sine"], abs=1e-5)
    one_channel, _ = waves(count=3, length=24, channels=1, seed=7)
    wide_frame(one_channel, labels).drop(columns="label").to_csv(tmp_path / "wide.csv", index=False)
    code, err = predict(["--model", model, "--input_file", str(tmp_path / "wide.csv"), "--output",
                         str(tmp_path / "wide-out.csv")], capsys)  # fmt: skip
    assert code == 2 and "reads series of 2 channel(s), but 3 series have another count" in err
    assert not (tmp_path / "wide-out.csv").exists()


def readme_commands(heading: str) -> list[list[str]]:
    """The shell commands of each bash block of a README section, continuations joined, comments dropped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.replace("\\\n", " ") for block in re.findall(r"```bash\n(.*?)```", section, re.S)]
    return [[line.strip() for line in b.splitlines() if line.strip() and not line.startswith("#")] for b in blocks]


@pytest.mark.slow
def test_readme_competition_commands_run_as_written(tmp_path):
    """The README's two competitions, as printed there, on small made-up files in the competitions' layouts: each
    training command, then its submission in the sample's form."""
    sys.path.insert(0, str(ROOT / "bench"))
    from patches import write_competition

    tweets, cancer = readme_commands("## Predictions for new data and competition submissions")
    data = tmp_path / "data" / "tweets"
    data.mkdir(parents=True)
    words = {1: ["fire", "flood", "earthquake", "evacuation", "storm"], 0: ["lovely", "music", "lunch", "film", "game"]}
    rows = [
        {
            "id": i,
            "keyword": words[i % 2][i % 5] if i % 3 else "",
            "location": "",
            "target": i % 2,
            "text": f"{words[i % 2][(i // 2) % 5]} {words[i % 2][(i // 3) % 5]} today number {i}",
        }
        for i in range(80)
    ]
    write_csv(data / "train.csv", rows, ["id", "keyword", "location", "text", "target"])
    write_csv(data / "test.csv", [{k: v for k, v in r.items() if k != "target"} | {"id": 1000 + r["id"]}
                                  for r in rows[:12]])  # fmt: skip
    write_csv(data / "sample_submission.csv", [{"id": 1000 + r["id"], "target": 0} for r in reversed(rows[:12])])
    write_competition(tmp_path / "data" / "cancer", train=60, test=8, seed=1, workers=1)
    (tmp_path / "training").symlink_to(ROOT / "training")  # the commands run from a checkout's root
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in [*tweets, *cancer]:
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (command, result.stderr[-3000:])
    submission = read(tmp_path / "outputs" / "tweets" / "submission.csv")
    assert list(submission[0]) == ["id", "target"] and [r["id"] for r in submission] == [
        str(1000 + r["id"]) for r in reversed(rows[:12])
    ]
    assert {r["target"] for r in submission} <= {"0", "1"}
    sample = read(tmp_path / "data" / "cancer" / "sample_submission.csv")
    patches = read(tmp_path / "outputs" / "cancer" / "submission.csv")
    assert [r["id"] for r in patches] == [r["id"] for r in sample]
    assert all(0 <= float(r["label"]) <= 1 for r in patches)
