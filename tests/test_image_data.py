"""The image data path: class folders with mixed modes and sizes, broken files, labels CSVs, digits, description,
transforms."""

import json

import numpy as np
import pytest
import torch
from datasets import Image

from tests.conftest import digit_folders, write_csv, write_image
from training.core.data import finalize
from training.core.describe import describe_dataset
from training.core.errors import UserError
from training.image.data import (
    ImageDataArguments,
    check_missing_images,
    has_small_images,
    labels_csvs,
    load_image_data,
)
from training.image.describe import image_examples, image_statistics, plot_examples
from training.image.lineup import scratch_processor
from training.image.transforms import augmentation, pixel_transform, resolve_augmentation


@pytest.fixture
def folders(tmp_path):
    """train/ and val/ with cat and dog images in four colour modes and several sizes, plus two bad files."""
    for split, count in (("train", 6), ("val", 3)):
        for c, name in enumerate(("cat", "dog")):
            for i in range(count):
                mode = ["RGB", "L", "RGBA", "P"][i % 4]
                fmt = "PNG" if mode != "RGB" else "JPEG"
                write_image(tmp_path / split / name / f"{i}.{fmt.lower()}", mode, (30 + 7 * i, 20 + 5 * c), 10 * c + i)
    (tmp_path / "train" / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (tmp_path / "train" / "dog" / "notes.txt").write_text("not an image")
    (tmp_path / "train" / "dog" / ".DS_Store").write_bytes(b"\0")  # hidden: ignored silently
    return tmp_path


def test_folders_load_with_bad_files_skipped_and_recorded(folders, caplog):
    args = ImageDataArguments(train_dir=str(folders / "train"), validation_dir=str(folders / "val"))
    data = load_image_data(args, seed=0)
    assert data.label_names == ["cat", "dog"]
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 12, "validation": 6, "test": 6}
    skipped = data.notes["skipped_files"]
    assert skipped["count"] == 2
    reasons = {entry["path"].rsplit("/", 1)[-1]: entry["reason"] for entry in skipped["files"]}
    assert reasons["broken.jpg"].startswith("cannot be decoded")
    assert reasons["notes.txt"] == "not an image file type (.txt)"
    assert "Skipping 2 file(s)" in caplog.text and "broken.jpg" in caplog.text
    # No test folder: the validation split doubles as the test split, and the notes say so.
    assert data.notes["test_is_validation"] == "true"
    image = data.splits["train"][0]["image"]
    assert image.size[0] >= 30  # decoded lazily to PIL, any size
    statistics = image_statistics(data.splits["train"])
    assert statistics["modes"] == {"RGB": 4, "L": 4, "RGBA": 2, "P": 2}
    assert statistics["width"]["min"] == 30 and statistics["width"]["max"] == 65


def test_strict_images_turns_bad_files_into_an_error(folders):
    args = ImageDataArguments(train_dir=str(folders / "train"), strict_images=True)
    with pytest.raises(UserError, match=r"2 file\(s\) cannot be used as images") as error:
        load_image_data(args, seed=0)
    assert "broken.jpg" in str(error.value) and "notes.txt" in str(error.value)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"train/cat/1.png": "RGB", "train/dog/.keep": None}, "class folder(s) without a readable image"),
        ({"train/cat/1.png": "RGB", "train/cat/2.png": "L"}, "single class"),
        ({"train/1.png": "RGB"}, "has no class subfolders"),
        (
            {"train/cat/1.png": "RGB", "train/dog/1.png": "RGB", "val/cat/1.png": "RGB", "val/bird/1.png": "RGB"},
            "missing dog; not in training: bird",
        ),
    ],
)
def test_folder_mistakes_are_clear_errors(tmp_path, layout, message):
    for relative, mode in layout.items():
        if mode is None:
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_bytes(b"")
        else:
            write_image(tmp_path / relative, mode)
    validation = str(tmp_path / "val") if (tmp_path / "val").exists() else None
    args = ImageDataArguments(train_dir=str(tmp_path / "train"), validation_dir=validation)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_image_data(args, seed=0)


def test_missing_folder_and_conflicting_arguments(tmp_path):
    with pytest.raises(UserError, match="is not a folder"):
        load_image_data(ImageDataArguments(train_dir=str(tmp_path / "nope")), seed=0)
    with pytest.raises(UserError, match="need a --train_dir"):
        ImageDataArguments(validation_dir="x")
    with pytest.raises(UserError, match="--augmentation must be"):
        ImageDataArguments(augmentation="rotate")


def test_duplicate_files_are_removed_and_overlap_reported(tmp_path):
    digit_folders(tmp_path / "train", per_class=8)
    digit_folders(tmp_path / "val", per_class=3)  # the same first three images of each class as train
    (tmp_path / "train" / "digit_0" / "copy.png").write_bytes((tmp_path / "train" / "digit_0" / "000.png").read_bytes())
    args = ImageDataArguments(train_dir=str(tmp_path / "train"), validation_dir=str(tmp_path / "val"))
    data = load_image_data(args, seed=0)
    assert data.notes["duplicates_removed"]["train"] == 1
    assert data.notes["overlap_with_train"] == {"validation": 9, "test": 9}  # test = validation here


def test_default_digits_are_split_stratified_and_reproducibly(tmp_path):
    first = load_image_data(ImageDataArguments(), seed=42)
    assert first.label_names == [str(d) for d in range(10)]
    sizes = {k: len(v) for k, v in first.splits.items()}
    assert sum(sizes.values()) == 1797 - sum(first.notes["duplicates_removed"].values())
    assert sizes["validation"] == sizes["test"] == 180
    counts = np.bincount(first.splits["test"]["label"], minlength=10)
    assert counts.min() >= 17 and counts.max() <= 19  # stratified: 10 % of each class
    second = load_image_data(ImageDataArguments(), seed=42)
    assert first.splits["test"]["label"] == second.splits["test"]["label"]
    assert has_small_images(first.splits["train"])
    image = first.splits["train"][0]["image"]
    assert image.size == (8, 8) and image.mode == "L"

    data = finalize(first, max_train_samples=100, max_eval_samples=50, seed=42)
    description = describe_dataset(data, image_statistics, image_examples)
    assert description["num_examples"] == {"train": 100, "validation": 50, "test": 50}
    assert description["examples"]["3"][0].startswith("train[")
    assert description["statistics"]["train"]["modes"] == {"L": 100}
    json.dumps(description)  # dataset.json must be plain JSON
    plot_examples(data.splits["train"], data.label_names, tmp_path / "examples.png")
    assert (tmp_path / "examples.png").stat().st_size > 5000


def test_transform_gives_rgb_pixel_values_at_the_model_resolution(folders):
    args = ImageDataArguments(
        train_dir=str(folders / "train"), validation_split_percentage=20, test_split_percentage=20
    )
    data = load_image_data(args, seed=0)
    processor = scratch_processor(24)
    rows = data.splits["train"].with_transform(pixel_transform(processor))[:4]
    assert rows["pixel_values"].shape == (4, 3, 24, 24)  # grayscale, RGBA, palette: all three channels
    assert rows["labels"] == data.splits["train"]["label"][:4]
    augmented = data.splits["train"].with_transform(pixel_transform(processor, augmentation("flip_crop", 24, 1.0)))
    torch.manual_seed(0)
    assert augmented[:4]["pixel_values"].shape == (4, 3, 24, 24)
    assert resolve_augmentation("auto", small_images=True) == "none"
    assert resolve_augmentation("auto", small_images=False) == "flip_crop"
    assert augmentation("none", 24, 1.0) is None
    # Sized so that the processor's resize + centre crop (crop_pct 0.875) leaves the model's 224 px.
    assert augmentation("crop", 224, 0.875).transforms[0].size == (256, 256)


def test_dataset_name_goes_through_load_dataset_and_its_columns_are_checked(tmp_path):
    # A local folder stands in for a Hub id: load_dataset() resolves both the same way (imagefolder here).
    for split, count in (("train", 6), ("test", 2)):
        for c, name in enumerate(("cat", "dog")):
            for i in range(count):
                write_image(tmp_path / "ds" / split / name / f"{i}.png", "RGB", seed=100 * c + 10 * i + len(split))
    data = load_image_data(ImageDataArguments(dataset_name=str(tmp_path / "ds")), seed=0)
    assert data.label_names == ["cat", "dog"] and len(data.splits["test"]) == 4
    assert data.notes["split"].startswith("validation = 10 % of the training data")
    with pytest.raises(UserError, match="'img' not found in the train data. Available columns: image, label"):
        load_image_data(ImageDataArguments(dataset_name=str(tmp_path / "ds"), image_column="img"), seed=0)


@pytest.fixture
def labelled(tmp_path):
    """Kaggle's layout in little: train/ with PNGs at any depth, labels.csv naming each by its id with or without
    the extension (labels 2 and 10), one labelled file that is no image, and one image without a row."""
    rows = []
    for i in range(10):
        relative = ["", "a/", "a/b/"][i % 3] + f"{i:05d}.png"
        write_image(tmp_path / "train" / relative, "RGB", seed=i)
        rows.append({"id": f"{i:05d}" if i % 2 else f"{i:05d}.png", "label": 2 if i < 5 else 10})
    (tmp_path / "train" / "broken.png").write_bytes(b"\x89PNG not really")
    rows.append({"id": "broken", "label": 2})
    write_image(tmp_path / "train" / "a" / "unlabelled.png", seed=99)
    write_csv(tmp_path / "labels.csv", rows)
    return tmp_path


def labelled_args(root, **overrides) -> ImageDataArguments:
    arguments = {"train_dir": str(root / "train"), "labels_file": str(root / "labels.csv"),
                 "validation_split_percentage": 20, "test_split_percentage": 20} | overrides  # fmt: skip
    return ImageDataArguments(**arguments)


def file_labels(data) -> dict[str, str]:
    """Each image's file name and class name, over every split."""
    pairs = {}
    for split in data.splits.values():
        paths = [v["path"] for v in split.cast_column("image", Image(decode=False))["image"]]
        labels = [data.label_names[label] for label in split["label"]]
        pairs |= {path.rsplit("/", 1)[-1]: label for path, label in zip(paths, labels, strict=True)}
    return pairs


def test_labels_csv_finds_images_at_any_depth_by_id_with_or_without_extension(labelled, caplog):
    data = load_image_data(labelled_args(labelled), seed=0)
    assert data.label_names == ["2", "10"]  # numbers sort as numbers, then become the class names
    assert data.splits["test"].features["label"].names == ["2", "10"]
    assert file_labels(data) == {f"{i:05d}.png": "2" if i < 5 else "10" for i in range(10)}
    assert data.splits["train"][0]["image"].size == (40, 32)  # decoded lazily to PIL, as from class folders
    unlabelled = str(labelled / "train" / "a" / "unlabelled.png")
    assert data.notes["images_without_label"] == {"train": {"count": 1, "files": [unlabelled]}}
    assert "1 image(s) under" in caplog.text and "unlabelled.png" in caplog.text
    assert data.notes["skipped_files"]["count"] == 1 and data.notes["skipped_files"]["files"][0]["path"].endswith(
        "broken.png"
    )
    assert "labels_without_image" not in data.notes
    renamed = load_image_data(labelled_args(labelled, class_names="benign,tumor"), seed=0)
    assert renamed.label_names == ["benign", "tumor"]
    with pytest.raises(UserError, match=r"1 file\(s\) cannot be used as images \(--strict_images\)"):
        load_image_data(labelled_args(labelled, strict_images=True), seed=0)


def test_labels_csv_over_class_folders_and_per_split_files(tmp_path):
    digit_folders(tmp_path / "train", per_class=6, classes=(0, 1))
    digit_folders(tmp_path / "val", per_class=2, classes=(0, 1), offset=6)
    for split in ("train", "val"):  # file names repeat across class folders: the ids are paths
        files = sorted((tmp_path / split).glob("*/*"))
        rows = [
            {"file": f"{f.parent.name}/{f.name}", "parity": "even" if i % 2 else "odd"} for i, f in enumerate(files)
        ]
        write_csv(tmp_path / f"{split}.csv", rows)
    args = ImageDataArguments(
        train_dir=str(tmp_path / "train"), labels_file=str(tmp_path / "train.csv"), image_id_column="file",
        label_column="parity", validation_dir=str(tmp_path / "val"), validation_labels_file=str(tmp_path / "val.csv"),
    )  # fmt: skip
    data = load_image_data(args, seed=0)
    assert data.label_names == ["even", "odd"]  # from the CSV, not the folders
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 12, "validation": 4, "test": 4}
    write_csv(tmp_path / "train.csv", [{"file": "000.png", "parity": "odd"}])
    with pytest.raises(UserError, match=r"1 id\(s\) of --labels_file .* name more than one image .*'000.png'"):
        load_image_data(args, seed=0)


def test_metadata_csv_beside_the_images_labels_them(tmp_path):
    rows = []
    for i in range(8):
        write_image(tmp_path / "train" / "images" / f"{i}.png", seed=i)
        rows.append({"file_name": f"images/{i}.png", "label": "cat" if i % 2 else "dog"})
    write_csv(tmp_path / "train" / "metadata.csv", rows)
    data = load_image_data(labelled_args(tmp_path, labels_file=None, class_names="Cat,Dog"), seed=0)
    assert data.label_names == ["Cat", "Dog"]
    assert file_labels(data) == {f"{i}.png": "Cat" if i % 2 else "Dog" for i in range(8)}
    assert "images_without_label" not in data.notes


def test_rows_without_an_image_stop_the_run_unless_allowed(labelled):
    with (labelled / "labels.csv").open("a") as handle:
        handle.write("lost1,2\nlost2,10\n")
    with pytest.raises(UserError) as error:
        load_image_data(labelled_args(labelled), seed=0)
    message = str(error.value)
    assert "2 of 13 rows of --labels_file" in message and "name no image under --train_dir" in message
    assert "'lost1', 'lost2'" in message and "--image_id_column" in message and "--allow_missing_images" in message
    data = load_image_data(labelled_args(labelled, allow_missing_images=True), seed=0)
    assert data.notes["labels_without_image"] == {"train": {"count": 2, "ids": ["lost1", "lost2"]}}
    assert len(file_labels(data)) == 10
    # Up to 1 % of the rows: a warning and the note, no error.
    source = labels_csvs(labelled_args(labelled))["train"]
    check_missing_images(source, ["lost1", "lost2"], rows=200, allowed=False)
    with pytest.raises(UserError, match="3 of 200 rows"):
        check_missing_images(source, ["a", "b", "c"], rows=200, allowed=False)
    with pytest.raises(UserError, match="200 of 200 rows") as error:  # no image at all: not even with the flag
        check_missing_images(source, [str(i) for i in range(200)], rows=200, allowed=True)
    assert "--allow_missing_images" not in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,label\n00001,2\n00002,2\n00001,10\n", "2 row(s) of --labels_file {csv} repeat an id (ids '00001')"),
        ("name,label\n00001,2\n", "column(s) 'id' not found in --labels_file {csv}. Available columns: name, label"),
        ("id,label\n00001,2\n00002,\n", "1 row(s) of --labels_file {csv} have no label (ids '00002')"),
        ("", "--labels_file {csv} is empty"),
        ("id,label\n", "--labels_file {csv} has a header but no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "--labels_file {csv} cannot be read as a CSV file"),
        (None, "--labels_file {csv} does not exist"),
    ],
)
def test_labels_csv_mistakes_are_clear_errors(labelled, content, message):
    path = labelled / "labels.csv"
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UserError) as error:
        load_image_data(labelled_args(labelled), seed=0)
    assert message.format(csv=path) in str(error.value)


def test_labels_csv_arguments_that_do_not_fit(labelled):
    with pytest.raises(UserError, match="--labels_file labels the images of --train_dir: give --train_dir too"):
        ImageDataArguments(labels_file="labels.csv")
    with pytest.raises(UserError, match="give --validation_dir too"):
        ImageDataArguments(train_dir="train", labels_file="labels.csv", validation_labels_file="val.csv")
    digit_folders(labelled / "val", per_class=2, classes=(0, 1))
    with pytest.raises(UserError, match="--train_dir has a labels CSV but --validation_dir has none"):
        load_image_data(labelled_args(labelled, validation_dir=str(labelled / "val")), seed=0)
    write_csv(labelled / "val" / "metadata.csv", [{"file_name": "digit_0/000.png", "label": "0"}])
    classes = digit_folders(labelled / "classes", per_class=4, classes=(0, 1))
    with pytest.raises(UserError, match="--validation_dir has a labels CSV but --train_dir has none"):
        load_image_data(ImageDataArguments(train_dir=str(classes), validation_dir=str(labelled / "val")), seed=0)
