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

from datasets import DatasetDict
from transformers import DefaultDataCollator, TrainingArguments, set_seed
from transformers.image_utils import load_image

from training.arguments import RunArguments, parse_arguments, with_overrides
from training.data import finalize
from training.describe import describe_dataset, image_examples, image_statistics, plot_examples
from training.errors import run_cli
from training.experiment import EvaluationInputs, train_and_evaluate
from training.image_data import ImageDataArguments, has_small_images, image_references, load_image_data
from training.image_models import IMAGE_MODELS, ImageModelArguments
from training.image_transforms import augmentation, pixel_transform, resolve_augmentation
from training.model_card import EXAMPLE_IMAGE
from training.workflow import describe_run, finish_run, finished_model, start_run

logger = logging.getLogger("train_image")


def main() -> None:
    (model_args, data_args, run_args, training_args), explicit = parse_arguments(
        (ImageModelArguments, ImageDataArguments, RunArguments, TrainingArguments), default_output_dir="outputs/image"
    )
    # Images become pixel_values on the fly (with_transform): Trainer must keep the image column.
    training_args = dataclasses.replace(training_args, remove_unused_columns=False)
    run = start_run("image-classification", list(IMAGE_MODELS), run_args, training_args)

    # Data: load, check every file, deduplicate, split; then describe it.
    data = finalize(
        load_image_data(data_args, training_args.seed), data_args.max_train_samples, data_args.max_eval_samples,
        training_args.seed,
    )  # fmt: skip
    small_images = has_small_images(data.splits["train"])
    if small_images:
        data.notes["small_images"] = "median side under 64 px: small-image defaults (resolution, no augmentation)"
    description = describe_dataset(data, image_statistics, image_examples)
    describe_run(run, description, run_args.primary_metric)
    if run.is_main:
        plot_examples(data.splits["train"], data.label_names, run.output_dir / "examples.png")

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn.
    test_images = data.splits["test"].select(range(min(run_args.latency_samples, len(data.splits["test"]))))
    inputs = EvaluationInputs(
        task=run.task,
        processor_argument="image_processor",
        latency_inputs=list(test_images["image"]),
        test_display=image_references(data.splits["test"], "test"),
    )
    # One test image ships with each model: the model card's usage snippet classifies it.
    example_image = load_image(data.splits["test"][0]["image"])
    for name in run.names:
        if finished_model(run, name):
            continue
        spec = IMAGE_MODELS[name]
        model_args_for_model, model_data_args, model_run_args, model_training_args = (
            with_overrides(args, spec.defaults, explicit) for args in (model_args, data_args, run_args, training_args)
        )
        set_seed(training_args.seed)
        model_run = spec.build(model_args_for_model, data.label_names, small_images)
        model_run.name, model_run.kind = name, spec.kind
        augment = resolve_augmentation(model_data_args.augmentation, small_images)
        logger.info("Training %s: %s; augmentation %s", name, model_run.architecture, augment)
        augment_images = augmentation(augment, model_run.details["image_size"], model_run.details["crop_pct"])
        # Evaluation sees every split through the saved processor alone; training adds the augmentation.
        encoded = DatasetDict(
            {k: split.with_transform(pixel_transform(model_run.processor)) for k, split in data.splits.items()}
        )
        run.summaries.append(
            train_and_evaluate(
                model_run,
                encoded,
                DefaultDataCollator(),
                model_training_args,
                label_names=data.label_names,
                primary_metric=run.primary_metric,
                early_stopping_patience=model_run_args.early_stopping_patience,
                output_dir=run.output_dir,
                inputs=inputs,
                model_hyperparameters={"image_size": model_run.details["image_size"], "augmentation": augment},
                resume=run.resume,
                train_dataset=data.splits["train"].with_transform(pixel_transform(model_run.processor, augment_images)),
            )  # fmt: skip
        )
        if run.is_main:
            example_image.save(run.output_dir / name / EXAMPLE_IMAGE)

    finish_run(run, description)


if __name__ == "__main__":
    run_cli(main)
