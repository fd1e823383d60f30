"""Train, evaluate and compare a lineup of image classifiers, from scratch and pretrained.

    accelerate launch training/train_image.py                     # results in outputs/image
    accelerate launch training/train_image.py --train_dir data/train --validation_dir data/val
    python training/train_image.py config.yaml        # the same arguments from a JSON/YAML file

With no data arguments it trains on scikit-learn's digits (offline). Every TrainingArguments flag
works (``--help``). The output layout is the text script's, plus ``examples.png`` (README.md).
"""

import dataclasses
import logging
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (accelerate launch training/train_image.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datasets
import transformers
from transformers import DefaultDataCollator, TrainingArguments, set_seed

from training.arguments import RunArguments, parse_arguments, selected_models, with_overrides
from training.data import finalize
from training.describe import describe_dataset, image_examples, image_statistics, plot_examples, write_description
from training.errors import run_cli
from training.experiment import EvaluationInputs, load_finished, train_and_evaluate, use_all_cpu_cores
from training.image_data import ImageDataArguments, has_small_images, image_references, load_image_data
from training.image_models import IMAGE_MODELS, ImageModelArguments
from training.image_transforms import augmentation, pixel_transform, resolve_augmentation
from training.results import (
    build_results,
    check_output_dir,
    choose_primary_metric,
    clear_previous_run,
    comparison_markdown,
    wants_resume,
    write_results,
)

logger = logging.getLogger("train_image")


def main() -> None:
    (model_args, data_args, run_args, training_args), explicit = parse_arguments(
        (ImageModelArguments, ImageDataArguments, RunArguments, TrainingArguments), default_output_dir="outputs/image"
    )
    # Images are turned into pixel_values on the fly (with_transform): Trainer must keep the image column.
    training_args = dataclasses.replace(training_args, remove_unused_columns=False)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    transformers.utils.logging.set_verbosity(training_args.get_process_log_level())
    datasets.disable_progress_bars()
    use_all_cpu_cores()
    is_main = training_args.process_index == 0

    # Everything the user may have got wrong is checked before anything is written.
    names = selected_models(run_args.models, list(IMAGE_MODELS))
    output_dir = Path(training_args.output_dir)
    resume = wants_resume(training_args.resume_from_checkpoint)
    check_output_dir(output_dir, run_args.overwrite_output_dir, resume)

    # Data: load, check every file, deduplicate, split; then describe it.
    data = finalize(
        load_image_data(data_args, training_args.seed), data_args.max_train_samples, data_args.max_eval_samples,
        training_args.seed,
    )  # fmt: skip
    small_images = has_small_images(data.splits["train"])
    if small_images:
        data.notes["small_images"] = "median side under 64 px: small-image defaults (resolution, no augmentation)"
    description = describe_dataset(data, image_statistics, image_examples)
    train_counts = [v["count"] for v in description["class_balance"]["train"].values()]
    primary_metric, primary_metric_reason = choose_primary_metric(train_counts, run_args.primary_metric)
    logger.info("Data: %s; primary metric %s. %s", description["num_examples"], primary_metric, primary_metric_reason)
    if is_main:
        if run_args.overwrite_output_dir and not resume:
            clear_previous_run(output_dir, list(IMAGE_MODELS))
        output_dir.mkdir(parents=True, exist_ok=True)
        write_description(description, output_dir)
        plot_examples(data.splits["train"], data.label_names, output_dir / "examples.png")

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn.
    test_images = data.splits["test"].select(range(min(run_args.latency_samples, len(data.splits["test"]))))
    inputs = EvaluationInputs(
        task="image-classification",
        processor_argument="image_processor",
        latency_inputs=list(test_images["image"]),
        test_display=image_references(data.splits["test"], "test"),
    )
    summaries = []
    for name in names:
        finished = load_finished(output_dir, name) if resume else None
        if finished:
            logger.info("%s finished in an earlier run: keeping it.", name)
            summaries.append(finished)
            continue
        spec = IMAGE_MODELS[name]
        model_args_for_model, model_data_args, model_run_args, model_training_args = (
            with_overrides(args, spec.defaults, explicit) for args in (model_args, data_args, run_args, training_args)
        )
        set_seed(training_args.seed)
        run = spec.build(model_args_for_model, data.label_names, small_images)
        run.name, run.kind = name, spec.kind
        augment = resolve_augmentation(model_data_args.augmentation, small_images)
        logger.info("Training %s: %s; augmentation %s", name, run.architecture, augment)
        train_transform = pixel_transform(run.processor, augmentation(augment, run.details["image_size"],
                                                                      run.details["crop_pct"]))  # fmt: skip
        encoded = datasets.DatasetDict(
            {split: data.splits[split].with_transform(pixel_transform(run.processor)) for split in data.splits}
        )
        summaries.append(
            train_and_evaluate(
                run,
                encoded,
                DefaultDataCollator(),
                model_training_args,
                label_names=data.label_names,
                primary_metric=primary_metric,
                early_stopping_patience=model_run_args.early_stopping_patience,
                output_dir=output_dir,
                inputs=inputs,
                model_hyperparameters={"image_size": run.details["image_size"], "augmentation": augment},
                resume=resume,
                train_dataset=data.splits["train"].with_transform(train_transform),
            )  # fmt: skip
        )

    # Comparison: results.json is written last; its presence marks a complete run.
    if is_main:
        results = build_results(
            task="image-classification", description=description, primary_metric=primary_metric,
            primary_metric_reason=primary_metric_reason, models=summaries,
        )  # fmt: skip
        write_results(results, output_dir)
        print(comparison_markdown(results))
        logger.info("Best model on test %s: %s. Results in %s", primary_metric, results["best_model"], output_dir)


if __name__ == "__main__":
    run_cli(main)
