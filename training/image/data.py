"""Image data sources: folders with one subfolder per class (through ``datasets``' imagefolder
builder), a folder of images with their labels in a CSV (Kaggle's ``train/<id>.tif`` with
``train_labels.csv``, or imagefolder's ``metadata.csv``), a Hub dataset, or, with no data arguments,
scikit-learn's digits (1,797 real 8x8 images).

Every image file is opened and decoded once before training, so a corrupt or non-image file is
reported up front (skipped with a warning, or an error with ``--strict_images``) instead of
crashing an epoch halfway.
"""

import hashlib
import io
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import PIL.Image
from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, load_dataset
from datasets.packaged_modules.imagefolder.imagefolder import ImageFolder

from training.core.arguments import DataArguments
from training.core.data import (
    SPLITS,
    ClassificationData,
    deduplicate_and_split,
    encode_labels,
    find_column,
    load_hub_dataset,
    select_columns,
)
from training.core.errors import UserError
from training.core.progress import progress, timed
from training.image.transforms import AUGMENTATIONS

logger = logging.getLogger(__name__)

DIGITS = "scikit-learn digits (8x8 grayscale, load_digits)"
IMAGE_EXTENSIONS = frozenset(ImageFolder.EXTENSIONS)  # what the imagefolder builder accepts
# Images whose median side is below this (digits, MNIST, CIFAR) get the small-image defaults:
# lower resolutions, no crop margin, no augmentation (README, "The image lineup").
SMALL_IMAGE_SIDE = 64
SKIPPED_LISTED = 50  # paths listed in dataset.json and the warning; the count is always complete
METADATA_FILE = "metadata.csv"  # imagefolder's convention: a file_name column and the labels, beside the images
# Label rows without an image tolerated with a warning: a few lost downloads, not a wrong folder or id column.
MISSING_IMAGES_TOLERATED = 0.01
IDS_IN_ERRORS = 5  # ids named in an error message
CHECK_BATCH = 256  # most image files checked in one thread-pool task
# Each split's labels CSV flag and the folder flag whose images it labels.
SPLIT_FLAGS = {
    "train": ("labels_file", "train_dir"),
    "validation": ("validation_labels_file", "validation_dir"),
    "test": ("test_labels_file", "test_dir"),
}


@dataclass
class ImageDataArguments(DataArguments):
    """Image data: class folders, a folder with a labels CSV, or a Hub dataset, and which columns hold what."""

    train_dir: str | None = field(
        default=None,
        metadata={
            "help": "Training images: one subfolder per class (train_dir/cat/001.jpg), or any layout with "
            "--labels_file or a metadata.csv (file_name and label columns) in the folder."
        },
    )
    validation_dir: str | None = field(default=None, metadata={"help": "Validation images, same layout."})
    test_dir: str | None = field(default=None, metadata={"help": "Test images, same layout."})
    labels_file: str | None = field(
        default=None,
        metadata={
            "help": "CSV with each training image's id and label (Kaggle's train_labels.csv: id,label). Images are "
            "found anywhere under --train_dir; an id is a file's name with or without its extension, or its path "
            "under the folder."
        },
    )
    validation_labels_file: str | None = field(
        default=None, metadata={"help": "The labels CSV of --validation_dir's images, same layout."}
    )
    test_labels_file: str | None = field(
        default=None, metadata={"help": "The labels CSV of --test_dir's images, same layout."}
    )
    image_id_column: str = field(default="id", metadata={"help": "Column of the labels CSVs holding the image ids."})
    allow_missing_images: bool = field(
        default=False,
        metadata={
            "help": "Train on the images found even when over one row in a hundred of a labels CSV names no image "
            "(otherwise an error: a wrong folder or id column)."
        },
    )
    image_column: str = field(default="image", metadata={"help": "Column holding the image (Hub datasets)."})
    strict_images: bool = field(
        default=False,
        metadata={"help": "Stop with an error on a corrupt or non-image file instead of skipping it with a warning."},
    )
    augmentation: str = field(
        default="auto",
        metadata={
            "help": "Training augmentation: none, crop (random resized crop), flip_crop (crop + horizontal flip), "
            "flip_rotate (horizontal and vertical flips and quarter turns, every pixel kept: tissue patches, whose "
            "label is in the centre), or auto: flip_crop for photos, none for small images such as digits (flips "
            "turn a 2 into a different shape)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dataset_name and self.train_dir:
            raise UserError("give either --dataset_name or --train_dir, not both.")
        if (self.validation_dir or self.test_dir) and not (self.train_dir or self.dataset_name):
            raise UserError("--validation_dir/--test_dir need a --train_dir too.")
        for labels, folder in SPLIT_FLAGS.values():
            if getattr(self, labels) and not getattr(self, folder):
                raise UserError(f"--{labels} labels the images of --{folder}: give --{folder} too.")
        if self.augmentation not in ("auto", *AUGMENTATIONS):
            raise UserError(f"--augmentation must be auto, {', '.join(AUGMENTATIONS)} (got {self.augmentation!r}).")


def image_key(value: dict[str, Any]) -> str:
    """Identical files count as duplicates (an undecoded image: bytes or a path)."""
    if value.get("bytes") is not None:
        return hashlib.md5(value["bytes"], usedforsecurity=False).hexdigest()
    return _file_digest(value["path"])


# What the check learnt of each file while it had its bytes: deduplication, the cross-split check, the small-image
# rule and dataset.json read them instead of opening a quarter of a million files three more times.
_DIGESTS: dict[str, str] = {}
_SIZES: dict[str, tuple[int, int, str]] = {}


def _file_digest(path: str) -> str:
    if path not in _DIGESTS:
        with open(path, "rb") as handle:
            _DIGESTS[path] = hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()
    return _DIGESTS[path]


def _check_image(path: str | Path) -> str | None:
    """Why ``path`` cannot be used as an image, or None when it decodes (then its digest and size are noted)."""
    suffix = os.path.splitext(path)[1]
    if suffix.lower() not in IMAGE_EXTENSIONS:
        return f"not an image file type ({suffix or 'no extension'})"
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        with PIL.Image.open(io.BytesIO(data)) as image:
            image.load()  # decode fully: verify() alone misses truncated files
            _SIZES[str(path)] = (image.width, image.height, image.mode)
    except Exception as error:  # PIL raises many types for broken files
        return f"cannot be decoded ({type(error).__name__}: {error})"
    _DIGESTS[str(path)] = hashlib.md5(data, usedforsecurity=False).hexdigest()
    return None


def _check_batch(files: Sequence[str | Path]) -> list[str | None]:
    return [_check_image(path) for path in files]


def check_images(files: Sequence[str | Path], root: Path, flag: str) -> list[str | None]:
    """Why each of ``files`` cannot be used as an image (None where it decodes), checked in parallel."""
    # A task per file costs more than decoding a small image; a few batches per core keep every core busy.
    size = max(1, min(CHECK_BATCH, len(files) // (4 * (os.cpu_count() or 1))))
    batches = [files[i : i + size] for i in range(0, len(files), size)]
    # Decoding is mostly C code that releases the GIL: threads use every core.
    with ThreadPoolExecutor() as pool, timed(f"Checked {len(files)} image files in {root}"):
        checked = (problem for batch in pool.map(_check_batch, batches) for problem in batch)
        return list(progress(checked, f"Checking images ({flag})", total=len(files)))


def report_skipped(skipped: list[dict[str, str]], strict: bool) -> None:
    """Warn about the files that cannot be used as images, or stop with an error under ``--strict_images``."""
    if not skipped:
        return
    listing = "\n  ".join(f"{s['path']}: {s['reason']}" for s in skipped[:SKIPPED_LISTED])
    if strict:
        raise UserError(
            f"{len(skipped)} file(s) cannot be used as images (--strict_images):\n  {listing}\n"
            "Remove or fix them, or leave out --strict_images to skip them with a warning."
        )
    logger.warning("Skipping %d file(s) that cannot be used as images:\n  %s", len(skipped), listing)


def scan_class_folders(root_str: str, flag: str) -> tuple[dict[str, list[Path]], list[dict[str, str]]]:
    """The readable images of each class subfolder of ``root``, and the files skipped with the reason.

    Hidden files (``.DS_Store``) are ignored. Errors: no such folder, no class subfolders, a class
    folder without a readable image.
    """
    root = Path(root_str)
    if not root.is_dir():
        raise UserError(f"{flag} {root} is not a folder. Give a folder with one subfolder of images per class.")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    class_dirs = [p for p in entries if p.is_dir()]
    if not class_dirs:
        raise UserError(
            f"{flag} {root} has no class subfolders. Put each class's images in a subfolder named after the "
            f"class, e.g. {root}/cat/001.jpg and {root}/dog/001.jpg."
        )
    skipped = [{"path": str(p), "reason": "not inside a class folder"} for p in entries if p.is_file()]
    candidates = {
        d.name: sorted(f for f in d.iterdir() if f.is_file() and not f.name.startswith(".")) for d in class_dirs
    }
    every_file = [f for files in candidates.values() for f in files]
    problems = dict(zip(every_file, check_images(every_file, root, flag), strict=True))
    images: dict[str, list[Path]] = {}
    for name, files in candidates.items():
        images[name] = [f for f in files if problems[f] is None]
        skipped += [{"path": str(f), "reason": problems[f]} for f in files if problems[f] is not None]
    empty = [name for name, files in images.items() if not files]
    if empty:
        raise UserError(
            f"class folder(s) without a readable image in {flag} {root}: {', '.join(empty)}. Add images or "
            "remove the folder(s)."
        )
    return images, skipped


def _load_folders(args: ImageDataArguments) -> tuple[DatasetDict, list[dict[str, str]]]:
    folders = {"train": (args.train_dir, "--train_dir")}
    if args.validation_dir:
        folders["validation"] = (args.validation_dir, "--validation_dir")
    if args.test_dir:
        folders["test"] = (args.test_dir, "--test_dir")
    scanned, skipped = {}, []
    for split, (root, flag) in folders.items():
        scanned[split], split_skipped = scan_class_folders(root, flag)
        skipped += split_skipped
    train_classes = set(scanned["train"])
    for split, classes in scanned.items():
        missing, extra = sorted(train_classes - set(classes)), sorted(set(classes) - train_classes)
        if missing or extra:
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"not in training: {', '.join(extra)}"] if extra else []
            )
            raise UserError(
                f"the class folders of {folders[split][1]} do not match --train_dir's: {'; '.join(problems)}. "
                "Every split needs the same class subfolders."
            )
    report_skipped(skipped, args.strict_images)
    data_files = {split: [str(f) for files in classes.values() for f in files] for split, classes in scanned.items()}
    # imagefolder names each image's class after its parent folder; the files are the checked ones.
    logger.info("Loading %d images with the imagefolder builder", sum(len(files) for files in data_files.values()))
    loaded = load_dataset("imagefolder", data_files=data_files, drop_labels=False, drop_metadata=True)
    return DatasetDict(loaded), skipped


@dataclass(frozen=True)
class LabelsCsv:
    """The CSV naming the class of each image of a folder: a ``--labels_file``, or the folder's metadata.csv."""

    folder: Path
    folder_flag: str  # --train_dir
    path: Path
    flag: str  # --labels_file, or "--train_dir's metadata.csv"
    id_column: str
    metadata: bool = False  # imagefolder's metadata.csv: the images are always in its file_name column

    @property
    def id_flag(self) -> str:
        return f"its {self.id_column} column" if self.metadata else "--image_id_column"


def labels_csvs(args: ImageDataArguments) -> dict[str, LabelsCsv] | None:
    """Each given split folder's labels CSV (its labels flag, else a metadata.csv in it), or None when the
    folders have class subfolders instead. Mixing both across splits is an error."""
    found: dict[str, LabelsCsv | None] = {}
    for split, (labels_flag, folder_flag) in SPLIT_FLAGS.items():
        folder, labels = getattr(args, folder_flag), getattr(args, labels_flag)
        if not folder:
            continue
        metadata = Path(folder) / METADATA_FILE
        if labels:
            found[split] = LabelsCsv(
                Path(folder), f"--{folder_flag}", Path(labels), f"--{labels_flag}", args.image_id_column
            )
        elif metadata.is_file():
            flag = f"--{folder_flag}'s {METADATA_FILE}"
            found[split] = LabelsCsv(Path(folder), f"--{folder_flag}", metadata, flag, "file_name", metadata=True)
        else:
            found[split] = None
    with_csv = [f"--{SPLIT_FLAGS[split][1]}" for split, source in found.items() if source]
    if not with_csv:
        return None
    if len(with_csv) < len(found):
        without = [f"--{SPLIT_FLAGS[split][1]}" for split, source in found.items() if not source]
        raise UserError(
            f"{', '.join(with_csv)} has a labels CSV but {', '.join(without)} has none. Give each folder its own "
            f"(--labels_file, --validation_labels_file, --test_labels_file, or a {METADATA_FILE} in the folder), "
            "or use class subfolders in all of them."
        )
    return {split: source for split, source in found.items() if source}


def read_labels(source: LabelsCsv, label_column: str) -> tuple[list[str], list[Any]]:
    """The ids and labels of a labels CSV, in row order. Labels are numbers where all of them are, so that
    they sort as numbers (class 2 before 10), as a CSV read by the text script does."""
    if not source.path.is_file():
        raise UserError(f"{source.flag} {source.path} does not exist. Check the path.")
    layout = f"a header row such as {source.id_column},{label_column} and one row per image"
    try:
        # Every column as text: the id 00017 names the file 00017.tif, not the number 17.
        table = pd.read_csv(source.path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise UserError(f"{source.flag} {source.path} is empty. Give a CSV with {layout}.") from None
    except ValueError as error:  # not text (UnicodeDecodeError), or ragged rows (pandas' ParserError)
        reason = f"{type(error).__name__}: {str(error).strip()}"
        raise UserError(
            f"{source.flag} {source.path} cannot be read as a CSV file ({reason}). Give a comma-separated text "
            f"file with {layout}."
        ) from None
    available = [str(c) for c in table.columns]
    columns = {wanted: find_column(wanted, available) for wanted in (source.id_column, label_column)}
    missing = [repr(wanted) for wanted, found in columns.items() if found is None]
    if missing:
        fix = "Choose them with --image_id_column and --label_column."
        if source.metadata:
            fix = f"A {METADATA_FILE} names each image in a file_name column; choose the label one with --label_column."
        raise UserError(
            f"column(s) {', '.join(missing)} not found in {source.flag} {source.path}. Available columns: "
            f"{', '.join(available)}. {fix}"
        )
    if table.empty:
        raise UserError(f"{source.flag} {source.path} has a header but no rows. Give a CSV with {layout}.")
    ids, labels = (table[columns[c]].fillna("").str.strip() for c in (source.id_column, label_column))
    for problem, rows in (("have no label", ids[labels == ""]), ("repeat an id", ids[ids.duplicated(keep=False)])):
        if len(rows):
            first = ", ".join(repr(i) for i in rows.unique()[:IDS_IN_ERRORS])
            raise UserError(
                f"{len(rows)} row(s) of {source.flag} {source.path} {problem} (ids {first}). Give each image one "
                "row with its label."
            )
    numbers = pd.to_numeric(labels, errors="coerce")
    return ids.tolist(), (numbers if numbers.notna().all() else labels).tolist()


def list_images(root: Path) -> list[str]:
    """The path under ``root`` of every image file below it, at any depth (hidden files and folders left
    out), sorted, in one walk."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = Path(os.path.relpath(folder, root)).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        found += [
            prefix + name
            for name in sorted(files)
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        ]
    return found


def index_images(relatives: list[str]) -> dict[str, str | None]:
    """Each image (its path under the folder) by every id a labels CSV may give it: that path and its file name,
    each with or without the extension. An id that several files share maps to None."""
    index: dict[str, str | None] = {}
    for relative in relatives:
        name = relative.rpartition("/")[2]
        for key in {relative, os.path.splitext(relative)[0], name, os.path.splitext(name)[0]}:
            index[key] = relative if index.get(key, relative) == relative else None
    return index


def check_missing_images(source: LabelsCsv, missing: list[str], rows: int, allowed: bool) -> None:
    """Stop when the rows without an image are all of them, or more than ``MISSING_IMAGES_TOLERATED`` of them
    without ``--allow_missing_images``: a wrong folder or id column, not a few lost files."""
    if not missing or (len(missing) < rows and (allowed or len(missing) <= MISSING_IMAGES_TOLERATED * rows)):
        return
    first = ", ".join(repr(i) for i in missing[:IDS_IN_ERRORS])
    allow = "" if len(missing) == rows else ", or pass --allow_missing_images to train on the images found"
    raise UserError(
        f"{len(missing)} of {rows} rows of {source.flag} {source.path} name no image under {source.folder_flag} "
        f"{source.folder} (ids {first}). An id is an image's file name, with or without its extension, or its "
        f"path under the folder: check {source.folder_flag} and {source.id_flag}{allow}."
    )


def load_labelled_folder(
    source: LabelsCsv, args: ImageDataArguments
) -> tuple[Dataset, list[dict[str, str]], dict[str, Any]]:
    """The images of one folder with their labels from ``source``: the labelled images that decode, the files
    skipped, and notes on the images without a row (left out) and the rows without an image."""
    if not source.folder.is_dir():
        raise UserError(
            f"{source.folder_flag} {source.folder} is not a folder. Give the folder holding the images of "
            f"{source.flag}."
        )
    ids, labels = read_labels(source, args.label_column)
    with timed(f"Listed the images under {source.folder}"):
        relatives = list_images(source.folder)
    index = index_images(relatives)
    shared = [i for i in ids if i in index and index[i] is None]
    if shared:
        raise UserError(
            f"{len(shared)} id(s) of {source.flag} {source.path} name more than one image under {source.folder} "
            f"(ids {', '.join(repr(i) for i in shared[:IDS_IN_ERRORS])}). Give those ids as paths under the "
            "folder, e.g. cat/001.jpg."
        )
    missing = [i for i in ids if i not in index]
    check_missing_images(source, missing, len(ids), args.allow_missing_images)
    found = [(index[i], label) for i, label in zip(ids, labels, strict=True) if i in index]
    # Paths as strings: a Path object per file costs seconds at Kaggle's 220,000 images.
    files = [os.path.join(source.folder, relative) for relative, _ in found]
    problems = check_images(files, source.folder, source.folder_flag)
    skipped = [{"path": f, "reason": p} for f, p in zip(files, problems, strict=True) if p is not None]
    usable = [(f, label) for f, (_, label), p in zip(files, found, problems, strict=True) if p is None]
    if not usable:
        raise UserError(f"none of the images named by {source.flag} {source.path} can be read as an image.")
    labelled = {relative for relative, _ in found}
    unlabelled = [os.path.join(source.folder, r) for r in relatives if r not in labelled]
    notes: dict[str, Any] = {}
    if unlabelled:
        notes["images_without_label"] = {"count": len(unlabelled), "files": unlabelled[:SKIPPED_LISTED]}
        what = f"{len(unlabelled)} image(s) under {source.folder} have no row in {source.path}"
        logger.warning("%s and are left out:\n  %s", what, "\n  ".join(unlabelled[:SKIPPED_LISTED]))
    if missing:
        notes["labels_without_image"] = {"count": len(missing), "ids": missing[:SKIPPED_LISTED]}
        what = f"{len(missing)} row(s) of {source.path} name no image under {source.folder}"
        logger.warning("%s and are left out:\n  %s", what, "\n  ".join(missing[:SKIPPED_LISTED]))
    paths, values = [path for path, _ in usable], [label for _, label in usable]
    dataset = Dataset.from_dict({"image": paths, "label": values}).cast_column("image", Image())
    return dataset, skipped, notes


def _load_labelled(
    sources: dict[str, LabelsCsv], args: ImageDataArguments
) -> tuple[DatasetDict, list[dict[str, str]], dict[str, Any]]:
    splits, skipped, notes = {}, [], {}
    for split, source in sources.items():
        splits[split], split_skipped, split_notes = load_labelled_folder(source, args)
        skipped += split_skipped
        for key, value in split_notes.items():
            notes.setdefault(key, {})[split] = value
    report_skipped(skipped, args.strict_images)
    return DatasetDict(splits), skipped, notes


def _load_digits() -> DatasetDict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # Pixel values are 0..16; stretch them to 0..255 grayscale images.
    images = [PIL.Image.fromarray((image * 255 / 16).round().astype(np.uint8), mode="L") for image in digits.images]
    features = Features({"image": Image(), "label": ClassLabel(names=[str(d) for d in range(10)])})
    return DatasetDict(train=Dataset.from_dict({"image": images, "label": digits.target.tolist()}, features=features))


def load_image_data(args: ImageDataArguments, seed: int) -> ClassificationData:
    """Load, check, deduplicate and split the image data described by ``args``.

    The result always has train, validation and test splits with an ``image`` column (decoded
    lazily to PIL images) and a ClassLabel ``label`` column.
    """
    skipped: list[dict[str, str]] = []
    notes: dict[str, Any] = {}
    if args.train_dir:
        sources = labels_csvs(args)
        if sources:
            splits, skipped, notes = _load_labelled(sources, args)
        else:
            splits, skipped = _load_folders(args)
        root = Path(args.train_dir).resolve()
        source = f"{root.parent.name}/{root.name}"  # e.g. hymenoptera_data/train
    elif args.dataset_name:
        splits = load_hub_dataset(args.dataset_name, args.dataset_config_name, local_flag="--train_dir")
        columns = {args.image_column: "image", args.label_column: "label"}
        splits = select_columns(splits, columns, "--image_column / --label_column")
        source = args.dataset_name
    else:
        splits, source = _load_digits(), DIGITS
    splits, label_names = encode_labels(splits, args.class_names)

    if skipped:
        notes["skipped_files"] = {"count": len(skipped), "files": skipped[:SKIPPED_LISTED]}
    # Work on undecoded images (bytes or paths) until the end: hashing files needs no decoding.
    splits = DatasetDict({name: split.cast_column("image", Image(decode=False)) for name, split in splits.items()})
    splits, split_notes = deduplicate_and_split(
        splits, image_key, "image", "images", args, seed, "--validation_dir and --test_dir"
    )
    notes.update(split_notes)
    notes["color"] = "every image is converted to RGB (grayscale, palette and RGBA alike), as pipeline() does"
    splits = DatasetDict({name: splits[name].cast_column("image", Image()) for name in SPLITS})
    return ClassificationData(
        splits=splits, input_column="image", label_names=label_names, source=source, hub_dataset=args.dataset_name,
        notes=notes,
    )  # fmt: skip


def image_sizes(split: Dataset) -> list[tuple[int, int, str]]:
    """(width, height, mode) of every image of a split, from the file headers (no decoding)."""
    sizes = []
    for value in progress(split.cast_column("image", Image(decode=False))["image"][:], "Reading image sizes"):
        if value.get("bytes") is None and value["path"] in _SIZES:  # noted by the check
            sizes.append(_SIZES[value["path"]])
            continue
        source = io.BytesIO(value["bytes"]) if value.get("bytes") is not None else value["path"]
        with PIL.Image.open(source) as image:
            sizes.append((image.width, image.height, image.mode))
    return sizes


def median_side(split: Dataset) -> int:
    """The median of the images' shorter sides, in pixels."""
    return int(np.median([min(w, h) for w, h, _ in image_sizes(split)]))


def has_small_images(split: Dataset) -> bool:
    """Whether the median image side is below ``SMALL_IMAGE_SIDE`` (digits, MNIST, CIFAR...)."""
    return median_side(split) < SMALL_IMAGE_SIDE


def image_references(split: Dataset, split_name: str) -> list[str]:
    """How to find each image of a split again: its file path, or ``<split>[i]`` for in-memory images."""
    values = split.cast_column("image", Image(decode=False))["image"][:]
    # Images held as bytes (digits, Hub datasets) may carry a file name that exists nowhere on disk.
    return [value["path"] if value.get("bytes") is None else f"{split_name}[{i}]" for i, value in enumerate(values)]
