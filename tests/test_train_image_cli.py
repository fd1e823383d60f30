"""Bad input to train_image.py: one clear message, exit code 2, and nothing written; and a labels CSV
(Kaggle's layout) through the whole script."""

import json
import sys

import pytest

from tests.conftest import run_main, write_csv, write_image
from training.train_image import main


def run_script(argv: list[str], capsys) -> tuple[int, str]:
    return run_main(main, "train_image.py", argv, capsys)


def make_tree(root, layout: dict[str, str | None]):
    for relative, mode in layout.items():
        path = root / relative
        if mode is None:
            path.mkdir(parents=True, exist_ok=True)
        elif mode == "broken":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"GIF89a truncated")
        else:
            write_image(path, mode)


GOOD = {"train/ant/1.png": "RGB", "train/ant/2.png": "L", "train/bee/1.png": "RGB", "train/bee/2.png": "RGBA"}


@pytest.mark.parametrize(
    ("layout", "extra", "message"),
    [
        ({**GOOD, "train/wasp": None}, [], "class folder(s) without a readable image in --train_dir"),
        ({"train/ant/1.png": "RGB", "train/ant/2.png": "RGB"}, [], "single class ('ant')"),
        ({**GOOD, "val/ant/1.png": "RGB"}, ["--validation_dir", "VAL"], "do not match --train_dir's: missing bee"),
        ({**GOOD, "train/bee/3.gif": "broken"}, ["--strict_images"], "1 file(s) cannot be used as images"),
        (GOOD, ["--models", "pretrained,resnet-9000"], "unknown model name(s): resnet-9000. Choose from:"),
        (GOOD, ["--image_size", "8"], "--image_size must be between 16 and 1024"),
        (
            GOOD,
            ["--augmentation", "mixup"],
            "--augmentation must be auto, none, crop, flip_crop, flip_rotate (got 'mixup')",
        ),
    ],
)
def test_user_mistakes_end_with_one_message_and_no_output(tmp_path, capsys, layout, extra, message):
    make_tree(tmp_path, layout)
    output = tmp_path / "out"
    extra = [str(tmp_path / "val") if arg == "VAL" else arg for arg in extra]
    code, err = run_script(["--train_dir", str(tmp_path / "train"), "--output_dir", str(output), *extra], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not output.exists()


def test_missing_folder_and_unreachable_hub_dataset(tmp_path, capsys):
    code, err = run_script(["--train_dir", str(tmp_path / "nope"), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "is not a folder" in err
    code, err = run_script(["--dataset_name", "someone/no-such-images", "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "could not load dataset 'someone/no-such-images'" in err and "--train_dir" in err
    assert not (tmp_path / "o").exists()


def cancer_patches(root, count: int = 16) -> None:
    """Kaggle's histopathologic-cancer-detection layout in little: train/<id>.tif, and train_labels.csv (id,label)
    naming each image without its extension."""
    rows = []
    for i in range(count):
        image_id = f"{i:04x}{'ab' * 8}"
        write_image(root / "train" / f"{image_id}.tif", "RGB", (24, 24), seed=i)
        rows.append({"id": image_id, "label": i % 2})
    write_csv(root / "train_labels.csv", rows)


def test_labels_file_trains_like_class_folders(tmp_path, monkeypatch):
    cancer_patches(tmp_path)
    output = tmp_path / "out"
    argv = ["--train_dir", str(tmp_path / "train"), "--labels_file", str(tmp_path / "train_labels.csv"),
            "--models", "scratch-simple", "--num_train_epochs", "1", "--max_train_samples", "8",
            "--validation_split_percentage", "25", "--test_split_percentage", "25", "--latency_samples", "2",
            "--output_dir", str(output)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["train_image.py", *argv])
    main()
    dataset = json.loads((output / "dataset.json").read_text())
    assert dataset["label_names"] == ["0", "1"]
    assert dataset["num_examples"] == {"train": 8, "validation": 4, "test": 4}
    assert dataset["examples"]["1"][0].endswith(".tif")
    results = json.loads((output / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == ["scratch-simple"]


def test_labels_file_naming_missing_images_ends_with_one_message(tmp_path, capsys):
    cancer_patches(tmp_path)
    with (tmp_path / "train_labels.csv").open("a") as handle:
        handle.write("f00dfeed,1\n")
    output = tmp_path / "out"
    argv = ["--train_dir", str(tmp_path / "train"), "--labels_file", str(tmp_path / "train_labels.csv"),
            "--output_dir", str(output)]  # fmt: skip
    code, err = run_script(argv, capsys)
    assert code == 2 and "Traceback" not in err
    assert "1 of 17 rows of --labels_file" in err and "'f00dfeed'" in err and "--allow_missing_images" in err
    assert not output.exists()
