"""New, unlabelled inputs in the forms training reads, in chunks, each with its id: rows of a table of texts
(the model's own input columns joined as in training), every image file of a folder or the images a CSV of ids
names (decoded by DataLoader workers; one that does not decode is skipped and listed), or time series in the
wide, long or ``.ts`` forms. Every reader yields ``Chunk``s, so memory follows the chunk size, not the input's.
"""

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from training.core.errors import UserError
from training.core.fields import join_fields
from training.core.files import FILE_BUILDERS, detect_delimiter
from training.image.data import IMAGE_EXTENSIONS, index_images, list_images

logger = logging.getLogger(__name__)

ROW_NUMBER = "row"  # the id column's name when the input has none: rows numbered from 1
LISTED = 5  # ids or files named in a message


@dataclass
class Chunk:
    """Consecutive inputs and their ids; ``skipped``: inputs that could not be read (id, reason)."""

    ids: list[str]
    inputs: list[Any]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _check_readable(path: Path, flag: str) -> None:
    if not path.is_file():
        raise UserError(f"{flag} {path} does not exist. Check the path.")
    if path.stat().st_size == 0:
        raise UserError(f"{flag} {path} is empty: it holds no header and no rows.")


def table_chunks(path_str: str, flag: str, chunk_size: int, delimiter: str | None = None) -> Iterator[pd.DataFrame]:
    """A csv/tsv/jsonl/json/parquet file's rows, ``chunk_size`` at a time, every cell as text (``NA`` stays a
    word, an empty cell is ""). A malformed file stops with one message naming what is wrong."""
    path = Path(path_str)
    _check_readable(path, flag)
    suffix = path.suffix.lower()
    if suffix not in FILE_BUILDERS:
        raise UserError(f"{flag} {path}: unsupported format {path.suffix!r}; use one of {', '.join(FILE_BUILDERS)}.")
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
                frame = batch.to_pandas()
                yield frame.astype(str).where(frame.notna(), "")
        elif suffix in (".json", ".jsonl"):
            lines = suffix == ".jsonl" or path.read_bytes()[:1] != b"["
            frames = pd.read_json(path, lines=lines, chunksize=chunk_size if lines else None, dtype=False)
            for frame in frames if lines else [frames]:
                yield frame.astype(str).where(frame.notna(), "")
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                sample = handle.read(64 * 1024)
            sep = delimiter or detect_delimiter(sample, "\t" if suffix == ".tsv" else ",")
            yield from pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunk_size,
                                   encoding="utf-8-sig")  # fmt: skip
    except UnicodeDecodeError as error:
        raise UserError(
            f"{path} is not UTF-8 text (byte {error.start} of a block). Re-save it as UTF-8, for example "
            f"`iconv -f latin1 -t utf-8 {path} > fixed{path.suffix}`."
        ) from None
    except pd.errors.EmptyDataError:
        raise UserError(f"{flag} {path} is empty: it holds no header and no rows.") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise UserError(
            f"{flag} {path} cannot be read as a table: {str(error).strip().splitlines()[0]}. Quote fields that "
            'contain the delimiter ("like, this") or fix that line.'
        ) from None


def require_columns(columns: list[str], needed: list[str], path: str, what: str, flag: str) -> None:
    """Stop with one message naming the columns ``what`` needs and the ones the file has."""
    missing = [c for c in needed if c not in columns]
    if missing:
        raise UserError(
            f"{path} lacks the column(s) {', '.join(repr(c) for c in missing)} that {what} needs (it needs "
            f"{', '.join(repr(c) for c in needed)}; the file has {', '.join(repr(c) for c in columns)}). Rename "
            f"them in the file, or name them with {flag}."
        )


def text_chunks(
    path: str, fields: list[str], id_column: str | None, chunk_size: int, delimiter: str | None = None
) -> Iterator[Chunk]:
    """The texts of a table as the model was trained on them: one column, or several joined by ``join_fields``;
    ids from ``id_column``, else row numbers."""
    row = 0
    for frame in table_chunks(path, "--input_file", chunk_size, delimiter):
        columns = [str(c) for c in frame.columns]
        frame.columns = columns
        require_columns(columns, fields, path, "the model", "--text_column")
        if id_column is not None:
            require_columns(columns, [id_column], path, "--id_column", "--id_column")
        if len(fields) == 1:
            texts = frame[fields[0]].tolist()
        else:
            texts = [join_fields(dict(zip(fields, values, strict=True))) for values in frame[fields].itertuples(False)]
        ids = frame[id_column].tolist() if id_column else [str(row + i + 1) for i in range(len(frame))]
        row += len(frame)
        yield Chunk(ids, texts)


def count_rows(path: str) -> int | None:
    """About how many rows a text file has (its line breaks, less the header), for the progress bar's ETA;
    None for formats that are not line-based."""
    file = Path(path)
    if file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(file).metadata.num_rows
    if file.suffix.lower() not in (".csv", ".tsv", ".jsonl"):
        return None
    with file.open("rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - (file.suffix.lower() != ".jsonl"), 0)


def image_files(root_str: str) -> list[Path]:
    """Every image file under ``root`` (subfolders included, hidden files left out), sorted."""
    root = Path(root_str)
    if not root.is_dir():
        raise UserError(f"--image_dir {root} is not a folder. Give the folder that holds the images.")
    found = [root / relative for relative in list_images(root)]
    if not found:
        raise UserError(f"--image_dir {root} holds no image files ({', '.join(sorted(IMAGE_EXTENSIONS)[:8])}, ...).")
    return found


def image_id(path: Path, root: Path, with_extension: bool = False) -> str:
    """An image's id: its path under ``root`` without the extension (``abc`` for ``test/abc.tif``)."""
    relative = path.relative_to(root)
    return relative.as_posix() if with_extension else relative.with_suffix("").as_posix()


def images_by_id(root: Path, files: list[Path], ids: list[str], where: str) -> list[Path]:
    """The image of each id (its file name with or without the extension, or its path under ``root``), as training
    finds a labels CSV's images; an id without one, or shared by several files, stops with one message."""
    index = index_images([f.relative_to(root).as_posix() for f in files])
    missing = [i for i in ids if i not in index]
    if missing:
        raise UserError(
            f"{len(missing)} id(s) of {where} have no image in {root}: {', '.join(missing[:LISTED])}. Check "
            "--image_dir and --id_column."
        )
    shared = [i for i in ids if index[i] is None]
    if shared:
        raise UserError(f"the id(s) {', '.join(shared[:LISTED])} of {where} match several files in {root}: give their "
                        "paths under the folder as ids.")  # fmt: skip
    return [root / index[i] for i in ids]


class _ImageFiles(torch.utils.data.Dataset):
    """Images decoded in DataLoader workers as the image pipeline loads them (EXIF rotation, RGB); a file that
    does not decode gives its reason instead."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[int, Any]:
        from transformers.image_utils import load_image

        try:
            return index, load_image(str(self.paths[index]))
        except Exception as error:  # PIL raises many types for broken files
            return index, f"cannot be decoded ({type(error).__name__}: {error})"


def image_chunks(paths: list[Path], ids: list[str], chunk_size: int, workers: int) -> Iterator[Chunk]:
    """The images at ``paths``, decoded by ``workers`` DataLoader processes, ``chunk_size`` at a time."""
    loader = DataLoader(_ImageFiles(paths), batch_size=chunk_size, num_workers=workers, collate_fn=list)
    for batch in loader:
        chunk = Chunk([], [])
        for index, image in batch:
            if isinstance(image, str):
                chunk.skipped.append((ids[index], f"{paths[index]}: {image}"))
            else:
                chunk.ids.append(ids[index])
                chunk.inputs.append(image)
        yield chunk


def default_workers() -> int:
    """DataLoader workers for decoding: every core but one for the model, at least one."""
    return max(1, min(8, len(os.sched_getaffinity(0)) - 1))


def series_chunk(ids: list[str], series: list[np.ndarray], channels: int | None) -> Chunk:
    """Series read by the time-series readers, checked against the model's channel count."""
    if channels is not None:
        wrong = [(i, s.shape[0]) for i, s in zip(ids, series, strict=True) if s.shape[0] != channels]
        if wrong:
            listed = ", ".join(f"{i} ({c})" for i, c in wrong[:LISTED])
            raise UserError(
                f"the model reads series of {channels} channel(s), but {len(wrong)} series have another count: "
                f"{listed}. Give the same channels as in training (long tables: --value_columns)."
            )
    return Chunk(ids, series)
