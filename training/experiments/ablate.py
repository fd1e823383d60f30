"""Ablations: the documented variations of one setting at a time, each a normal training run, tabulated.

    python training/ablate.py --task image                                   # every image ablation, digits
    python training/ablate.py --task text --ablations optimizer,batch_size -- --train_file my.csv
    python training/ablate.py --task timeseries --ablations normalization,network

Everything after ``--`` goes to the training script unchanged (data arguments, ``--num_train_epochs``,
...). Each variant is a run of ``train_<task>.py`` in its own process, written to
``OUTPUT_DIR/<ablation>/<variant>/`` in the standard layout, so every variant has its metrics,
figures and card. ``ablations.json`` and ``ablations.md`` tabulate, per ablation, the primary metric
on validation and test, the training time and the train-validation gap (overfitting).

The ablations (``--ablations`` picks some):

- image ``batchnorm``: scratch-complex with and without BatchNorm.
- image ``dropout``: scratch-complex with dropout 0 and 0.3 before the classifier.
- image ``backbone``: the pretrained backbone frozen (head only) vs fine-tuned end to end.
- text ``glove``: glove-lstm with the GloVe vectors frozen vs fine-tuned.
- time series ``normalization``: scratch-complex on series z-normalised one by one vs the raw values.
- time series ``network``: the recurrent scratch-simple vs the convolutional scratch-complex (FCN, and ResNet).
- time series ``pretraining``: scratch-complex's network (the FCN; ``-- --cnn_architecture resnet`` the ResNet) from
  random weights vs pretrained on the other archives.
- ``optimizer`` (all): scratch-simple with AdamW, SGD with momentum 0.9 (at 10x the AdamW learning
  rate, SGD's usual scale) and RMSprop.
- ``batch_size`` (all): scratch-simple at batch size 16, 32 and 64.
"""

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser

from training.core.arguments import split_passthrough
from training.core.errors import UserError, run_cli
from training.core.tasks import TASK_NAMES
from training.reporting.tables import ablation_tables
from training.workflow import run_training_script


def _learning_rate(task: str, model: str) -> float:
    if task == "image":
        from training.image.lineup import IMAGE_MODELS as LINEUP
    elif task == "timeseries":
        from training.timeseries.lineup import TIMESERIES_MODELS as LINEUP
    else:
        from training.text.lineup import TEXT_MODELS as LINEUP
    return float(LINEUP[model].defaults.get("learning_rate", 5e-5))


def ablations(task: str) -> dict[str, list[tuple[str, list[str]]]]:
    """ablation -> [(variant, training script arguments)], as documented above."""
    lr = _learning_rate(task, "scratch-simple")
    common = {
        "optimizer": [
            ("AdamW", ["--models", "scratch-simple", "--optim", "adamw_torch"]),
            (
                "SGD momentum 0.9",
                [
                    "--models",
                    "scratch-simple",
                    "--optim",
                    "sgd",
                    "--optim_args",
                    "momentum=0.9",
                    "--learning_rate",
                    str(lr * 10),
                ],
            ),
            ("RMSprop", ["--models", "scratch-simple", "--optim", "rmsprop"]),
        ],
        "batch_size": [
            (f"batch {size}", ["--models", "scratch-simple", "--per_device_train_batch_size", str(size)])
            for size in (16, 32, 64)
        ],
    }
    if task == "image":
        return {
            "batchnorm": [
                ("with BatchNorm", ["--models", "scratch-complex"]),
                ("without BatchNorm", ["--models", "scratch-complex", "--no_batchnorm"]),
            ],
            "dropout": [
                ("dropout 0", ["--models", "scratch-complex", "--dropout", "0"]),
                ("dropout 0.3", ["--models", "scratch-complex", "--dropout", "0.3"]),
            ],
            "backbone": [
                ("frozen backbone", ["--models", "pretrained-frozen"]),
                ("fine-tuned end to end", ["--models", "pretrained"]),
            ],
            **common,
        }
    if task == "timeseries":
        return {
            "normalization": [
                ("z-normalised per series", ["--models", "scratch-complex", "--normalize", "per_series"]),
                ("raw values", ["--models", "scratch-complex", "--normalize", "none"]),
            ],
            "network": [
                ("recurrent (GRU)", ["--models", "scratch-simple"]),
                ("convolutional (FCN)", ["--models", "scratch-complex"]),
                ("convolutional (ResNet)", ["--models", "scratch-complex", "--cnn_architecture", "resnet"]),
            ],
            "pretraining": [
                ("from random weights (scratch-complex)", ["--models", "scratch-complex"]),
                ("pretrained on the other archives", ["--models", "pretrained"]),
            ],
            **common,
        }
    return {
        "glove": [
            ("GloVe frozen", ["--models", "glove-lstm", "--finetune_glove", "false"]),
            ("GloVe fine-tuned", ["--models", "glove-lstm"]),
        ],
        **common,
    }


@dataclass
class AblationArguments:
    task: str = field(metadata={"help": "text, image or timeseries."})
    ablations: str = field(default="all", metadata={"help": "Comma-separated ablations to run, or 'all'."})
    output_dir: str | None = field(default=None, metadata={"help": "Default: outputs/ablations-<task>."})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def summarise(variant: str, run_dir: Path) -> dict[str, Any]:
    """One row: the variant's primary metric on validation and test, training time, overfitting gap."""
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    (model,) = results["models"]
    metric, note = results["primary_metric"], results["overfitting"][model["name"]]
    return {
        "variant": variant,
        "model": model["name"],
        "metric": metric,
        "validation": model["validation"][metric],
        "test": model["test"][metric],
        "train_runtime_s": model["train_runtime_s"],
        "train_validation_gap": note["train_validation_gap"],
        "verdict": note["verdict"],
        "run_dir": str(run_dir),
    }


def main() -> None:
    own, passthrough = split_passthrough(sys.argv[1:])
    (args,) = HfArgumentParser(AblationArguments).parse_args_into_dataclasses(own)
    if args.task not in TASK_NAMES:
        raise UserError(f"--task must be {', '.join(TASK_NAMES)} (got {args.task!r}).")
    available = ablations(args.task)
    names = list(available) if args.ablations == "all" else [a.strip() for a in args.ablations.split(",")]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise UserError(
            f"unknown ablation(s) {', '.join(unknown)} for {args.task}; choose from {', '.join(available)}."
        )
    output = Path(args.output_dir or f"outputs/ablations-{args.task}")
    results: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        for variant, variant_args in available[name]:
            run_dir = output / name / _slug(variant)
            if not (run_dir / "results.json").is_file():  # finished variants are kept: rerun to resume
                run_training_script(args.task, [*passthrough, *variant_args], run_dir, f"the {name} / {variant} run")
            results.setdefault(name, []).append(summarise(variant, run_dir))
    output.mkdir(parents=True, exist_ok=True)
    (output / "ablations.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (output / "ablations.md").write_text(ablation_tables(results), encoding="utf-8")
    print(ablation_tables(results))


if __name__ == "__main__":
    run_cli(main)
