"""Argument dataclasses shared by every training script, and the parser that reads them.

Arguments come from the command line or from one JSON/YAML file (``train_text.py config.yaml``),
exactly as in the Hugging Face example scripts. On top of that, each model of a lineup may bring
its own defaults (a from-scratch GRU wants a higher learning rate than a pretrained transformer);
they apply only to the arguments the user did not set explicitly.
"""

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments

from training.core.errors import UserError
from training.core.files import parse_delimiter

ENSEMBLE_WEIGHINGS = ("auto", "stacking", "likelihood", "equal")  # --ensemble_weights: core/ensemble.py
# Trainer settings that differ from transformers' defaults: evaluate and keep the best epoch by
# the primary validation metric, log once per epoch (the learning curves), report to no tracker.
TRAINER_DEFAULTS: dict[str, Any] = {
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "logging_strategy": "epoch",
    "load_best_model_at_end": True,
    "save_total_limit": 1,
    "report_to": "none",
    "dataloader_pin_memory": False,  # it speeds up copies to a GPU only: trainer_defaults turns it on with CUDA
    # Prediction runs over every split (train included); bigger batches are much faster on a CPU.
    "per_device_eval_batch_size": 64,
    # Every lineup model returns the batch's mean loss. With this on (transformers' default), Trainer
    # also multiplies that loss by the number of processes, for models that divide by a token count
    # gathered over all of them: under 2 processes our losses were logged, and stepped, twice too big.
    "average_tokens_across_devices": False,
}


def trainer_defaults(gpu_defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """``TRAINER_DEFAULTS`` for this machine. With CUDA: mixed precision (bf16, or fp16 where the GPU lacks
    it), pinned memory, and decoding in DataLoader workers (the CPU cores shared by this machine's
    processes), plus the script's own ``gpu_defaults``. Several processes without any accelerator run
    DDP on the CPU (gloo): Trainer only does that with ``use_cpu``, else each process trains alone."""
    defaults = dict(TRAINER_DEFAULTS)
    if torch.cuda.is_available():
        local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        workers = min(8, len(os.sched_getaffinity(0)) // local_processes)
        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        defaults.update({precision: True, "dataloader_pin_memory": True, "dataloader_num_workers": workers})
        defaults["dataloader_persistent_workers"] = workers > 0  # workers live across epochs and evaluations
        defaults.update(gpu_defaults or {})
    elif int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.accelerator.is_available():  # torchrun's count
        defaults["use_cpu"] = True
    return defaults


@dataclass
class DataArguments:
    """Where the data comes from and how it is split; shared by the text and image scripts."""

    dataset_name: str | None = field(
        default=None, metadata={"help": "A dataset on the Hugging Face Hub (needs internet), e.g. 'ag_news'."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "The Hub dataset's configuration."})
    label_column: str = field(default="label", metadata={"help": "Column holding the class of each example."})
    class_names: str | None = field(
        default=None,
        metadata={"help": "Comma-separated readable names for the sorted label values, e.g. 'no,yes' for 0/1."},
    )
    validation_split_percentage: float = field(
        default=10.0,
        metadata={"help": "Share of the data held out for validation when no validation set is given."},
    )
    test_split_percentage: float = field(
        default=10.0, metadata={"help": "Share of the data held out for testing when no test set is given."}
    )
    max_train_samples: int | None = field(
        default=None,
        metadata={"help": "Keep at most this many training examples (stratified), for quick runs."},
    )
    max_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Keep at most this many validation and test examples each (stratified)."},
    )

    def __post_init__(self) -> None:
        for name in ("validation_split_percentage", "test_split_percentage"):
            value = getattr(self, name)
            if not 0 < value < 50:
                raise UserError(f"--{name} must be between 0 and 50 (got {value}).")
        for name in ("max_train_samples", "max_eval_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"--{name} must be a positive number of examples (got {value}).")


@dataclass
class FileDataArguments(DataArguments):
    """Data from files as users have them (tables, or the modality's own formats): the text and time-series
    scripts. Each names its formats in ``train_file``'s help."""

    train_file: str | None = field(default=None, metadata={"help": "Training data."})
    validation_file: str | None = field(default=None, metadata={"help": "Validation data (same formats)."})
    test_file: str | None = field(default=None, metadata={"help": "Test data (same formats)."})
    delimiter: str | None = field(
        default=None,
        metadata={
            "help": "Field separator of .csv/.tsv files. Default: the extension's (comma, tab), or the one "
            "detected (semicolon, tab, pipe) when that does not fit."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.delimiter is not None:
            self.delimiter = parse_delimiter(self.delimiter)
        if self.dataset_name and self.train_file:
            raise UserError("give either --dataset_name or --train_file, not both.")
        if (self.validation_file or self.test_file) and not (self.train_file or self.dataset_name):
            raise UserError("--validation_file/--test_file need a --train_file too.")


@dataclass
class RunArguments:
    """Which models to train and how to compare them; shared by the text and image scripts."""

    models: str = field(default="all", metadata={"help": "Comma-separated subset of the lineup to train, or 'all'."})
    primary_metric: str = field(
        default="auto",
        metadata={
            "help": "Metric that ranks the models and picks the best epoch: 'auto' (macro-F1 when classes are "
            "imbalanced, accuracy when balanced), or accuracy, f1_macro, f1_weighted, precision_macro, "
            "recall_macro, roc_auc, f1_positive (binary tasks)."
        },
    )
    overwrite_output_dir: bool = field(
        default=False, metadata={"help": "Replace the results of an earlier run in --output_dir."}
    )
    early_stopping_patience: int | None = field(
        default=None, metadata={"help": "Stop a model after this many epochs without validation improvement."}
    )
    latency_samples: int = field(default=50, metadata={"help": "Test examples used to time inference (batch 1, CPU)."})
    top_losses: int = field(
        default=12,
        metadata={
            "help": "Explain this many of each model's most confident test mistakes (top_losses.png for images, "
            "top_losses.md for text; 0: none)."
        },
    )
    cv_folds: int = field(
        default=0,
        metadata={
            "help": "Also run stratified K-fold cross-validation on the training data (K >= 2) and report each "
            "metric's mean and standard deviation over the held-out folds."
        },
    )
    seeds: int = field(
        default=1,
        metadata={"help": "Train each model this many times with seeds seed, seed+1, ...: mean and std of the scores."},
    )
    train_eval_samples: int = field(
        default=20_000,
        metadata={
            "help": "Score the training split (its figures beside validation and test, the overfitting gap) on a "
            "fixed stratified sample of this many examples when it holds more (0: every example): predicting a "
            "220,000-image training split costs more than a quick run's training."
        },
    )
    ensemble_weights: str = field(
        default="auto",
        metadata={
            "help": "How the ensemble weighs its members: 'stacking' (the weights whose vote has the lowest "
            "validation log loss), 'likelihood' (each in proportion to the likelihood it gave the validation labels), "
            "'equal', or 'auto': stacking when the validation split has at least 100 examples, else likelihood."
        },
    )

    def __post_init__(self) -> None:
        if self.cv_folds == 1 or self.cv_folds < 0:
            raise UserError(f"--cv_folds must be 0 (off) or at least 2 (got {self.cv_folds}).")
        if self.top_losses < 0:
            raise UserError(f"--top_losses must be 0 (none) or more (got {self.top_losses}).")
        if self.train_eval_samples < 0:
            raise UserError(f"--train_eval_samples must be 0 (every example) or more (got {self.train_eval_samples}).")
        if self.seeds < 1:
            raise UserError(f"--seeds must be at least 1 (got {self.seeds}).")
        if self.ensemble_weights not in ENSEMBLE_WEIGHINGS:
            raise UserError(
                f"--ensemble_weights must be one of {', '.join(ENSEMBLE_WEIGHINGS)} (got {self.ensemble_weights!r})."
            )


@dataclass
class ScriptArguments:
    """A training script's parsed arguments: its model and data dataclasses, the run's, the Trainer's, and
    the names the user set explicitly (per-model defaults never override those)."""

    model: Any
    data: Any
    run: RunArguments
    training: TrainingArguments
    explicit: set[str]

    def for_model(self, defaults: dict[str, Any]) -> "ScriptArguments":
        """The arguments one model trains with: its lineup ``defaults`` wherever the user set nothing."""
        parts = (with_overrides(a, defaults, self.explicit) for a in (self.model, self.data, self.run, self.training))
        return ScriptArguments(*parts, explicit=self.explicit)


def parse_arguments(
    dataclass_types: tuple[type, ...],
    default_output_dir: str,
    argv: list[str] | None = None,
    gpu_defaults: dict[str, Any] | None = None,
) -> tuple[tuple[Any, ...], set[str]]:
    """Parse the dataclasses from the command line or a single .json/.yaml file, over ``trainer_defaults``
    (``gpu_defaults``: the script's own Trainer defaults when CUDA is present).

    Returns the parsed dataclasses (in ``dataclass_types`` order) and the names of the arguments the
    user set explicitly, so that per-model defaults never override a user's choice.
    """
    argv = sys.argv[1:] if argv is None else argv
    parser = HfArgumentParser(dataclass_types)
    defaults = {**trainer_defaults(gpu_defaults), "output_dir": default_output_dir}
    if len(argv) == 1 and argv[0].endswith((".json", ".yaml", ".yml")):
        path = Path(argv[0])
        if not path.is_file():
            raise UserError(f"config file {path} does not exist.")
        config = yaml.safe_load(path.read_text()) if path.suffix != ".json" else json.loads(path.read_text())
        if not isinstance(config, dict):
            raise UserError(f"config file {path} must hold a mapping of argument names to values.")
        known = {f.name for dtype in dataclass_types for f in dataclasses.fields(dtype)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise UserError(f"unknown argument(s) in {path}: {', '.join(unknown)}. Run with --help for the list.")
        parsed = parser.parse_dict({**defaults, **config})
        return tuple(parsed), set(config)
    parser.set_defaults(**defaults)
    parsed, unknown = parser.parse_known_args(argv)
    if unknown:
        raise UserError(f"unknown argument(s): {' '.join(unknown)}. Run with --help for the list.")
    explicit = {arg[2:].split("=")[0].replace("-", "_") for arg in argv if arg.startswith("--")}
    instances = []
    for dtype in dataclass_types:
        names = {f.name for f in dataclasses.fields(dtype) if f.init}
        instances.append(dtype(**{k: v for k, v in vars(parsed).items() if k in names}))
    return tuple(instances), explicit


def with_overrides(instance: Any, overrides: dict[str, Any], explicit: set[str]) -> Any:
    """A copy of a dataclass with the per-model ``overrides`` that apply to it and the user did not set."""
    names = {f.name for f in dataclasses.fields(instance)}
    changes = {k: v for k, v in overrides.items() if k in names and k not in explicit}
    return dataclasses.replace(instance, **changes) if changes else instance


def selected_models(spec: str, lineup: list[str]) -> list[str]:
    """Resolve ``--models`` against a lineup, with a clear error for unknown names."""
    if spec.strip() == "all":
        return list(lineup)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in lineup]
    if unknown or not names:
        raise UserError(
            f"unknown model name(s): {', '.join(unknown) or repr(spec)}. Choose from: {', '.join(lineup)} (or 'all')."
        )
    return list(dict.fromkeys(names))


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """A wrapper command's own arguments, and those after ``--`` for the training script."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]
