"""Train, evaluate and compare a lineup of image classifiers, from scratch and pretrained.

    accelerate launch training/train_image.py                     # results in outputs/image
    accelerate launch training/train_image.py --train_dir data/train --validation_dir data/val
    python training/train_image.py config.yaml        # the same arguments from a JSON/YAML file

With no data arguments it trains on scikit-learn's digits (offline). Every TrainingArguments flag
works (``--help``). The output layout is the text script's, plus ``examples.png`` (README.md).
``parse``, ``load_data`` and ``prepare`` are also what ``training/sweep.py`` searches with.
"""

import dataclasses
import logging
import sys
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a script (accelerate launch training/train_image.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from training.core.progress import announce_start

    announce_start(__file__)  # before the libraries' imports, which take about 10 s

from datasets import DatasetDict
from transformers import DefaultDataCollator, TrainingArguments, set_seed
from transformers.image_utils import load_image

from training.core.arguments import RunArguments, ScriptArguments, parse_arguments
from training.core.data import ClassificationData, finalize
from training.core.describe import describe_dataset
from training.core.ensemble import ENSEMBLE
from training.core.errors import run_cli
from training.core.experiment import EvaluationInputs, PreparedModel
from training.core.progress import timed
from training.image.data import ImageDataArguments, has_small_images, image_references, load_image_data, median_side
from training.image.describe import image_examples, image_statistics, plot_examples
from training.image.lineup import IMAGE_MODELS, ImageModelArguments
from training.image.transforms import augmentation, pixel_transform, resolve_augmentation
from training.reporting.model_card import EXAMPLE_IMAGE
from training.workflow import describe_run, finish_run, start_run, train_lineup

logger = logging.getLogger("train_image")

TASK = "image-classification"
LINEUP = [*IMAGE_MODELS, ENSEMBLE]  # the ensemble votes over the others: core/ensemble.py


def parse(argv: list[str] | None = None) -> ScriptArguments:
    """This script's arguments, from the command line (or ``argv``) or one JSON/YAML file."""
    parsed, explicit = parse_arguments(
        (ImageModelArguments, ImageDataArguments, RunArguments, TrainingArguments), "outputs/image", argv
    )
    args = ScriptArguments(*parsed, explicit=explicit)
    # Images become pixel_values on the fly (with_transform): Trainer must keep the image column.
    args.training = dataclasses.replace(args.training, remove_unused_columns=False)
    return args


def load_data(args: ScriptArguments) -> ClassificationData:
    """Load the images, check every file, deduplicate and split; note whether they are small (digits)."""
    seed = args.training.seed
    data = finalize(load_image_data(args.data, seed), args.data.max_train_samples, args.data.max_eval_samples, seed)
    with timed("Read the training images' sizes"):
        small = has_small_images(data.splits["train"])
    if small:
        data.notes["small_images"] = "median side under 64 px: small-image defaults (resolution, no augmentation)"
    return data


def prepare(
    name: str, args: ScriptArguments, data: ClassificationData, splits: DatasetDict, seed: int
) -> PreparedModel:
    """Model ``name`` built for the data, and ``splits`` turned into pixels by its processor (training
    adds the augmentation; evaluation sees every split through the saved processor alone)."""
    spec = IMAGE_MODELS[name]
    own = args.for_model(spec.defaults)
    small_images = "small_images" in data.notes
    set_seed(seed)
    model_run = spec.build(own.model, data.label_names, small_images, median_side(splits["train"]))
    model_run.name, model_run.kind = name, spec.kind
    augment = resolve_augmentation(own.data.augmentation, small_images)
    logger.info("Built %s: %s; augmentation %s", name, model_run.architecture, augment)
    augment_images = augmentation(augment, model_run.details["image_size"], model_run.details["crop_pct"])
    to_pixels = pixel_transform(model_run.processor)
    encoded = DatasetDict({k: split.with_transform(to_pixels) for k, split in splits.items()})
    return PreparedModel(
        model_run, encoded, DefaultDataCollator(), dataclasses.replace(own.training, seed=seed),
        own.run.early_stopping_patience, {"image_size": model_run.details["image_size"], "augmentation": augment},
        train_dataset=splits["train"].with_transform(pixel_transform(model_run.processor, augment_images)),
    )  # fmt: skip


def main() -> None:
    args = parse()
    run = start_run(TASK, list(LINEUP), args)

    # Data: load, check every file, deduplicate, split; then describe it.
    data = load_data(args)
    with timed("Described the data"):
        description = describe_dataset(data, image_statistics, image_examples)
    describe_run(run, description, args.run.primary_metric)
    if run.is_main:
        plot_examples(data.splits["train"], data.label_names, run.output_dir / "examples.png")

    # Models: each is built, trained with Trainer, evaluated on every split and saved in turn; the ensemble,
    # last, is the soft vote of the others, weighed on the validation split.
    test_images = data.splits["test"].select(range(min(args.run.latency_samples, len(data.splits["test"]))))
    inputs = EvaluationInputs(
        task=run.task,
        processor_argument="image_processor",
        latency_inputs=list(test_images["image"]),
        test_display=image_references(data.splits["test"], "test"),
        test_example=lambda i: load_image(data.splits["test"][i]["image"]),
        top_losses=args.run.top_losses,
    )
    # One test image ships with each model: the model card's usage snippet classifies it.
    example_image = load_image(data.splits["test"][0]["image"])
    train_lineup(
        run, lambda name: partial(prepare, name, args, data), data, inputs, args.run, args.training.seed,
        after_model=lambda model_dir: example_image.save(model_dir / EXAMPLE_IMAGE),
    )  # fmt: skip

    finish_run(run, description)


if __name__ == "__main__":
    run_cli(main)
