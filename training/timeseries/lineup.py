"""The time-series lineup: name -> how to build the model and its feature extractor, and its default
hyperparameters.

A new model is one builder function plus one entry in ``TIMESERIES_MODELS``. Defaults apply only to the
arguments the user did not set (README, "Time series").
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from transformers import AutoConfig, AutoFeatureExtractor, AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from training.core.errors import UserError
from training.core.experiment import ClosedFormTrainer, ModelRun
from training.models.modeling_minirocket import MiniRocketConfig, MiniRocketForClassification
from training.models.modeling_ts_cnn import ARCHITECTURES, TimeSeriesCNNConfig, TimeSeriesCNNForClassification
from training.models.modeling_ts_patch import (
    PatchTSMixerForTimeSeriesClassificationOfValues,
    PatchTSTForTimeSeriesClassification,
)
from training.models.modeling_ts_rnn import TimeSeriesRNNConfig, TimeSeriesRNNForClassification
from training.models.processing_timeseries import (
    NORMALIZATIONS,
    TASK,
    TimeSeriesClassificationPipeline,
    TimeSeriesFeatureExtractor,
)
from training.timeseries.pretraining import PretrainingRecipe, archives_excluding, pretrained_checkpoint, transfer

# transformers has no time-series classification pipeline: the checkpoints name ours in custom_pipelines
# (pipeline(model=..., trust_remote_code=True) loads it from the file they ship), and this process's
# pipeline() knows it too. The models load through AutoModel, the feature extractor through
# AutoFeatureExtractor, from the files save_pretrained copies beside the weights.
CUSTOM_PIPELINE = {
    TASK: {"impl": "processing_timeseries.TimeSeriesClassificationPipeline", "pt": ["AutoModel"], "tf": []}
}
PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=TimeSeriesClassificationPipeline, pt_model=AutoModel)
TimeSeriesFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
for _config, _model in (
    (TimeSeriesRNNConfig, TimeSeriesRNNForClassification),
    (TimeSeriesCNNConfig, TimeSeriesCNNForClassification),
    (MiniRocketConfig, MiniRocketForClassification),
):
    _config.register_for_auto_class()
    _model.register_for_auto_class("AutoModel")
    AutoConfig.register(_config.model_type, _config, exist_ok=True)
    AutoModel.register(_config, _model, exist_ok=True)
    AutoFeatureExtractor.register(_config, TimeSeriesFeatureExtractor, exist_ok=True)


@dataclass
class TimeSeriesModelArguments:
    """Model settings of the time-series lineup."""

    normalize: str = field(
        default="per_series",
        metadata={
            "help": "per_series: each channel of each series z-normalised over its own steps (the archives' "
            "convention: shape, not level, carries the class); none: the values as they are."
        },
    )
    hidden_size: int = field(default=128, metadata={"help": "Recurrent state size of scratch-simple."})
    rnn_cell: str = field(default="gru", metadata={"help": "scratch-simple's cell: gru or lstm."})
    cnn_architecture: str = field(
        default="fcn",
        metadata={
            "help": "scratch-complex's network, which pretrained fine-tunes too: fcn or resnet (Wang et al. 2017). "
            "README: why fcn, and when resnet."
        },
    )
    dropout: float = field(default=0.1, metadata={"help": "Dropout before the classifier of the scratch models."})
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "pretrained: start from this time-series checkpoint of the project (a Hub id or a folder, e.g. "
            "a pretrained model pushed earlier) instead of the network pretrained offline on the other archives."
        },
    )
    pretraining_steps: int = field(
        default=PretrainingRecipe.steps,
        metadata={
            "help": "pretrained: optimizer steps of the offline pretraining (built once per setting and cached)."
        },
    )

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZATIONS:
            raise UserError(f"--normalize must be one of {', '.join(NORMALIZATIONS)} (got {self.normalize!r}).")
        if self.rnn_cell not in ("gru", "lstm"):
            raise UserError(f"--rnn_cell must be gru or lstm (got {self.rnn_cell!r}).")
        if self.cnn_architecture not in ARCHITECTURES:
            raise UserError(
                f"--cnn_architecture must be one of {', '.join(ARCHITECTURES)} (got {self.cnn_architecture!r})."
            )
        if not 0 <= self.dropout < 1:
            raise UserError(f"--dropout must be in [0, 1) (got {self.dropout}).")
        if self.pretraining_steps < 1:
            raise UserError(f"--pretraining_steps must be at least 1 (got {self.pretraining_steps}).")


@dataclass(frozen=True)
class TimeSeriesModelSpec:
    kind: str
    description: str
    # (model arguments, class names, channels, length, every series of the data: pretraining leaves them out)
    build: Callable[[TimeSeriesModelArguments, list[str], int, int, Iterable[Any]], ModelRun]
    # Hyperparameters for this model unless the user set them (any model, data, run or Trainer field).
    defaults: dict[str, Any]
    trainer: type | None = None  # ClosedFormTrainer: fitted without gradient steps (the reference)


def _common_config(label_names: list[str], channels: int, max_length: int) -> dict[str, Any]:
    """Config fields every time-series model shares: labels, input shape and the pipeline it ships."""
    return {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
        "num_channels": channels,
        "max_series_length": max_length,
        "custom_pipelines": CUSTOM_PIPELINE,
    }


def feature_extractor(args: TimeSeriesModelArguments, channels: int, max_length: int) -> TimeSeriesFeatureExtractor:
    return TimeSeriesFeatureExtractor(num_channels=channels, max_length=max_length, normalize=args.normalize)


def _inputs(args: TimeSeriesModelArguments, channels: int, max_length: int) -> str:
    normalized = "z-normalised per series" if args.normalize == "per_series" else "raw values"
    return f"{channels} channel(s) x {max_length} steps ({normalized})"


def build_scratch_simple(
    args: TimeSeriesModelArguments, label_names: list[str], channels: int, max_length: int, series: Iterable[Any]
) -> ModelRun:
    config = TimeSeriesRNNConfig(
        hidden_size=args.hidden_size, cell=args.rnn_cell, dropout=args.dropout,
        **_common_config(label_names, channels, max_length),
    )  # fmt: skip
    architecture = (
        f"{args.rnn_cell.upper()}: {_inputs(args, channels, max_length)} -> {args.rnn_cell.upper()} {args.hidden_size} "
        f"-> state at the last step -> dropout {args.dropout} -> linear {len(label_names)}"
    )
    model = TimeSeriesRNNForClassification(config)
    return ModelRun(architecture, model, feature_extractor(args, channels, max_length))


NETWORK_NAMES = {"fcn": "FCN", "resnet": "ResNet"}
BLOCKS = {"fcn": "3 convolution blocks", "resnet": "3 residual blocks"}


def build_scratch_complex(
    args: TimeSeriesModelArguments, label_names: list[str], channels: int, max_length: int, series: Iterable[Any]
) -> ModelRun:
    config = TimeSeriesCNNConfig(
        architecture=args.cnn_architecture, dropout=args.dropout, **_common_config(label_names, channels, max_length)
    )
    filters = "/".join(map(str, ARCHITECTURES[args.cnn_architecture]))
    network = f"{NETWORK_NAMES[args.cnn_architecture]}: {BLOCKS[args.cnn_architecture]}"
    architecture = (
        f"{network} (Wang et al. 2017): {_inputs(args, channels, max_length)} -> {filters} filters, widths 8/5/3, "
        f"BatchNorm, ReLU -> global average pooling -> dropout {args.dropout} -> linear {len(label_names)}"
    )
    model = TimeSeriesCNNForClassification(config)
    return ModelRun(architecture, model, feature_extractor(args, channels, max_length))


# Hub checkpoints of transformers' patch models, fine-tuned through modeling_ts_patch.py's subclasses. Not
# registered with AutoModel in this process (that would replace transformers' own mapping); the saved checkpoints
# name them in auto_map, so they load anywhere with trust_remote_code=True.
PATCH_MODELS = {
    "patchtst": PatchTSTForTimeSeriesClassification,
    "patchtsmixer": PatchTSMixerForTimeSeriesClassificationOfValues,
}
for _model in PATCH_MODELS.values():
    _model.register_for_auto_class("AutoModel")


def _load_failure(path: str, error: Exception) -> UserError:
    return UserError(
        f"could not load {path!r} as a time-series checkpoint: {error}. --model_name_or_path takes an FCN or ResNet "
        "of this project or a PatchTST/PatchTSMixer checkpoint (a Hub id needs internet; a folder works offline)."
    )


def _fine_tune_patch_model(
    args: TimeSeriesModelArguments, label_names: list[str], channels: int, config: Any
) -> ModelRun:
    """A Hub PatchTST/PatchTSMixer checkpoint with a new head for these classes and channels."""
    common = _common_config(label_names, channels, config.context_length)
    for key in ("id2label", "label2id", "custom_pipelines"):
        setattr(config, key, common[key])
    config.num_targets, config.num_input_channels = len(label_names), channels
    model = PATCH_MODELS[config.model_type].from_pretrained(
        args.model_name_or_path, config=config, ignore_mismatched_sizes=True
    )
    name = {"patchtst": "PatchTST", "patchtsmixer": "PatchTSMixer"}[config.model_type]
    cut = f" (longer series cut to its context of {config.context_length} steps)"
    architecture = (
        f"{name} fine-tuned from {args.model_name_or_path}: {_inputs(args, channels, config.context_length)}{cut} "
        f"-> patches of {config.patch_length} steps (stride {config.patch_stride}) -> {config.num_hidden_layers} "
        f"layers of width {config.d_model} -> new classification head {len(label_names)}"
    )
    processor = feature_extractor(args, channels, config.context_length)
    return ModelRun(architecture, model, processor, {"base_model": args.model_name_or_path})


def build_pretrained(
    args: TimeSeriesModelArguments, label_names: list[str], channels: int, max_length: int, series: Iterable[Any]
) -> ModelRun:
    # scratch-complex's network (--cnn_architecture), so that the two differ only in where the weights start.
    # The new network first, from the run's seed: loading or pretraining draws no random number before it, so
    # its head starts the same whether the pretrained checkpoint was cached or not.
    run = build_scratch_complex(args, label_names, channels, max_length, [])
    network = NETWORK_NAMES[args.cnn_architecture]
    if args.model_name_or_path:
        try:
            config = AutoConfig.from_pretrained(args.model_name_or_path)
            if config.model_type in PATCH_MODELS:
                return _fine_tune_patch_model(args, label_names, channels, config)
            source = AutoModel.from_pretrained(args.model_name_or_path)
        except (OSError, ValueError) as error:
            raise _load_failure(args.model_name_or_path, error) from None
        base_model, details = args.model_name_or_path, {"base_model": args.model_name_or_path}
    else:
        archives, left_out = archives_excluding(series)
        if not archives:
            raise UserError("every bundled archive shares series with this data: nothing is left to pretrain on.")
        recipe = PretrainingRecipe(architecture=args.cnn_architecture, steps=args.pretraining_steps)
        folder = pretrained_checkpoint(archives, recipe)
        source = TimeSeriesCNNForClassification.from_pretrained(folder)
        record = json.loads((folder / "pretraining.json").read_text(encoding="utf-8"))
        base_model = f"the {network} pretrained by this project on {len(archives)} other aeon archives"
        details = {"base_model": base_model, "pretrained_on": archives, "left_out": left_out, "pretraining": record}
    found = getattr(source.config, "architecture", "")
    if not isinstance(source, TimeSeriesCNNForClassification) or found != args.cnn_architecture:
        fix = (
            f"add --cnn_architecture {found} to fine-tune it"
            if isinstance(source, TimeSeriesCNNForClassification)
            else "give an FCN or ResNet of this project (e.g. a pushed pretrained model) or a PatchTST/PatchTSMixer"
        )
        raise UserError(
            f"{args.model_name_or_path} is a {type(source).__name__} ({found or 'no architecture'}), and pretrained "
            f"fine-tunes scratch-complex's network, the {network} (--cnn_architecture {args.cnn_architecture}): {fix}."
        )
    try:
        transfer(source, run.model)
    except ValueError as error:
        raise UserError(f"cannot start from {base_model}: {error}.") from None
    # The report weighs what pretraining alone changed (reporting/insights.py).
    details["scratch_counterpart"] = "scratch-complex"
    spread = ", its one-channel first layer spread over the channels" if source.config.num_channels < channels else ""
    architecture = run.architecture.replace(f"{network}:", f"{network} fine-tuned from {base_model}{spread}:", 1)
    return ModelRun(architecture, run.model, run.processor, details)


def build_reference(
    args: TimeSeriesModelArguments, label_names: list[str], channels: int, max_length: int, series: Iterable[Any]
) -> ModelRun:
    model = MiniRocketForClassification(MiniRocketConfig(**_common_config(label_names, channels, max_length)))
    architecture = (
        f"MiniRocket (aeon): {_inputs(args, channels, max_length)} -> 10,000 features (dilated convolutions with "
        f"fixed kernels, share of positive values) -> scaled -> ridge classifier (penalty by cross-validation)"
    )
    return ModelRun(architecture, model, feature_extractor(args, channels, max_length))


# Small data (tens to hundreds of series): many short epochs, stopped by the validation split. Its best epoch is
# the one of lowest validation loss: the archives' validation splits hold 4 to 30 series, whose accuracy reaches
# 1.0 early and then cannot tell later epochs apart (measured, test accuracy by the primary metric / by validation
# loss: GunPoint FCN 0.673 / 1.000, ItalyPowerDemand GRU 0.877 / 0.970, ArrowHead FCN 0.305 / 0.534).
_SCRATCH = {
    "per_device_train_batch_size": 16, "warmup_steps": 0, "early_stopping_patience": 20,
    "metric_for_best_model": "eval_loss",
}  # fmt: skip
# An epoch of a small archive is a few optimizer steps (GunPoint: 3), so the scratch models' epochs and patience
# are scaled up to at least this many steps unless the user sets them (measured with validation-loss selection,
# test accuracy at 100 epochs / at 1,500 steps: GunPoint GRU 0.733 / 0.920, ArrowHead FCN 0.534 / 0.782).
MIN_TRAIN_STEPS = 1500
_FCN = {**_SCRATCH, "learning_rate": 1e-3, "num_train_epochs": 100}  # the FCN's, from random or pretrained weights
TIMESERIES_MODELS: dict[str, TimeSeriesModelSpec] = {
    "scratch-simple": TimeSeriesModelSpec(
        "scratch",
        "recurrent network (GRU) over the steps, its state at the last step",
        build_scratch_simple,
        # OSULeaf (427 steps), test accuracy: lr 1e-3, 100 epochs, patience 20: 0.347 (stopped at 50, train 0.51);
        # lr 3e-3, up to 200, patience 30: 0.562 (README, "The time-series lineup").
        {**_SCRATCH, "learning_rate": 3e-3, "num_train_epochs": 200, "early_stopping_patience": 30},
    ),
    "scratch-complex": TimeSeriesModelSpec(
        "scratch",
        "fully convolutional network (Wang et al. 2017) with global average pooling",
        build_scratch_complex,
        # OSULeaf, test accuracy: up to 100 epochs, patience 20: 0.967; up to 300, patience 50: 0.934 (the 20
        # validation series reach 1.0 early and the first such epoch is kept, under a slower-decaying rate).
        _FCN,
    ),
    "pretrained": TimeSeriesModelSpec(
        "pretrained",
        "scratch-complex's network pretrained on the other archives aeon ships (never the target's), then fine-tuned",
        build_pretrained,
        _FCN,  # scratch-complex's: the two differ only in where the weights start (README, "pretrained")
    ),
    "reference": TimeSeriesModelSpec(
        "reference",
        "MiniRocket from aeon: the baseline practitioners compare against, fitted in closed form",
        build_reference,
        # As aeon's MiniRocketClassifier, whose figures the README compares: the values as they are.
        {"normalize": "none"},
        trainer=ClosedFormTrainer,
    ),
}
