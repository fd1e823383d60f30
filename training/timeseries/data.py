"""Time-series data sources: a dataset of the archives that ``aeon`` bundles (the default, offline, with its
official train/test split), a ``.ts`` file of the archives' format, a wide table (one row per series: the
label and the values, one column per step), a long table (one row per step: ``--series_id_column``,
``--time_column``, ``--value_columns``), or a Hub dataset whose value column(s) hold lists.

Every source ends as splits with a ``series`` column (channels x steps, NaN for a missing value; each series
its own length) and a ``label`` column. Leading and trailing missing steps are how unequal lengths are
stored in wide tables, not gaps: the model inputs drop them; interior gaps are filled by linear interpolation
(``models/processing_timeseries.py``), counted in ``dataset.json``.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict

from training.core.arguments import FileDataArguments
from training.core.data import (
    ClassificationData,
    deduplicate_and_split,
    encode_spelled_labels,
    find_column,
    load_hub_dataset,
)
from training.core.errors import UserError
from training.core.files import load_table
from training.models.processing_timeseries import MIN_LENGTH, fill_gaps

logger = logging.getLogger(__name__)

# The default: the models have headroom on it (MiniRocket 0.959, README "Time series"), 200 training series.
DEFAULT_ARCHIVE = "OSULeaf"
ARCHIVE_FORMAT = ".ts"


@dataclass
class TimeSeriesDataArguments(FileDataArguments):
    """Time-series data: an archive dataset bundled with aeon, files (wide, long or .ts) or a Hub dataset."""

    archive_dataset: str | None = field(
        default=None,
        metadata={
            "help": f"A dataset of the UCR/UEA archives that the aeon package ships (offline), with its official "
            f"train/test split, e.g. GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf, ACSF1, BasicMotions, "
            f"JapaneseVowels. Default when no other data is given: {DEFAULT_ARCHIVE}."
        },
    )
    train_file: str | None = field(
        default=None,
        metadata={
            "help": "Training data: .ts (archive format), or a wide or long table (.csv, .tsv, .parquet, .json)."
        },
    )
    series_id_column: str | None = field(
        default=None,
        metadata={"help": "Long tables: the column naming the series each row (time step) belongs to."},
    )
    time_column: str | None = field(
        default=None, metadata={"help": "Long tables: the column the steps are ordered by (default: file order)."}
    )
    value_columns: str | None = field(
        default=None,
        metadata={
            "help": "Comma-separated value columns. Long tables: one channel each (default: every other numeric "
            "column). Wide tables: the steps in order (default: every column but the label). Columns holding lists "
            "(a Hub dataset, JSON) are one channel each."
        },
    )
    max_length: int | None = field(
        default=None,
        metadata={
            "help": "Steps kept per series (longer ones are cut, shorter ones padded and masked). Default: the "
            "longest training series."
        },
    )

    def __post_init__(self) -> None:
        given = [f for f in ("archive_dataset", "train_file", "dataset_name") if getattr(self, f)]
        if len(given) > 1:
            raise UserError(f"give one data source, not {' and '.join('--' + f for f in given)}.")
        super().__post_init__()
        if (self.validation_file or self.test_file) and not self.train_file:
            raise UserError("--validation_file/--test_file need a --train_file too.")
        if self.max_length is not None and self.max_length < MIN_LENGTH:
            raise UserError(f"--max_length must be at least {MIN_LENGTH} steps (got {self.max_length}).")
        if self.time_column and not self.series_id_column:
            raise UserError("--time_column orders the rows of a long table: give --series_id_column too.")

    @property
    def value_fields(self) -> list[str]:
        return [name.strip() for name in (self.value_columns or "").split(",") if name.strip()]


def series_key(series: list[list[float]]) -> str:
    """Identical values (NaN included) count as duplicates."""
    return hashlib.sha1(np.asarray(series, dtype=np.float64).tobytes()).hexdigest()


def _rows_to_dataset(series: list[np.ndarray], labels: list[Any] | None, ids: list[Any] | None = None) -> Dataset:
    """Series with their labels (training) or their ids (new series to predict)."""
    columns: dict[str, Any] = {"series": [s.tolist() for s in series]}
    if labels is not None:
        columns["label"] = [str(v) for v in labels]
    if ids is not None:
        columns["id"] = [str(v) for v in ids]
    return Dataset.from_dict(columns)


def _load_archive(name: str) -> DatasetDict:
    from aeon.datasets import load_classification
    from aeon.datasets.tsc_datasets import multivariate, univariate

    try:
        splits = {split: load_classification(name, split=split) for split in ("train", "test")}
    except Exception as error:  # not bundled: aeon would download it, which needs internet
        known = sorted({*univariate, *multivariate}, key=str.lower)
        close = [n for n in known if n.lower().startswith(name.lower()[:3])][:5]
        hint = f" Close names: {', '.join(close)}." if close else ""
        raise UserError(
            f"could not load the archive dataset {name!r} ({type(error).__name__}: {error}). aeon ships a few offline "
            f"(GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf, ACSF1, BasicMotions, JapaneseVowels, ...); the others "
            f"download from timeseriesclassification.com and need internet.{hint}"
        ) from None
    return DatasetDict({split: _rows_to_dataset(list(x), list(y)) for split, (x, y) in splits.items()})


def _load_ts_file(path: str, flag: str, labelled: bool = True) -> Dataset:
    from aeon.datasets import load_from_ts_file

    if not Path(path).is_file():
        raise UserError(f"{flag} {path} does not exist. Check the path.")
    try:
        x, y = load_from_ts_file(path)
    except Exception as error:  # aeon raises IOError/ValueError with a line-level reason
        raise UserError(f"could not read {path} as a .ts file: {error}") from None
    if not labelled:  # series to predict: numbered from 1, in file order
        return _rows_to_dataset(list(x), None, list(range(1, len(x) + 1)))
    if y is None or len(y) == 0:
        raise UserError(f"{path} has no class labels (@classLabel true and a label after each series are needed).")
    return _rows_to_dataset(list(x), list(y))


def _numeric(frame: pd.DataFrame, columns: list[str], where: str) -> np.ndarray:
    """``columns`` of ``frame`` as floats, empty cells NaN; a value that is not a number is an error naming it."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & frame[columns].notna() & (frame[columns].astype(str).apply(lambda c: c.str.strip()) != "")
    if bad.to_numpy().any():
        row, column = np.argwhere(bad.to_numpy())[0]
        raise UserError(
            f"{where}: column {columns[column]!r} has a value that is not a number at data row {row + 1} "
            f"({frame[columns[column]].iloc[row]!r}). Time series values must be numbers (leave a cell empty for a "
            "missing value), or leave that column out with --value_columns."
        )
    return values.to_numpy(dtype=np.float64)


def _column(name: str, frame: pd.DataFrame, flag: str, where: str) -> str:
    found = find_column(name, list(frame.columns))
    if found is None:
        available = ", ".join(map(str, frame.columns))
        raise UserError(f"column {name!r} not found in {where}. Available columns: {available}. Use {flag}.")
    return found


def _table_to_dataset(
    table: Dataset, args: TimeSeriesDataArguments, where: str, id_column: str | None = None
) -> Dataset:
    """A wide or long table (or one whose value columns hold lists) as series and labels; with ``id_column`` (new
    series to predict: no label column), as series and ids (a wide table's ``id_column``, else row numbers; a long
    table's series ids)."""
    frame = table.to_pandas()
    frame.columns = [str(c) for c in frame.columns]
    label = None if id_column is not None else _column(args.label_column, frame, "--label_column", where)
    if label is not None and frame[label].isna().any():
        row = int(np.flatnonzero(frame[label].isna())[0]) + 1
        raise UserError(f"{where}: data row {row} has no label. Fill or remove it.")
    if not args.value_fields:
        frame = _without_unnamed_columns(frame, where)
    if args.series_id_column:
        return _long_table(frame, label, args, where)
    row_ids = _column(id_column, frame, "--id_column", where) if id_column else None
    values = [_column(v, frame, "--value_columns", where) for v in args.value_fields] or [
        c for c in frame.columns if c not in (label, row_ids)
    ]
    if not values:
        raise UserError(f"{where} has a label column and nothing else: where are the series' values?")
    if all(isinstance(frame[c].iloc[0], list | np.ndarray) for c in values):  # one channel per list column
        series = []
        for number, (_, row) in enumerate(frame.iterrows(), start=1):
            try:
                series.append(_cells_to_series([row[c] for c in values]))
            except (TypeError, ValueError) as error:  # a word in a list, channels of different lengths
                raise UserError(
                    f"{where}: the series of data row {number} cannot be read ({error}). A list cell holds numbers "
                    "(null for a missing value), and the channels of one series hold equally many."
                ) from None
    else:
        series = [row[None, :] for row in _numeric(frame, values, where)]
    if label is not None:
        return _rows_to_dataset(series, frame[label].tolist())
    return _rows_to_dataset(series, None, frame[row_ids].tolist() if row_ids else list(range(1, len(frame) + 1)))


def _without_unnamed_columns(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """``frame`` without unnamed, entirely empty columns (a trailing comma on every line); an unnamed column with
    values is refused: pandas' ``to_csv()`` writes its row index so, and it would be read as a step or channel."""
    unnamed = [c for c in frame.columns if not c.strip() or c.startswith("Unnamed: ")]
    empty = [c for c in unnamed if frame[c].isna().all()]
    if len(empty) < len(unnamed):
        raise UserError(
            f"{where} has an unnamed column with values, most likely a row index written by pandas' to_csv(): it "
            "would be read as part of every series. Save the file with index=False, or name the value columns "
            "with --value_columns."
        )
    return frame.drop(columns=empty)


def _cells_to_series(cells: list[Any]) -> np.ndarray:
    """List cells as one series: a list of numbers per channel, or one cell of lists (channels x steps)."""
    arrays = [np.asarray([np.asarray(v, dtype=np.float64) for v in c]) if np.ndim(c[0]) else np.asarray(c, float)
              for c in cells]  # fmt: skip
    return arrays[0] if len(arrays) == 1 and arrays[0].ndim == 2 else np.stack(arrays)


def _long_table(frame: pd.DataFrame, label: str | None, args: TimeSeriesDataArguments, where: str) -> Dataset:
    """One row per time step: grouped by ``--series_id_column``, ordered by ``--time_column``, one channel per
    value column; a series must have a single label (without ``label``: the series ids instead)."""
    ids = _column(args.series_id_column, frame, "--series_id_column", where)
    time = _column(args.time_column, frame, "--time_column", where) if args.time_column else None
    skip = {ids, label, time}
    if args.value_fields:
        values = [_column(v, frame, "--value_columns", where) for v in args.value_fields]
    else:
        values = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
        if not values:
            raise UserError(
                f"{where} has no numeric column besides {ids!r} and {label!r}: name them with --value_columns."
            )
    frame = frame.assign(**{c: _numeric(frame, [c], where)[:, 0] for c in values})
    if time:
        if not pd.api.types.is_numeric_dtype(frame[time]) and not pd.api.types.is_datetime64_any_dtype(frame[time]):
            # Dates in a CSV or JSON file are text: read as dates when every one is one.
            dates = pd.to_datetime(frame[time], errors="coerce", format="mixed")
            frame = frame.assign(**{time: dates}) if dates.notna().all() else frame
        frame = frame.sort_values([ids, time], kind="stable")
    series, labels, keys = [], [], []
    for key, rows in frame.groupby(ids, sort=False):
        if label is not None and rows[label].nunique() > 1:
            found = ", ".join(map(str, rows[label].unique()[:3]))
            raise UserError(
                f"{where}: series {key!r} has rows with different labels ({found}). A series has one class: check "
                "--label_column and --series_id_column."
            )
        if time and rows[time].duplicated().any():
            raise UserError(f"{where}: series {key!r} has two rows at the same {time!r}. Each step must be one row.")
        if time:
            rows = _with_missing_steps(rows, time)
        series.append(rows[values].to_numpy(dtype=np.float64).T)
        keys.append(key)
        if label is not None:
            labels.append(rows[label].iloc[0])
    return _rows_to_dataset(series, labels, None) if label is not None else _rows_to_dataset(series, None, keys)


def _with_missing_steps(rows: pd.DataFrame, time: str) -> pd.DataFrame:
    """One series' rows with a row of missing values (NaN) wherever a regular time column skips steps, so a gap
    is a missing value (filled and counted as such) rather than two steps joined up. Regular: numbers or dates
    whose most frequent difference is also the smallest, every other a whole multiple of it, the gaps adding at
    most as many steps as there are rows; other times only order the rows."""
    stamps = rows[time]
    if len(rows) < 3 or not (pd.api.types.is_numeric_dtype(stamps) or pd.api.types.is_datetime64_any_dtype(stamps)):
        return rows
    differences = stamps.diff().iloc[1:]
    step = differences.min()
    if not step > step * 0:  # no step (missing times): nothing to tell
        return rows
    multiples = (differences / step).to_numpy(dtype=np.float64)
    if abs(float(differences.mode().iloc[0] / step) - 1) > 1e-6:  # mostly longer steps: irregular sampling
        return rows
    whole = np.round(multiples)
    if np.abs(multiples - whole).max() > 1e-6 or (whole == 1).all() or whole.sum() + 1 > 2 * len(rows):
        return rows
    positions = np.concatenate([[0], np.cumsum(whole.astype(int))])
    full = pd.DataFrame(index=range(positions[-1] + 1), columns=rows.columns, dtype=object)
    full.iloc[positions] = rows.to_numpy()
    return full


def _load_file(path: str, flag: str, args: TimeSeriesDataArguments) -> tuple[Dataset, dict[str, str]]:
    if Path(path).suffix.lower() == ARCHIVE_FORMAT:
        return _load_ts_file(path, flag), {}
    table, notes = load_table(path, flag, args.delimiter)
    return _table_to_dataset(table, args, f"{flag} {path}"), notes


def read_series_to_predict(
    path: str, args: TimeSeriesDataArguments, id_column: str | None
) -> tuple[list[str], list[np.ndarray]]:
    """New series (no label) from a ``.ts`` file or a wide or long table read as training reads them: their ids
    (``id_column`` of a wide table, else row numbers; a long table's series ids) and (channels x steps) values."""
    if Path(path).suffix.lower() == ARCHIVE_FORMAT:
        dataset = _load_ts_file(path, "--input_file", labelled=False)
    else:
        table, _ = load_table(path, "--input_file", args.delimiter)
        dataset = _table_to_dataset(table, args, f"--input_file {path}", id_column=id_column or "")
    return dataset["id"], [np.asarray(s, dtype=np.float64) for s in dataset["series"]]


def write_series_csv(series: list[list[float]], path: Path) -> None:
    """One series as the pipeline reads a file: a column per channel (``channel_1``, ...), a row per step,
    ``nan`` for a missing value (an empty cell would make a one-channel row a blank line)."""
    array = np.asarray(series, dtype=np.float64).T
    header = ",".join(f"channel_{i + 1}" for i in range(array.shape[1]))
    rows = (",".join(repr(float(v)) for v in step) for step in array)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def series_lengths(split: Dataset, name: str = "") -> tuple[list[int], list[int], int]:
    """Each series' length as the models read it (leading/trailing missing steps dropped), its channel count, and
    the interior missing values (gaps) of the split, by the feature extractor's own ``fill_gaps``. A series or a
    channel with no values at all is an error naming it (``name``: the split's, for the message)."""
    lengths, channels, gaps = [], [], 0
    for i, series in enumerate(split["series"]):
        array = np.asarray(series, dtype=np.float64)
        try:
            span, filled = fill_gaps(array)
        except ValueError as error:  # nothing to interpolate from
            raise UserError(
                f"series {i + 1} of the {name or 'given'} data: {error}. Remove it, or give that channel values."
            ) from None
        lengths.append(int(span.shape[1]))
        channels.append(int(array.shape[0]))
        gaps += filled
    return lengths, channels, gaps


def _check_series(splits: DatasetDict) -> dict[str, Any]:
    """Every series has the training data's channel count, some values and at least ``MIN_LENGTH`` steps;
    returns the channel count and the missing values found per split."""
    expected, gaps = None, {}
    for name, split in splits.items():
        lengths, channels, gaps[name] = series_lengths(split, name)
        expected = expected or channels[0]
        odd = [i for i, c in enumerate(channels) if c != expected]
        if odd:
            raise UserError(
                f"the {name} data mixes series of {expected} and {channels[odd[0]]} channels (series {odd[0] + 1}). "
                "Every series needs the same channels."
            )
        short = [i for i, n in enumerate(lengths) if n < MIN_LENGTH]
        if short:
            raise UserError(
                f"series {short[0] + 1} of the {name} data has {lengths[short[0]]} step(s) ({len(short)} series have "
                f"fewer than {MIN_LENGTH}): too short for a time-series model. Remove them, or check that each row "
                "(wide table) or each series id (long table) is one series."
            )
    return {"channels": expected, "missing_values": gaps}


def load_timeseries_data(args: TimeSeriesDataArguments, seed: int) -> ClassificationData:
    """Load, check, deduplicate and split the series described by ``args``: train, validation and test
    splits with columns ``series`` and ``label``. An official test split stays the test split."""
    notes: dict[str, Any] = {}
    if args.train_file:
        files = {"train": args.train_file, "validation": args.validation_file, "test": args.test_file}
        splits = DatasetDict()
        for name, path in files.items():
            if path:
                splits[name], how = _load_file(path, f"--{name}_file", args)
                notes.update(how)
        source = Path(args.train_file).name
    elif args.dataset_name:
        hub = load_hub_dataset(args.dataset_name, args.dataset_config_name, local_flag="--train_file")
        splits = DatasetDict({k: _table_to_dataset(v, args, f"the {k} split") for k, v in hub.items()})
        source = args.dataset_name
    else:
        name = args.archive_dataset or DEFAULT_ARCHIVE
        splits, source = _load_archive(name), f"{name} (UCR/UEA archive, bundled with aeon)"
        notes["official_split"] = "the archive's official train/test split; validation carved from train"

    splits, label_names, label_values = encode_spelled_labels(splits, args.class_names)
    checked = _check_series(splits)
    if any(checked["missing_values"].values()):
        notes["missing_values"] = (
            f"{checked['missing_values']} interior missing values per split, filled by linear interpolation "
            "(leading/trailing ones mark unequal lengths)"
        )
    splits, split_notes = deduplicate_and_split(
        splits, series_key, "series", "series", args, seed, "--validation_file and --test_file"
    )
    notes.update(split_notes)
    notes["channels"] = checked["channels"]
    return ClassificationData(
        splits=splits, input_column="series", label_names=label_names, source=source, hub_dataset=args.dataset_name,
        notes=notes, label_values=label_values if label_values != label_names else [],
    )  # fmt: skip
