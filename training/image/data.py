"""Image data sources: folders with one subfolder per class (through ``datasets``' imagefolder
builder), a Hub dataset, or, with no data arguments, scikit-learn's digits (1,797 real 8x8 images).

Every image file is opened and decoded once before training, so a corrupt or non-image file is
reported up front (skipped with a warning, or an error with ``--strict_images``) instead of
crashing an epoch halfway.
"""

import functools
import hashlib
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, load_dataset
from datasets.packaged_modules.imagefolder.imagefolder import ImageFolder

from training.core.arguments import DataArguments
from training.core.data import (
    SPLITS,
    ClassificationData,
    deduplicate_and_split,
    encode_labels,
    load_hub_dataset,
    select_columns,
)
from training.core.errors import UserError
from training.core.progress import progress, timed

logger = logging.getLogger(__name__)

DIGITS = "scikit-learn digits (8x8 grayscale, load_digits)"
IMAGE_EXTENSIONS = frozenset(ImageFolder.EXTENSIONS)  # what the imagefolder builder accepts
# Images whose median side is below this (digits, MNIST, CIFAR) get the small-image defaults:
# lower resolutions, no crop margin, no augmentation (README, "The image lineup").
SMALL_IMAGE_SIDE = 64
SKIPPED_LISTED = 50  # paths listed in dataset.json and the warning; the count is always complete


@dataclass
class ImageDataArguments(DataArguments):
    """Image data: class folders or a Hub dataset, and which columns hold the image and the label."""

    train_dir: str | None = field(
        default=None, metadata={"help": "Training images, one subfolder per class (train_dir/cat/001.jpg)."}
    )
    validation_dir: str | None = field(default=None, metadata={"help": "Validation images, same layout."})
    test_dir: str | None = field(default=None, metadata={"help": "Test images, same layout."})
    image_column: str = field(default="image", metadata={"help": "Column holding the image (Hub datasets)."})
    strict_images: bool = field(
        default=False,
        metadata={"help": "Stop with an error on a corrupt or non-image file instead of skipping it with a warning."},
    )
    augmentation: str = field(
        default="auto",
        metadata={
            "help": "Training augmentation: none, crop (random resized crop), flip_crop (crop + horizontal flip), "
            "or auto: flip_crop for photos, none for small images such as digits (flips turn a 2 into a "
            "different shape)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dataset_name and self.train_dir:
            raise UserError("give either --dataset_name or --train_dir, not both.")
        if (self.validation_dir or self.test_dir) and not (self.train_dir or self.dataset_name):
            raise UserError("--validation_dir/--test_dir need a --train_dir too.")
        if self.augmentation not in ("auto", "none", "crop", "flip_crop"):
            raise UserError(f"--augmentation must be auto, none, crop or flip_crop (got {self.augmentation!r}).")


def image_key(value: dict[str, Any]) -> str:
    """Identical files count as duplicates (an undecoded image: bytes or a path)."""
    if value.get("bytes") is not None:
        return hashlib.md5(value["bytes"], usedforsecurity=False).hexdigest()
    return _file_digest(value["path"])


@functools.lru_cache(maxsize=1_000_000)
def _file_digest(path: str) -> str:
    # Cached: deduplication and the cross-split check hash the same training files.
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def _check_image(path: Path) -> str | None:
    """Why ``path`` cannot be used as an image, or None when it decodes."""
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return f"not an image file type ({path.suffix or 'no extension'})"
    try:
        with PIL.Image.open(path) as image:
            image.load()  # decode fully: verify() alone misses truncated files
    except Exception as error:  # PIL raises many types for broken files
        return f"cannot be decoded ({type(error).__name__}: {error})"
    return None


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
    # Decoding is mostly C code that releases the GIL: threads use every core.
    with ThreadPoolExecutor() as pool, timed(f"Checked {len(every_file)} image files in {root}"):
        checked = progress(pool.map(_check_image, every_file), f"Checking images ({flag})", total=len(every_file))
        problems = dict(zip(every_file, checked, strict=True))
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
    if skipped and args.strict_images:
        listing = "\n  ".join(f"{s['path']}: {s['reason']}" for s in skipped[:SKIPPED_LISTED])
        raise UserError(
            f"{len(skipped)} file(s) cannot be used as images (--strict_images):\n  {listing}\n"
            "Remove or fix them, or leave out --strict_images to skip them with a warning."
        )
    if skipped:
        listing = "\n  ".join(f"{s['path']}: {s['reason']}" for s in skipped[:SKIPPED_LISTED])
        logger.warning("Skipping %d file(s) that cannot be used as images:\n  %s", len(skipped), listing)
    data_files = {split: [str(f) for files in classes.values() for f in files] for split, classes in scanned.items()}
    # imagefolder names each image's class after its parent folder; the files are the checked ones.
    logger.info("Loading %d images with the imagefolder builder", sum(len(files) for files in data_files.values()))
    loaded = load_dataset("imagefolder", data_files=data_files, drop_labels=False, drop_metadata=True)
    return DatasetDict(loaded), skipped


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
    if args.train_dir:
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

    notes: dict[str, Any] = {}
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
    for value in progress(split.cast_column("image", Image(decode=False))["image"], "Reading image sizes"):
        source = io.BytesIO(value["bytes"]) if value.get("bytes") is not None else value["path"]
        with PIL.Image.open(source) as image:
            sizes.append((image.width, image.height, image.mode))
    return sizes


def has_small_images(split: Dataset) -> bool:
    """Whether the median image side is below ``SMALL_IMAGE_SIDE`` (digits, MNIST, CIFAR...)."""
    sides = [min(w, h) for w, h, _ in image_sizes(split)]
    return float(np.median(sides)) < SMALL_IMAGE_SIDE


def image_references(split: Dataset, split_name: str) -> list[str]:
    """How to find each image of a split again: its file path, or ``<split>[i]`` for in-memory images."""
    values = split.cast_column("image", Image(decode=False))["image"]
    # Images held as bytes (digits, Hub datasets) may carry a file name that exists nowhere on disk.
    return [value["path"] if value.get("bytes") is None else f"{split_name}[{i}]" for i, value in enumerate(values)]
