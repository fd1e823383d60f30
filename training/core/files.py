"""Tabular files as users have them: csv/tsv/json/jsonl/parquet read through ``datasets``' builders,
after checks that turn a malformed file into one message naming what is wrong and where.

The builders fail on a ragged CSV, a broken JSON line or an empty file with messages such as "An error
occurred while generating the dataset", and read a semicolon-separated file as one column. So each
file is first read here with the standard library (``csv``, ``json``): the delimiter is detected when
the extension's own does not fit, and every row is checked against the header.
"""

import csv
import io
import itertools
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from datasets import Dataset, load_dataset

from training.core.errors import UserError

logger = logging.getLogger(__name__)

# File extension -> datasets builder.
FILE_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SNIFF_LINES = 50  # lines read to detect the delimiter
LISTED = 3  # bad lines named in a message
# Where what the project builds once and reuses (converted and pretrained checkpoints) is kept.
CACHE_ENV = "CLASSIFICATION_LAB_CACHE"


def cache_dir(name: str) -> Path:
    """``name``'s folder in the project's cache: ``$CLASSIFICATION_LAB_CACHE``, else ``$XDG_CACHE_HOME`` or
    ``~/.cache``, then ``classification-lab/name``."""
    root = Path(os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")))
    return root / "classification-lab" / name


def build_once(target: Path, build: Callable[[Path], None], marker: str = "model.safetensors") -> Path:
    """``target``, built by ``build(folder)`` unless it already holds ``marker``. The build writes into a
    scratch folder renamed into place: a crash or a concurrent build never leaves half a folder."""
    if (target / marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".build-"))
    try:
        build(scratch)
        try:
            scratch.rename(target)
        except OSError:  # another process finished first
            if not (target / marker).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def parse_delimiter(value: str) -> str:
    """A ``--delimiter`` as the character itself: one character, or a name of ``DELIMITERS`` (or ``\\t``)."""
    names = {name: character for character, name in DELIMITERS.items()} | {"\\t": "\t"}
    delimiter = names.get(value.lower(), value)
    if len(delimiter) != 1:
        raise UserError(f"--delimiter must be one character or tab/comma/semicolon/pipe (got {delimiter!r}).")
    return delimiter


def _check_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(
            f"{path} is not UTF-8 text (byte {error.start}, line {line}). Re-save it as UTF-8, for example "
            f"`iconv -f latin1 -t utf-8 {path} > fixed{path.suffix}`."
        ) from None


def _rows(text: str, delimiter: str) -> Iterator[list[str]]:
    # newline="": line ends only at \n, \r\n and \r (as csv expects), not at the other breaks str.splitlines knows.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _field_counts(text: str, delimiter: str) -> list[int]:
    return [len(row) for row in itertools.islice(_rows(text, delimiter), SNIFF_LINES) if row]


def detect_delimiter(text: str, default: str) -> str:
    """``default`` when it splits the first rows into the same number (>1) of fields; else the first other
    delimiter that does; else ``default`` (a one-column file is reported later, by its column names)."""

    def fits(delimiter: str) -> bool:
        counts = _field_counts(text, delimiter)
        return bool(counts) and counts[0] > 1 and len(set(counts)) == 1

    if fits(default):
        return default
    return next((d for d in DELIMITERS if d != default and fits(d)), default)


def _check_csv(path: Path, text: str, delimiter: str) -> None:
    """Every row has as many fields as the header; the file has a header and at least one row."""
    reader = _rows(text, delimiter)
    header, bad, rows, start = None, [], 0, 1
    for row in reader:
        if row:
            if header is None:
                header = row
            else:
                rows += 1
                if len(row) != len(header):
                    bad.append((start, len(row)))
        start = reader.line_num + 1
    if header is None:
        raise UserError(f"{path} is empty: it holds no header and no rows.")
    if not rows:
        raise UserError(f"{path} has a header ({', '.join(header)}) but no rows.")
    if bad:
        name = DELIMITERS.get(delimiter, repr(delimiter))
        lines = "; ".join(f"line {line} has {count}" for line, count in bad[:LISTED])
        more = f" (and {len(bad) - LISTED} more line(s))" if len(bad) > LISTED else ""
        raise UserError(
            f"{path} is not a well-formed {name}-separated file: the header has {len(header)} fields "
            f"({', '.join(header)}) but {lines}{more}. Quote fields that contain the delimiter "
            '("like, this") or fix those lines.'
        )


def _check_json(path: Path, text: str) -> None:
    """A JSON document (a list of records, or columns) or JSON Lines (one object a line), with rows."""
    if not text.strip():
        raise UserError(f"{path} is empty: it holds no rows.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
        try:  # one object per line, the datasets json builder's other layout
            json.loads(lines[0][1])
        except json.JSONDecodeError:
            raise UserError(
                f"{path} is not valid JSON: {whole_error.msg} at line {whole_error.lineno}, column "
                f'{whole_error.colno}. Give a list of records ([{{"text": ..., "label": ...}}, ...]) or '
                "JSON Lines (one object a line)."
            ) from None
        for number, line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise UserError(
                    f"{path} is not valid JSON Lines: line {number}: {error.msg} (column {error.colno}). "
                    "Each line must be one complete JSON object."
                ) from None
            if not isinstance(record, dict):
                raise UserError(
                    f"{path} line {number} holds a JSON {type(record).__name__}, not an object: each line of a "
                    'JSON Lines file is one record such as {"text": ..., "label": ...}.'
                ) from None
        return
    if isinstance(document, list) and not document:
        raise UserError(f"{path} holds an empty list: it has no rows.")
    if isinstance(document, dict) and not any(isinstance(v, list) and v for v in document.values()):
        raise UserError(f"{path} holds an object without rows: give a list of records or columns of values.")


def load_table(path_str: str, flag: str, delimiter: str | None = None) -> tuple[Dataset, dict[str, str]]:
    """Read a csv/tsv/json/jsonl/parquet file (``flag`` names it in messages); returns the rows and notes
    on how it was read (a detected delimiter)."""
    path = Path(path_str)
    if not path.is_file():
        raise UserError(f"{flag} {path} does not exist. Check the path.")
    suffix = path.suffix.lower()
    if suffix not in FILE_BUILDERS:
        raise UserError(f"{flag} {path}: unsupported format {path.suffix!r}; use one of {', '.join(FILE_BUILDERS)}.")
    builder, options, notes = FILE_BUILDERS[suffix], {}, {}
    if builder != "parquet":
        text = _check_utf8(path)
        if builder == "json":
            _check_json(path, text)
        else:
            default = "\t" if suffix == ".tsv" else ","
            sep = delimiter or detect_delimiter(text, default)
            if sep != default and not delimiter:
                name = DELIMITERS[sep]
                logger.warning("%s looks %s-separated: reading it so (pass --delimiter to choose).", path, name)
                notes["delimiter"] = f"{path.name}: {name}-separated (detected)"
            _check_csv(path, text, sep)
            options = {"sep": sep}
    try:
        dataset = load_dataset(builder, data_files=str(path), split="train", **options)
    except Exception as error:  # the builders raise many types for a malformed file
        raise UserError(f"could not read {path} as {builder}: {error}") from None
    if len(dataset) == 0:
        raise UserError(f"{path} has no rows.")
    return dataset, notes
