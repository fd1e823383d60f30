"""Train, evaluate and compare a lineup of time-series classifiers, from scratch and pretrained.

    accelerate launch training/train_timeseries.py                # results in outputs/timeseries
    accelerate launch training/train_timeseries.py --archive_dataset BasicMotions
    accelerate launch training/train_timeseries.py --train_file series.csv --label_column label
    python training/train_timeseries.py config.yaml  # the same arguments from a JSON/YAML file

With no data arguments it trains on OSULeaf, an archive dataset that the aeon package ships (offline), with
its official train/test split. Every TrainingArguments flag works (``--help``). The output layout is the text
script's, plus ``examples.png`` (README.md). ``parse``, ``load_data`` and ``prepare`` are also what
``training/sweep.py`` searches with.
"""

import dataclasses
import logging
import math
import sys
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a script (accelerate launch training/train_timeseries.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from training.core.progress import announce_start

    announce_start(__file__)  # before the libraries' imports, which take about 10 s

import numpy as np
from datasets import DatasetDict
from transformers import DefaultDataCollator, TrainingArguments, set_seed

from training.core.arguments import RunArguments, ScriptArguments, parse_arguments
from training.core.data import ClassificationData, finalize
from training.core.describe import describe_dataset
from training.core.ensemble import ENSEMBLE
from training.core.errors import run_cli
from training.core.experiment import EvaluationInputs, PreparedModel
from training.core.progress import timed
from training.core.results import write_json
from training.reporting.model_card import EXAMPLE_SERIES
from training.timeseries import SERIES_EXAMPLES
from training.timeseries.data import TimeSeriesDataArguments, load_timeseries_data, series_lengths, write_series_csv
from training.timeseries.describe import (
    plot_examples,
    series_examples,
    timeseries_examples,
    timeseries_statistics,
)
from training.timeseries.lineup import MIN_TRAIN_STEPS, TASK, TIMESERIES_MODELS, TimeSeriesModelArguments
from training.workflow import describe_run, finish_run, start_run, train_lineup

logger = logging.getLogger("train_timeseries")

LINEUP = [*TIMESERIES_MODELS, ENSEMBLE]  # the ensemble votes over the others: core/ensemble.py


def parse(argv: list[str] | None = None) -> ScriptArguments:
    """This script's arguments, from the command line (or ``argv``) or one JSON/YAML file."""
    parsed, explicit = parse_arguments(
        (TimeSeriesModelArguments, TimeSeriesDataArguments, RunArguments, TrainingArguments), "outputs/timeseries", argv
    )
    return ScriptArguments(*parsed, explicit=explicit)


def load_data(args: ScriptArguments) -> ClassificationData:
    """Load, check, deduplicate and split the series; record the length the models read."""
    seed = args.training.seed
    data = finalize(
        load_timeseries_data(args.data, seed), args.data.max_train_samples, args.data.max_eval_samples, seed
    )
    lengths = {name: series_lengths(split)[0] for name, split in data.splits.items()}
    max_length = data.notes["max_length"] = args.data.max_length or max(lengths["train"])
    cut = {name: sum(n > max_length for n in split) for name, split in lengths.items()}
    if any(cut.values()):  # the default is the longest training series: a longer test series is cut too
        counts = ", ".join(f"{n} {name}" for name, n in cut.items() if n)
        how = "--max_length" if args.data.max_length else "the longest training series; --max_length to change"
        data.notes["truncated"] = f"series longer than {max_length} steps are cut to it ({counts}; {how})"
    return data


def at_least_steps(own: ScriptArguments, train_size: int, steps: int) -> ScriptArguments:
    """``own`` with its epochs (and early-stopping patience) multiplied until training runs at least ``steps``
    optimizer steps, unless the user set them."""
    per_epoch = math.ceil(train_size / (own.training.per_device_train_batch_size * own.training.world_size))
    factor = math.ceil(steps / (per_epoch * own.training.num_train_epochs))
    if factor <= 1 or "num_train_epochs" in own.explicit:
        return own
    training = dataclasses.replace(own.training, num_train_epochs=own.training.num_train_epochs * factor)
    patience = own.run.early_stopping_patience
    if patience and "early_stopping_patience" not in own.explicit:
        own = dataclasses.replace(own, run=dataclasses.replace(own.run, early_stopping_patience=patience * factor))
    return dataclasses.replace(own, training=training)


def prepare(
    name: str, args: ScriptArguments, data: ClassificationData, splits: DatasetDict, seed: int
) -> PreparedModel:
    """Model ``name`` built for the data's channels and length, and ``splits`` turned into its inputs by its
    feature extractor (the one the saved pipeline uses)."""
    spec = TIMESERIES_MODELS[name]
    own = args.for_model(spec.defaults)
    if spec.trainer is None:  # trained by steps: small data gets more epochs (lineup.MIN_TRAIN_STEPS)
        own = at_least_steps(own, len(splits["train"]), MIN_TRAIN_STEPS)
    channels, max_length = data.notes["channels"], data.notes["max_length"]
    set_seed(seed)
    # Every series of the data, which pretraining leaves out: read only by the builder that needs them.
    everything = (s for split in data.splits.values() for s in split["series"])
    # The main process first: it pretrains and caches what `pretrained` starts from, the others then read it.
    with own.training.main_process_first(desc=f"build {name}"):
        model_run = spec.build(own.model, data.label_names, channels, max_length, everything)
    model_run.name, model_run.kind = name, spec.kind
    logger.info("Built %s: %s", name, model_run.architecture)
    with own.training.main_process_first(desc="encode"), timed(f"Encoded the splits for {name}"):
        encoded = splits.map(
            lambda batch, extract=model_run.processor: dict(extract(batch["series"])),
            batched=True, remove_columns=["series"], desc=f"Encoding for {name}",
        )  # fmt: skip
    return PreparedModel(
        model_run, encoded.with_format("numpy"), DefaultDataCollator(), dataclasses.replace(own.training, seed=seed),
        own.run.early_stopping_patience, {"max_length": max_length, "normalize": own.model.normalize},
        trainer_class=spec.trainer,
    )  # fmt: skip


def main() -> None:
    args = parse()
    run = start_run(TASK, list(LINEUP), args)

    # Data: load, check, deduplicate, split; then describe it.
    data = load_data(args)
    description = describe_dataset(data, timeseries_statistics, timeseries_examples)
    describe_run(run, description, args.run.primary_metric)
    if run.is_main:
        plot_examples(data.splits["train"], data.label_names, run.output_dir / "examples.png")
        write_json(series_examples(data.splits["test"], data.label_names), run.output_dir / SERIES_EXAMPLES)

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn; the ensemble,
    # last, is the soft vote of the others, weighed on the validation split.
    test = data.splits["test"]
    inputs = EvaluationInputs(
        task=run.task,
        processor_argument="feature_extractor",
        latency_inputs=[np.asarray(s) for s in test.select(range(min(args.run.latency_samples, len(test))))["series"]],
        test_display=[f"test[{i}]" for i in range(len(test))],
        test_example=lambda i: np.asarray(test[i]["series"], dtype=float),
        top_losses=args.run.top_losses,
    )
    # One test series ships with each model (a CSV file the pipeline reads): the model card's snippet classifies it.
    train_lineup(
        run, lambda name: partial(prepare, name, args, data), data, inputs, args.run, args.training.seed,
        after_model=lambda model_dir: write_series_csv(test[0]["series"], model_dir / EXAMPLE_SERIES),
    )  # fmt: skip

    finish_run(run, description)


if __name__ == "__main__":
    run_cli(main)
