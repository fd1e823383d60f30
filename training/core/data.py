"""The data description every pipeline shares: a DatasetDict with train/validation/test splits whose
``label`` column is a ClassLabel, plus notes on where the data came from and what was changed.

Each modality's loader (``training/text/data.py``, ``training/image/data.py``) produces the raw splits; this module
encodes labels, removes duplicates, splits stratified and reproducibly, and subsamples.
"""

import difflib
import logging
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Value, load_dataset
from sklearn.model_selection import train_test_split

from training.core.errors import UserError
from training.core.progress import progress, timed

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


@dataclass
class ClassificationData:
    """Splits with an input column and a ClassLabel ``label`` column, and how they were made."""

    splits: DatasetDict
    input_column: str
    label_names: list[str]
    source: str
    hub_dataset: str | None = None  # the Hub id when loaded with --dataset_name (model cards link it)
    # Everything done to the data that a reader of the results should know (dedup, splits, drops).
    notes: dict[str, Any] = field(default_factory=dict)
    # The source columns joined into each input (core/fields.py), when there are several; else empty.
    input_fields: list[str] = field(default_factory=list)
    # The columns each input was read from (a text's --text_column names, one or several); empty when not a table's.
    input_columns: list[str] = field(default_factory=list)
    # Each class as the data spelled it, where --class_names renamed the classes (encode_spelled_labels); else empty.
    label_values: list[str] = field(default_factory=list)


SPLIT_ALIASES = {
    "train": "train",
    "validation": "validation",
    "valid": "validation",
    "dev": "validation",
    "test": "test",
}


def load_hub_dataset(name: str, config: str | None, local_flag: str) -> DatasetDict:
    """A dataset from the Hugging Face Hub, its splits renamed to train/validation/test."""
    try:
        loaded = load_dataset(name, config)
    except Exception as error:  # network, missing repo, bad config: all end the same way for the user
        raise UserError(
            f"could not load dataset {name!r} from the Hugging Face Hub ({type(error).__name__}: {error}). "
            f"Check the name and your connection, or use {local_flag} with local data."
        ) from None
    splits = {SPLIT_ALIASES[k]: v for k, v in loaded.items() if k in SPLIT_ALIASES}
    if "train" not in splits:
        raise UserError(f"dataset {name!r} has no train split (it has: {', '.join(loaded)}).")
    return DatasetDict(splits)


def find_column(name: str, available: list[str]) -> str | None:
    """``name`` among ``available``; else the one column equal to it without surrounding spaces and case
    (a header ``Text ,Label`` read by pandas keeps the spaces); else None."""
    if name in available:
        return name
    folded = [c for c in available if c.strip().casefold() == name.strip().casefold()]
    if len(folded) == 1:
        logger.warning("Using column %r for %r (compared without surrounding spaces and case).", folded[0], name)
        return folded[0]
    return None


def select_columns(splits: DatasetDict, columns: dict[str, str], flags: str) -> DatasetDict:
    """Keep the ``columns`` (user's name -> canonical name, e.g. {"review": "text"}) and rename them.

    Names match ignoring surrounding spaces and case when that is unambiguous. A missing column is an
    error listing the available ones, the closest names, and the ``flags`` that choose them.
    """
    selected = {}
    for name, split in splits.items():
        found = {c: find_column(c, split.column_names) for c in columns}
        missing = [c for c, column in found.items() if column is None]
        if missing:
            folded = {c.strip().casefold(): c for c in split.column_names}
            matches = (difflib.get_close_matches(c.strip().casefold(), folded, 2, 0.5) for c in missing)
            close = [folded[m] for found_names in matches for m in found_names]
            hint = f" Did you mean {' or '.join(repr(c) for c in dict.fromkeys(close))}?" if close else ""
            raise UserError(
                f"column(s) {', '.join(repr(c) for c in missing)} not found in the {name} data. "
                f"Available columns: {', '.join(split.column_names)}.{hint} Use {flags}."
            )
        renames = {found[c]: new for c, new in columns.items() if found[c] != new}
        selected[name] = split.select_columns([found[c] for c in columns]).rename_columns(renames)
    return DatasetDict(selected)


def integral_labels(splits: DatasetDict) -> DatasetDict:
    """Float labels that are all whole numbers (``0.0``/``1.0``, as pandas writes integers next to a
    missing value) read as the integers they are, so the classes are named ``0`` and ``1``."""
    if not all(isinstance(s.features["label"], Value) and s.features["label"].dtype.startswith("float")
               for s in splits.values()):  # fmt: skip
        return splits
    if not all(float(v).is_integer() for s in splits.values() for v in s["label"][:] if v is not None):
        return splits
    return DatasetDict({name: s.cast_column("label", Value("int64")) for name, s in splits.items()})


def encode_labels(splits: DatasetDict, class_names: str | None) -> tuple[DatasetDict, list[str]]:
    """Turn the ``label`` column into a ClassLabel shared by all splits: ``encode_spelled_labels`` without the
    values as the data spelled them."""
    splits, names, _ = encode_spelled_labels(splits, class_names)
    return splits, names


def encode_spelled_labels(splits: DatasetDict, class_names: str | None) -> tuple[DatasetDict, list[str], list[str]]:
    """Turn the ``label`` column into a ClassLabel shared by all splits; also return the class names and each
    class's value as the data spelled it (``0``/``1`` where ``--class_names`` renamed them ``no``/``yes``: a
    competition's submission wants the values).

    Label values are taken from the training split (sorted); values seen only in validation/test
    are an error, as is a training split with a single class.
    """
    splits = integral_labels(splits)
    feature = splits["train"].features["label"]
    if isinstance(feature, ClassLabel):
        names = list(feature.names)
    else:
        values = sorted(set(splits["train"]["label"][:]), key=lambda v: (str(type(v)), v))
        for name, split in splits.items():
            unseen = sorted({str(v) for v in split["label"][:]} - {str(v) for v in values})
            if unseen:
                raise UserError(
                    f"the {name} split has label(s) never seen in training: {', '.join(unseen[:10])}. "
                    "Every class must appear in the training data."
                )
        names = [str(v) for v in values]
        index = {str(v): i for i, v in enumerate(values)}
        label_feature = ClassLabel(names=names)
        splits = DatasetDict(
            {
                name: split.map(lambda b: {"label": [index[str(v)] for v in b["label"]]}, batched=True).cast_column(
                    "label", label_feature
                )
                for name, split in splits.items()
            }
        )
    present = set(splits["train"]["label"][:])
    if len(present) < 2:
        only = names[next(iter(present))] if present else "none"
        raise UserError(
            f"the label column has a single class ({only!r}) in the training data: a classifier needs at "
            "least two. Check --label_column."
        )
    spelled = list(names)
    if class_names:
        readable = [n.strip() for n in class_names.split(",")]
        if len(readable) != len(names):
            raise UserError(
                f"--class_names gives {len(readable)} names but the data has {len(names)} classes "
                f"({', '.join(names)}). Give one name per class, in that order."
            )
        names = readable
        splits = DatasetDict({k: s.cast_column("label", ClassLabel(names=names)) for k, s in splits.items()})
    return splits, names, spelled


def drop_duplicates(
    dataset: Dataset, key: Callable[[Any], Hashable], column: str, description: str = "duplicates"
) -> tuple[Dataset, int]:
    """Keep the first occurrence of each input (compared by ``key``); returns the count removed."""
    seen: set[Hashable] = set()
    keep = []
    for i, value in enumerate(progress(dataset[column][:], f"Looking for duplicates ({description})")):
        k = key(value)
        if k not in seen:
            seen.add(k)
            keep.append(i)
    removed = len(dataset) - len(keep)
    return (dataset.select(keep) if removed else dataset), removed


def _split_indices(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of ``range(len(labels))``; plain random split when a class is too rare."""
    indices = np.arange(len(labels))
    counts = np.bincount(labels)
    stratify = labels if counts[counts > 0].min() >= 2 else None
    if stratify is None:
        logger.warning("A class has a single example: splitting without stratification.")
    try:
        keep, held_out = train_test_split(indices, test_size=fraction, stratify=stratify, random_state=seed)
    except ValueError:
        keep, held_out = train_test_split(indices, test_size=fraction, random_state=seed)
    return np.sort(keep), np.sort(held_out)


def check_enough_rows(train: Dataset, held_out: dict[str, float], files_flags: str) -> None:
    """Stop with one message when ``train`` is too small to carve the ``held_out`` splits (name ->
    percentage) with as many rows as there are classes in each, the least a stratified split needs.

    Sizes are computed as scikit-learn's ``train_test_split`` does: held-out counts rounded up."""
    names = train.features["label"].names
    counts = np.bincount(np.asarray(train["label"][:], dtype=int), minlength=len(names))
    classes, rows, total = int((counts > 0).sum()), len(train), sum(held_out.values())
    held = math.ceil(rows * total / 100)
    sizes = {"train": rows - held}
    if "test" in held_out:  # the held-out rows are split again, test rounded up
        test = math.ceil(held * held_out["test"] / total)
        sizes.update(validation=held - test, test=test)
    else:
        sizes["validation"] = held
    if min(sizes.values()) >= classes:
        return
    needed = max(math.ceil(100 * classes / min(held_out.values())), math.ceil(100 * classes / (100 - total)))
    per_class = ", ".join(f"{n}: {c}" for n, c in zip(names, counts, strict=True) if c)
    percentages = " and ".join(f"{p:g}% {name}" for name, p in held_out.items())
    raise UserError(
        f"too little data to split: {rows} rows in {classes} classes ({per_class}). At {percentages}, the splits "
        f"would get {', '.join(f'{n} {s}' for n, s in sizes.items())} rows, and each needs at least one row of every "
        f"class: that takes at least {needed} rows here (and at least {1 + len(held_out)} of each class). Add rows, "
        f"raise {' / '.join('--' + n + '_split_percentage' for n in held_out)}, or give {files_flags}."
    )


def complete_splits(
    splits: DatasetDict, validation_percentage: float, test_percentage: float, seed: int, files_flags: str
) -> tuple[DatasetDict, dict[str, str]]:
    """Make sure train, validation and test exist, carving what is missing out of train (``files_flags``:
    the flags that give them instead, named when the data is too small to carve them).

    When only validation is given (no test), the validation split doubles as the test split, and
    the returned notes say so: carving a test set out of a small training set would weaken both.
    """
    notes: dict[str, str] = {}
    train = splits["train"]
    has_validation, has_test = "validation" in splits, "test" in splits
    if not has_validation:
        held_out = {"validation": validation_percentage, **({} if has_test else {"test": test_percentage})}
        check_enough_rows(train, held_out, files_flags)
    if not has_validation and not has_test:
        held = (validation_percentage + test_percentage) / 100
        keep, rest = _split_indices(np.array(train["label"][:]), held, seed)
        rest_split = train.select(rest)
        val_idx, test_idx = _split_indices(
            np.array(rest_split["label"][:]), test_percentage / (validation_percentage + test_percentage), seed
        )
        splits = DatasetDict(
            train=train.select(keep), validation=rest_split.select(val_idx), test=rest_split.select(test_idx)
        )
        notes["split"] = (
            f"train/validation/test split {100 - validation_percentage - test_percentage:g}/"
            f"{validation_percentage:g}/{test_percentage:g} % from the training data, stratified, seed {seed}"
        )
    elif not has_validation:
        keep, val_idx = _split_indices(np.array(train["label"][:]), validation_percentage / 100, seed)
        splits = DatasetDict(train=train.select(keep), validation=train.select(val_idx), test=splits["test"])
        notes["split"] = f"validation = {validation_percentage:g} % of the training data, stratified, seed {seed}"
    elif not has_test:
        splits = DatasetDict(train=train, validation=splits["validation"], test=splits["validation"])
        notes["split"] = "no test split was given: the validation split doubles as the test split"
        notes["test_is_validation"] = "true"
    else:
        notes["split"] = "train/validation/test as given"
    return DatasetDict({k: splits[k] for k in SPLITS}), notes


def subsample(dataset: Dataset, max_samples: int | None, seed: int) -> Dataset:
    """At most ``max_samples`` examples, stratified when every class can keep one."""
    if max_samples is None or len(dataset) <= max_samples:
        return dataset
    labels = np.array(dataset.with_format(None)["label"][:])  # not through a transform (images become pixels)
    try:
        keep, _ = train_test_split(np.arange(len(labels)), train_size=max_samples, stratify=labels, random_state=seed)
    except ValueError:
        keep = np.random.default_rng(seed).permutation(len(labels))[:max_samples]
    return dataset.select(np.sort(keep))


def cross_split_overlap(splits: DatasetDict, key: Callable[[Any], Hashable], column: str) -> dict[str, int]:
    """How many validation/test inputs also occur in train (leakage that inflates scores)."""
    train_keys = {key(v) for v in progress(splits["train"][column][:], "Comparing the splits (train)")}
    return {
        name: sum(key(v) in train_keys for v in progress(splits[name][column][:], f"Comparing the splits ({name})"))
        for name in ("validation", "test")
        if splits[name] is not splits["train"]
    }


def deduplicate_and_split(
    splits: DatasetDict,
    key: Callable[[Any], Hashable],
    column: str,
    noun: str,
    args: Any,
    seed: int,
    files_flags: str,
) -> tuple[DatasetDict, dict[str, Any]]:
    """The steps every modality's loader ends with: duplicates removed within each split (compared by ``key`` of
    ``column``; ``noun`` names the inputs in messages), the missing splits carved from train (``args``' split
    percentages; ``files_flags`` give them instead), and what validation and test share with train counted.
    Returns the splits and their notes (``duplicates_removed``, ``split``, ``overlap_with_train``, ...)."""
    duplicates = {}
    with timed(f"Looked for duplicate {noun}"):
        for name in list(splits):
            splits[name], duplicates[name] = drop_duplicates(splits[name], key, column, f"{name} {noun}")
    with timed(f"Split the {noun}"):
        splits, notes = complete_splits(
            splits, args.validation_split_percentage, args.test_split_percentage, seed, files_flags
        )
    with timed(f"Compared the splits' {noun}"):
        overlap = cross_split_overlap(splits, key, column)
    if any(overlap.values()):
        logger.warning("%s shared with the training split (they inflate scores): %s", noun.capitalize(), overlap)
    return splits, {"duplicates_removed": duplicates, **notes, "overlap_with_train": overlap}


def finalize(
    data: ClassificationData, max_train_samples: int | None, max_eval_samples: int | None, seed: int
) -> ClassificationData:
    """Apply ``--max_train_samples``/``--max_eval_samples`` and record the final split sizes."""
    test_is_validation = data.notes.get("test_is_validation") == "true"
    splits = DatasetDict(
        train=subsample(data.splits["train"], max_train_samples, seed),
        validation=subsample(data.splits["validation"], max_eval_samples, seed),
        test=subsample(data.splits["test"], max_eval_samples, seed),
    )
    if test_is_validation:
        splits["test"] = splits["validation"]
    if max_train_samples or max_eval_samples:
        data.notes["subsampled"] = f"max_train_samples={max_train_samples}, max_eval_samples={max_eval_samples}"
    data.splits = splits
    return data
