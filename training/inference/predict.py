"""Predictions of trained models for new, unlabelled data: a CSV of ids, predicted labels and class probabilities,
or a competition's submission file.

    python training/predict.py --model outputs/tweets/glove-lstm --input_file test.csv --output predictions.csv
    python training/predict.py --run outputs/tweets --input_file test.csv --sample_submission sample_submission.csv \\
        --output submission.csv
    python training/predict.py --run outputs/patches --image_dir test/ --sample_submission sample_submission.csv \\
        --submission_value probability --output submission.csv

The model is a model folder or a Hub id of any model the training scripts make (the ensemble too), or a whole run
(``--run``: one prediction per model; ``--model_name`` picks one, a submission takes the run's best). Inputs are
read in chunks and the output is written as they go, to a temporary file renamed into place at the end: an
interrupted run leaves no half file that looks complete.
"""

import csv
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from transformers import HfArgumentParser

from training.core.errors import UserError
from training.core.progress import is_main_process
from training.inference import inputs as readers
from training.inference.classifiers import Classifier, load_classifier, load_run

logger = logging.getLogger("predict")


@dataclass
class PredictArguments:
    """What to predict with, on what, and where the predictions go."""

    model: str | None = field(default=None, metadata={"help": "A model folder (outputs/text/glove-lstm) or Hub id."})
    run: str | None = field(default=None, metadata={"help": "A run folder: predict with each of its models."})
    model_name: str | None = field(default=None, metadata={"help": "With --run: only this model of the run."})
    input_file: str | None = field(
        default=None,
        metadata={
            "help": "Texts: a .csv/.tsv/.json/.jsonl/.parquet table with the model's input column(s). Time series: "
            "a .ts file or a wide or long table. Images: a CSV of image ids, with --image_dir."
        },
    )
    image_dir: str | None = field(
        default=None, metadata={"help": "Images: every image file in this folder (and its subfolders)."}
    )
    output: str = field(default="predictions.csv", metadata={"help": "The CSV to write."})
    overwrite_output: bool = field(default=False, metadata={"help": "Replace --output if it exists."})
    id_column: str | None = field(
        default=None,
        metadata={
            "help": "The input's id column. Default: the sample submission's first column when the input has it, "
            "'id' for a CSV of image ids; else rows are numbered (images: their file name without extension)."
        },
    )
    text_column: str | None = field(
        default=None,
        metadata={"help": "Texts: the column(s) to classify, comma-separated. Default: those the model trained on."},
    )
    sample_submission: str | None = field(
        default=None,
        metadata={
            "help": "A competition's sample submission: the output gets exactly its header and row order, and its "
            "ids must be the input's. id,<value>: one value per row (--submission_value); id,<class>,...: each "
            "class's probability."
        },
    )
    submission_value: Literal["label", "probability"] = field(
        default="label",
        metadata={
            "help": "What the value column of an id,<value> submission holds: the predicted label as the training "
            "data spelled it (e.g. 0/1), or the positive class's probability (binary tasks)."
        },
    )
    decision_threshold: float | None = field(
        default=None,
        metadata={
            "help": "Binary tasks: predict the positive class from this probability. Default: the model's own "
            "(chosen on validation when the run's primary metric is f1_positive), else the most probable class."
        },
    )
    batch_size: int = field(default=64, metadata={"help": "Inputs per forward pass."})
    chunk_size: int = field(default=4096, metadata={"help": "Inputs read, predicted and written at a time."})
    num_workers: int = field(
        default_factory=readers.default_workers, metadata={"help": "Images: DataLoader workers that decode them."}
    )
    strict_images: bool = field(
        default=False, metadata={"help": "Stop on an image that does not decode instead of skipping it."}
    )
    delimiter: str | None = field(default=None, metadata={"help": "The input table's field separator."})
    series_id_column: str | None = field(default=None, metadata={"help": "Long time-series tables, as in training."})
    time_column: str | None = field(default=None, metadata={"help": "Long time-series tables, as in training."})
    value_columns: str | None = field(default=None, metadata={"help": "Time-series value columns, as in training."})

    def __post_init__(self) -> None:
        if bool(self.model) == bool(self.run):
            raise UserError("give either --model (a model folder or Hub id) or --run (a run folder), not both.")
        if self.model_name and not self.run:
            raise UserError("--model_name picks a model of a run: give --run too.")
        if not self.input_file and not self.image_dir:
            raise UserError("give the data to predict: --input_file (a table or .ts file) or --image_dir (images).")
        if self.decision_threshold is not None and not 0 < self.decision_threshold < 1:
            raise UserError(f"--decision_threshold must be between 0 and 1 (got {self.decision_threshold}).")
        if self.batch_size < 1 or self.chunk_size < 1:
            raise UserError("--batch_size and --chunk_size must be at least 1.")
        if Path(self.output).exists() and not self.overwrite_output:
            raise UserError(f"{self.output} exists: pass --overwrite_output to replace it, or choose another --output.")


def parse(argv: list[str] | None = None) -> PredictArguments:
    parser = HfArgumentParser(PredictArguments, description=__doc__, allow_abbrev=False)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    return args


def load_models(args: PredictArguments) -> list[Classifier]:
    """The model(s) to predict with: ``--model``, or the run's (one with ``--model_name``; a submission, one value
    per row, takes the run's best)."""
    if args.model:
        classifiers = [load_classifier(args.model, batch_size=args.batch_size)]
    else:
        classifiers, _ = load_run(
            Path(args.run), args.model_name, args.batch_size, best_only=bool(args.sample_submission)
        )
    for classifier in classifiers:
        if args.decision_threshold is not None:
            classifier.decision_threshold = args.decision_threshold
        if classifier.decision_threshold is not None and len(classifier.label_names) != 2:
            raise UserError(f"{classifier.name} has {len(classifier.label_names)} classes: a decision threshold is "
                            "for binary tasks only.")  # fmt: skip
    tasks = {c.task for c in classifiers}
    if len(tasks) > 1:
        raise UserError(f"the models are of different tasks ({', '.join(sorted(tasks))}).")
    return classifiers


def read_inputs(
    args: PredictArguments, model: Classifier, id_column: str | None, with_extension: bool = False
) -> tuple[Iterator[readers.Chunk], int | None]:
    """The input's chunks for ``model``'s task and, where known, how many inputs there are (``with_extension``:
    images named by their file name with its extension)."""
    if model.task == "image-classification":
        if not args.image_dir:
            raise UserError("an image model predicts images: give --image_dir (and --input_file for a CSV of ids).")
        root = Path(args.image_dir)
        files = readers.image_files(args.image_dir)
        if args.input_file:
            paths, ids = image_ids_to_paths(args.input_file, id_column or "id", root, files, args)
        else:
            paths, ids = files, [readers.image_id(f, root, with_extension) for f in files]
        return readers.image_chunks(paths, ids, args.chunk_size, args.num_workers), len(paths)
    if not args.input_file:
        raise UserError(f"a {model.task.split('-classification')[0]} model predicts from a file: give --input_file.")
    if model.task == "text-classification":
        fields = (
            [c.strip() for c in args.text_column.split(",")] if args.text_column else model.input_columns or ["text"]
        )
        return readers.text_chunks(
            args.input_file, fields, id_column, args.chunk_size, args.delimiter
        ), readers.count_rows(args.input_file)
    from training.timeseries.data import TimeSeriesDataArguments, read_series_to_predict

    series_args = TimeSeriesDataArguments(
        series_id_column=args.series_id_column, time_column=args.time_column, value_columns=args.value_columns,
        delimiter=args.delimiter,
    )  # fmt: skip
    ids, series = read_series_to_predict(args.input_file, series_args, id_column)
    chunks = (readers.series_chunk(ids[i : i + args.chunk_size], series[i : i + args.chunk_size], model.channels)
              for i in range(0, len(ids), args.chunk_size))  # fmt: skip
    return chunks, len(ids)


def image_ids_to_paths(
    ids_file: str, id_column: str, root: Path, files: list[Path], args: PredictArguments
) -> tuple[list[Path], list[str]]:
    """The image of each id of a CSV (with or without its extension, in any subfolder of ``root``)."""
    frames = list(readers.table_chunks(ids_file, "--input_file", 1 << 20, args.delimiter))
    columns = [str(c) for c in frames[0].columns]
    readers.require_columns(columns, [id_column], ids_file, "a CSV of image ids", "--id_column")
    ids = [str(i) for frame in frames for i in frame[id_column].tolist()]
    return readers.images_by_id(root, files, ids, ids_file), ids


@dataclass
class Submission:
    """A competition's sample submission: its header, its ids in order, and what its value columns hold."""

    header: list[str]
    ids: list[str]
    classes: list[int] | None  # id,<class>,...: the class index of each value column; None for id,<value>

    @property
    def id_column(self) -> str:
        return self.header[0]


def read_submission(path: str, model: Classifier, value: str) -> Submission:
    """The sample submission at ``path``, checked against the model's classes and ``--submission_value``."""
    frames = list(readers.table_chunks(path, "--sample_submission", 1 << 20))
    header = [str(c) for c in frames[0].columns]
    ids = [str(i) for frame in frames for i in frame[header[0]].tolist()]
    if not ids:
        raise UserError(f"--sample_submission {path} has a header but no rows.")
    if len(set(ids)) < len(ids):
        raise UserError(f"--sample_submission {path} repeats ids in its first column ({header[0]!r}).")
    values = header[1:]
    for names in (model.label_names, model.label_values):
        if len(values) == len(names) > 1 and set(values) == set(names):
            return Submission(header, ids, [names.index(v) for v in values])
    if len(values) != 1:
        raise UserError(
            f"--sample_submission {path}: its columns after the id ({', '.join(values) or 'none'}) are neither one "
            f"value column nor the model's classes ({', '.join(model.label_names)})."
        )
    if value == "probability" and len(model.label_names) != 2:
        raise UserError(f"--submission_value probability is the positive class's probability: {model.name} has "
                        f"{len(model.label_names)} classes. Use --submission_value label.")  # fmt: skip
    return Submission(header, ids, None)


def check_same_ids(submission: Submission, ids: list[str], where: str) -> None:
    """The sample submission's ids and the input's are the same set; else the first differences, named."""
    wanted, given = set(submission.ids), set(ids)
    if wanted == given and len(ids) == len(given):
        return
    missing = [i for i in submission.ids if i not in given][: readers.LISTED]
    extra = [i for i in ids if i not in wanted][: readers.LISTED]
    repeated = len(ids) - len(given)
    problems = ([f"{len(wanted - given)} id(s) of the sample submission are not in {where} ({', '.join(missing)})"]
                if missing else []) + ([f"{len(given - wanted)} id(s) of {where} are not in the sample submission "
                                        f"({', '.join(extra)})"] if extra else []) + (
        [f"{where} repeats {repeated} id(s)"] if repeated else [])  # fmt: skip
    raise UserError(f"the ids do not match: {'; '.join(problems)}. Check --id_column and the input.")


def header_for(models: list[Classifier], id_name: str) -> list[str]:
    """``id, label, probability_<class>...`` for one model; each model's columns prefixed by its name for several."""
    columns = [id_name]
    for model in models:
        prefix = f"{model.name}_" if len(models) > 1 else ""
        columns += [f"{prefix}label", *(f"{prefix}probability_{name}" for name in model.label_names)]
    return columns


class AtomicCSV:
    """A CSV written to a temporary file beside ``path`` and renamed into place by ``commit``; removed if the
    program stops first, so an interrupted run never leaves a half file that looks complete."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, self.temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        self.path, self.file = path, os.fdopen(handle, "w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        self.file.close()
        Path(self.temporary).unlink(missing_ok=True)


def probability_text(value: float) -> str:
    return f"{value:.6g}"


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    models = load_models(args)
    first = models[0]
    submission = None
    id_column = args.id_column
    if args.sample_submission:
        submission = read_submission(args.sample_submission, first, args.submission_value)
        if first.task != "image-classification" or args.input_file:
            id_column = id_column or submission.id_column
        # Checked before any prediction: a mismatch costs seconds, not the whole run.
        check_same_ids(
            submission, list(input_ids(args, first, id_column, submission)), args.input_file or args.image_dir
        )
    chunks, total = read_inputs(args, first, id_column, named_with_extension(submission))

    output = AtomicCSV(Path(args.output))
    try:
        id_name = id_column or ("id" if first.task == "image-classification" else readers.ROW_NUMBER)
        written, skipped, values = predict(models, chunks, total, output, submission, args, id_name)
        if skipped:
            logger.warning(_skipped_message(skipped) + "They are left out of the output.")
        if written == 0:
            raise UserError(
                f"{args.input_file or args.image_dir} holds nothing to predict: no rows or no readable images."
            )
        if submission is not None:
            write_submission(output, submission, values, skipped)
        output.commit()
    except BaseException:
        output.discard()
        raise
    logger.info("Wrote %d prediction(s) of %s to %s", written, ", ".join(m.name for m in models), args.output)


def named_with_extension(submission: Submission | None) -> bool:
    """Whether a submission spells image ids with their file extension (``abc.tif``), as some competitions do."""
    return submission is not None and Path(submission.ids[0]).suffix.lower() in readers.IMAGE_EXTENSIONS


def input_ids(
    args: PredictArguments, model: Classifier, id_column: str | None, submission: Submission
) -> Iterator[str]:
    """The input's ids, read without predicting (the check before the work)."""
    if model.task == "image-classification" and not args.input_file:
        root, with_extension = Path(args.image_dir), named_with_extension(submission)
        yield from (readers.image_id(f, root, with_extension) for f in readers.image_files(args.image_dir))
        return
    if model.task == "text-classification":
        if id_column is None:
            raise UserError("a submission needs the input's ids: name its id column with --id_column.")
        for frame in readers.table_chunks(args.input_file, "--input_file", args.chunk_size, args.delimiter):
            frame.columns = [str(c) for c in frame.columns]
            readers.require_columns(list(frame.columns), [id_column], args.input_file, "the submission", "--id_column")
            yield from (str(i) for i in frame[id_column].tolist())
        return
    if model.task == "image-classification":  # a CSV of ids
        yield from image_ids_to_paths(
            args.input_file, id_column or "id", Path(args.image_dir), readers.image_files(args.image_dir), args
        )[1]
        return
    chunks, _ = read_inputs(args, model, id_column)
    for chunk in chunks:
        yield from chunk.ids


def _skipped_message(skipped: list[tuple[str, str]]) -> str:
    listed = "\n  ".join(reason for _, reason in skipped[: readers.LISTED * 4])
    return f"{len(skipped)} image file(s) cannot be decoded:\n  {listed}\n"


def predict(
    models: list[Classifier], chunks: Iterator[readers.Chunk], total: int | None, output: AtomicCSV,
    submission: Submission | None, args: PredictArguments, id_name: str,
) -> tuple[int, list[tuple[str, str]], dict[str, list[str]]]:  # fmt: skip
    """Every chunk through every model, written as it goes (or kept for the submission's order); returns the
    count written, the inputs skipped and, for a submission, each id's value cells."""
    from tqdm.auto import tqdm

    if submission is None:
        output.writer.writerow(header_for(models, id_name))
    written, skipped, values = 0, [], {}
    start = time.perf_counter()
    with tqdm(total=total, unit=models[0].task.split("-")[0], desc="Predicting", disable=not is_main_process()) as bar:
        for chunk in chunks:
            skipped += chunk.skipped
            if skipped and args.strict_images:
                raise UserError(_skipped_message(skipped) + "Fix or remove them, or leave out --strict_images.")
            if chunk.inputs:
                probabilities = [m.probabilities(chunk.inputs) for m in models]
                if submission is None:
                    output.writer.writerows(_rows(models, chunk.ids, probabilities))
                else:
                    values.update(
                        _submission_values(models[0], chunk.ids, probabilities[0], submission, args.submission_value)
                    )
                written += len(chunk.inputs)
            bar.update(len(chunk.inputs) + len(chunk.skipped))
        bar.total = bar.n  # a count from line breaks overcounts texts that hold some
    logger.info("Predicted %d input(s) in %.1f s", written, time.perf_counter() - start)
    return written, skipped, values


def _rows(models: list[Classifier], ids: list[str], probabilities: list[np.ndarray]) -> Iterator[list[str]]:
    predicted = [m.predicted(p) for m, p in zip(models, probabilities, strict=True)]
    for i, identifier in enumerate(ids):
        row = [identifier]
        for model, probs, labels in zip(models, probabilities, predicted, strict=True):
            row += [model.label_names[labels[i]], *(probability_text(p) for p in probs[i])]
        yield row


def _submission_values(
    model: Classifier, ids: list[str], probabilities: np.ndarray, submission: Submission, value: str
) -> dict[str, list[str]]:
    if submission.classes is not None:
        return {
            i: [probability_text(p) for p in row[submission.classes]] for i, row in zip(ids, probabilities, strict=True)
        }
    if value == "probability":
        return {i: [probability_text(row[1])] for i, row in zip(ids, probabilities, strict=True)}
    predicted = model.predicted(probabilities)
    return {i: [model.label_values[c]] for i, c in zip(ids, predicted, strict=True)}


def write_submission(
    output: AtomicCSV, submission: Submission, values: dict[str, list[str]], skipped: list[tuple[str, str]]
) -> None:
    """The sample's header, then its ids in its order with their values (an image skipped as unreadable: none)."""
    if skipped:
        raise UserError(_skipped_message(skipped) + "A submission needs a value for every id: fix or replace them.")
    output.writer.writerow(submission.header)
    for identifier in submission.ids:
        output.writer.writerow([identifier, *values[identifier]])
