"""Tiny, randomly initialised stand-ins for the checkpoints the README's "with internet" commands name,
saved in the same layout as their Hub repos (model class, head or no head, processor), so the tests run
the code paths those commands take without downloading anything:

- google/vit-base-patch16-224-in21k: ``tiny_vit``, a ``ViTModel`` without a classifier, ``ViTImageProcessor``;
- microsoft/resnet-50: ``tiny_resnet``, ``ResNetForImageClassification`` with a head of other classes,
  ``ConvNextImageProcessor`` (crop_pct);
- timm/resnet18.a1_in1k: ``tiny_timm_resnet``, a timm ResNet (``test_resnet``) as timm repos hold it,
  ``config.json`` + ``model.safetensors``, 1000 classes;
- distilbert-base-uncased: ``tiny_distilbert``, ``DistilBertForMaskedLM`` (no classifier), uncased WordPiece;
- ibm-granite/granite-timeseries-patchtst and -patchtsmixer: ``tiny_patchtst``, ``tiny_patchtsmixer``, forecasting
  models (``PatchTSTForPrediction``, ``PatchTSMixerForPrediction``) of 7 channels as those repos hold, no
  preprocessor.
"""

import json
import re
from pathlib import Path

import torch

# The README's commands use these ids; the tests publish the stand-ins under the same names in their org.
HUB_IDS = {
    "vit": "google/vit-base-patch16-224-in21k",
    "resnet": "microsoft/resnet-50",
    "timm-resnet": "timm/resnet18.a1_in1k",
    "distilbert": "distilbert-base-uncased",
    "patchtst": "ibm-granite/granite-timeseries-patchtst",
    "patchtsmixer": "ibm-granite/granite-timeseries-patchtsmixer",
}
# Shared by both patch models: a context longer than GunPoint's 150 steps (the rest is padding), 7 channels.
PATCH_CONFIG = {"context_length": 160, "num_input_channels": 7, "patch_length": 16, "patch_stride": 16,
                "d_model": 16, "num_hidden_layers": 1, "prediction_length": 8}  # fmt: skip


def tiny_vit(path: Path) -> Path:
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(0)
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32,
                       patch_size=8)  # fmt: skip
    ViTModel(config).save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


def tiny_resnet(path: Path, num_labels: int = 10) -> Path:
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetForImageClassification

    torch.manual_seed(0)
    config = ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic", num_labels=num_labels
    )
    ResNetForImageClassification(config).save_pretrained(path)
    ConvNextImageProcessor(size={"shortest_edge": 32}, crop_pct=0.875).save_pretrained(path)
    return path


def tiny_timm_resnet(path: Path) -> Path:
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False)
    path.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path / "model.safetensors")
    config = {"architecture": "test_resnet", "num_classes": 1000, "num_features": model.num_features,
              "global_pool": "avg", "pretrained_cfg": {**model.pretrained_cfg, "input_size": [3, 32, 32]}}  # fmt: skip
    (path / "config.json").write_text(json.dumps(config, indent=2))
    return path


def tiny_distilbert(path: Path, texts: list[str]) -> Path:
    from transformers import DistilBertConfig, DistilBertForMaskedLM, DistilBertTokenizerFast

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tokenizer = DistilBertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True, model_max_length=64)
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=64)  # fmt: skip
    DistilBertForMaskedLM(config).save_pretrained(path)
    return path


def tiny_patchtst(path: Path) -> Path:
    from transformers import PatchTSTConfig, PatchTSTForPrediction

    torch.manual_seed(0)
    config = PatchTSTConfig(**PATCH_CONFIG, num_attention_heads=2, ffn_dim=32)
    PatchTSTForPrediction(config).save_pretrained(path)
    return path


def tiny_patchtsmixer(path: Path) -> Path:
    from transformers import PatchTSMixerConfig, PatchTSMixerForPrediction

    torch.manual_seed(0)
    config = PatchTSMixerConfig(**{k: v for k, v in PATCH_CONFIG.items() if k != "num_hidden_layers"}, num_layers=1)
    PatchTSMixerForPrediction(config).save_pretrained(path)
    return path
