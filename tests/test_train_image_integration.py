"""The whole image pipeline on a tiny folder dataset: every model trained, saved, and reloaded in a
fresh process that never imports this project, through pipeline(..., trust_remote_code=True).
Also checks that text and image runs write one schema."""

import csv
import json
import os
from pathlib import Path

import pytest

from tests.conftest import check_ensemble, check_model_card, digit_folders, run_in_fresh_process, run_script, write_csv
from training.image.lineup import IMAGE_MODELS

LINEUP = [*IMAGE_MODELS, "ensemble"]

pytestmark = pytest.mark.slow

RELOAD = r"""
import json, sys
from transformers import pipeline
model_dir, paths = sys.argv[1], json.load(open(sys.argv[2]))
assert not any(name == "training" or name.startswith("training.") for name in sys.modules)
classifier = pipeline("image-classification", model=model_dir, trust_remote_code=True, device="cpu")
size = None  # the ensemble has no processor: each member resizes for itself
if classifier.image_processor is not None:
    pixels = classifier.image_processor(__import__("PIL.Image").Image.new("RGB", (300, 200)), return_tensors="pt")
    size = list(pixels["pixel_values"].shape)
print(json.dumps({"size": size, "top": [classifier(p)[0] for p in paths]}))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("image_run")
    digit_folders(tmp / "train", per_class=24, size=64)
    digit_folders(tmp / "val", per_class=8, size=64, offset=24)
    (tmp / "train" / "digit_1" / "scan.jpg").write_bytes(b"\xff\xd8\xff not a picture")  # skipped, recorded
    output = tmp / "out"
    args = [
        "--train_dir", str(tmp / "train"),
        "--validation_dir", str(tmp / "val"), "--output_dir", str(output), "--num_train_epochs", "2",
        "--image_size", "32", "--per_device_train_batch_size", "16", "--latency_samples", "3", "--seed", "7",
    ]  # fmt: skip
    run_script("train_image.py", args, cwd=tmp)
    return output


def test_run_writes_the_documented_layout(trained):
    dataset = json.loads((trained / "dataset.json").read_text())
    assert dataset["num_examples"] == {"train": 72, "validation": 24, "test": 24}
    assert dataset["notes"]["skipped_files"]["count"] == 1
    assert dataset["notes"]["skipped_files"]["files"][0]["path"].endswith("scan.jpg")
    assert "doubles as the test split" in dataset["notes"]["split"]
    assert set(dataset["statistics"]["train"]["modes"]) == {"RGB", "L", "RGBA", "P"}
    assert dataset["examples"]["digit_7"][0].endswith(".png") or dataset["examples"]["digit_7"][0].endswith(".jpg")
    assert (trained / "examples.png").stat().st_size > 5000
    results = json.loads((trained / "results.json").read_text())
    assert results["task"] == "image-classification" and results["test_is_validation"] is True
    assert [m["name"] for m in results["models"]] == LINEUP
    assert "validation split doubles as the test split" in (trained / "comparison.md").read_text()
    for name in IMAGE_MODELS:
        metrics = json.loads((trained / name / "metrics.json").read_text())
        assert metrics["kind"] == IMAGE_MODELS[name].kind and metrics["image_size"] == 32
        # Images of 64-80 px count as photos: flips and crops on by default.
        assert metrics["hyperparameters"]["augmentation"] == "flip_crop"
        assert len(metrics["history"]) == 2 and sum(map(sum, metrics["test"]["confusion_matrix"])) == 24
        for file in ("config.json", "model.safetensors", "metrics.json", "confusion_matrix.png",
                     "learning_curves.png", "predictions.csv"):  # fmt: skip
            assert (trained / name / file).is_file(), (name, file)
        assert not (trained / name / "checkpoints").exists() and not (trained / name / "training_args.bin").exists()
    frozen = json.loads((trained / "pretrained-frozen" / "metrics.json").read_text())
    assert frozen["num_trainable_parameters"] == 1280 * 3 + 3 and frozen["backbone"] == "frozen"
    config = json.loads((trained / "pretrained" / "config.json").read_text())
    assert config["pretrained_cfg"]["input_size"] == [3, 32, 32]
    assert (
        "AutoModelForImageClassification"
        in json.loads((trained / "scratch-complex" / "config.json").read_text())["auto_map"]
    )


@pytest.mark.parametrize("name", LINEUP)
def test_saved_model_reloads_in_a_fresh_process_with_the_same_predictions(trained, tmp_path, name):
    with (trained / name / "predictions.csv").open(encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    paths_file = tmp_path / "paths.json"
    paths_file.write_text(json.dumps([row["input"] for row in expected]))
    reloaded = json.loads(run_in_fresh_process(RELOAD, [str(trained / name), str(paths_file)], tmp_path))
    if name != "ensemble":
        assert reloaded["size"] == [1, 3, 32, 32]  # the processor resizes to the training resolution
    assert [p["label"] for p in reloaded["top"]] == [row["predicted"] for row in expected]
    for got, row in zip(reloaded["top"], expected, strict=True):
        assert got["score"] == pytest.approx(float(row["confidence"]), abs=1e-4)


def test_model_card_is_valid_and_its_snippet_runs(trained, tmp_path):
    for name in LINEUP:
        assert (trained / name / "README.md").is_file() and (trained / name / "example.png").is_file()
    check_model_card(trained / "scratch-complex", tmp_path)


def test_the_ensemble_is_the_weighted_vote_of_the_others_and_is_carded(trained, tmp_path):
    """The image ensemble is the text one (core/ensemble.py); its card's snippet classifies the shipped image."""
    assert "example.png" in check_ensemble(
        trained, list(IMAGE_MODELS), "image-classification", tmp_path, weighing="likelihood"
    )


def test_text_and_image_runs_share_one_output_schema(trained, tmp_path):
    rows = [
        {"text": f"{w} item number {i}", "label": w} for i in range(12) for w in ("red", "blue", "green")
    ]  # 3 classes, as the images
    data = write_csv(tmp_path / "colours.csv", rows)
    text_output = tmp_path / "text"
    args = ["--train_file", str(data), "--output_dir", str(text_output), "--models", "scratch-simple",
            "--num_train_epochs", "1", "--vocab_size", "100", "--latency_samples", "2"]  # fmt: skip
    run_script("train_text.py", args, cwd=tmp_path)

    def load(root: Path, file: str) -> dict:
        return json.loads((root / file).read_text())

    assert set(os.listdir(text_output)) | {"examples.png"} == set(os.listdir(trained)) - set(LINEUP) | {
        "scratch-simple"
    }
    text_results, image_results = load(text_output, "results.json"), load(trained, "results.json")
    assert set(text_results) == set(image_results)
    assert set(load(text_output, "dataset.json")) == set(load(trained, "dataset.json"))
    text_model = text_results["models"][0]
    for image_model in image_results["models"]:
        if image_model["kind"] == "ensemble":  # trained by no one: no history of its own
            continue
        common = set(text_model) & set(image_model)
        # Only the model-specific details differ (e.g. max_seq_length vs image_size, base_model).
        assert set(text_model) - common <= {"base_model"}, set(text_model) - common
        assert set(image_model) - common <= {"base_model", "backbone", "image_size", "crop_pct"}
        for split in ("train", "validation", "test"):
            assert set(text_model[split]) == set(image_model[split])
        assert set(text_model["history"][0]) == set(image_model["history"][0])
        assert set(text_results["overfitting"]["scratch-simple"]) == set(
            image_results["overfitting"][image_model["name"]]
        )
