"""The image lineup: forward passes, the EfficientNet-Lite0 conversion, freezing, and saved resolutions."""

import json

import pytest
import torch
from PIL import Image
from sklearn.datasets import load_sample_image
from transformers import AutoImageProcessor, AutoModelForImageClassification

from training.core.errors import UserError
from training.image.efficientnet_lite import STAGE_DEPTHS, converted_checkpoint, timm_key
from training.image.lineup import IMAGE_MODELS, ImageModelArguments

LABELS = ["ant", "bee", "wasp"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("scratch-simple", {}),
        ("scratch-complex", {}),
        ("scratch-complex", {"no_batchnorm": True, "no_residual": True, "dropout": 0.0}),
        ("pretrained", {}),
        ("pretrained-frozen", {"freeze_backbone": True}),
    ],
)
@pytest.mark.parametrize("small_images", [True, False])
def test_every_model_classifies_a_batch_and_learns(name, extra, small_images):
    args = ImageModelArguments(**extra)
    run = IMAGE_MODELS[name].build(args, LABELS, small_images)
    size = run.details["image_size"]
    expected = {"scratch": (32, 128), "pretrained": (64, 224)}[IMAGE_MODELS[name].kind][not small_images]
    assert size == expected
    images = [Image.new("RGB", (50 + 10 * i, 40), (40 * i, 90, 200)) for i in range(4)]
    pixels = run.processor(images, return_tensors="pt")["pixel_values"]
    assert pixels.shape == (4, 3, size, size)
    labels = torch.tensor([0, 1, 2, 0])
    model = run.model.train()
    output = model(pixel_values=pixels, labels=labels)
    assert output.logits.shape == (4, 3) and torch.isfinite(output.loss)
    output.loss.backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None for p in trainable)
    assert model.config.id2label[2] == "wasp"


def test_scratch_complex_switches_change_the_architecture():
    full = IMAGE_MODELS["scratch-complex"].build(ImageModelArguments(), LABELS, True)
    ablated = IMAGE_MODELS["scratch-complex"].build(
        ImageModelArguments(no_batchnorm=True, no_residual=True), LABELS, True
    )
    count = lambda m, kind: sum(isinstance(x, kind) for x in m.modules())  # noqa: E731
    assert count(full.model, torch.nn.BatchNorm2d) > 0 and count(ablated.model, torch.nn.BatchNorm2d) == 0
    assert "no BatchNorm, no skip connections" in ablated.architecture
    assert all(block.shortcut is None for block in ablated.model.features if hasattr(block, "shortcut"))
    assert count(full.model, torch.nn.Dropout) == 1 and full.model.config.dropout == 0.3


def test_conversion_key_mapping_follows_timm_stages():
    assert timm_key("_conv_stem.weight") == "conv_stem.weight"
    assert timm_key("_bn1.running_var") == "bn2.running_var"  # top-level _bn1 is the head's BatchNorm
    assert timm_key("_blocks.0._bn1.weight") == "blocks.0.0.bn1.weight"  # first block: no expansion
    assert timm_key("_blocks.1._bn0.weight") == "blocks.1.0.bn1.weight"
    assert timm_key("_blocks.15._project_conv.weight") == "blocks.6.0.conv_pwl.weight"
    assert sum(STAGE_DEPTHS) == 16


def test_converted_backbone_recognises_the_palace_in_china_jpg():
    path = converted_checkpoint()  # the conversion loads every tensor with strict=True
    assert converted_checkpoint() == path  # cached, not redone
    config = json.loads((path / "config.json").read_text())
    assert "model_args" not in config and config["pretrained_cfg"]["mean"] == [0.5, 0.5, 0.5]
    model = AutoModelForImageClassification.from_pretrained(path).eval()
    processor = AutoImageProcessor.from_pretrained(path)
    for image, expected in (("china.jpg", "palace"), ("flower.jpg", "daisy")):
        with torch.no_grad():
            logits = model(**processor(Image.fromarray(load_sample_image(image)))).logits
        assert model.config.id2label[int(logits.argmax())] == expected


def test_frozen_backbone_trains_only_the_head_and_keeps_batchnorm_statistics():
    run = IMAGE_MODELS["pretrained-frozen"].build(ImageModelArguments(freeze_backbone=True), LABELS, True)
    model = run.model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"timm_model.classifier.weight", "timm_model.classifier.bias"}
    batchnorm = model.timm_model.bn1
    before = batchnorm.running_mean.clone()
    model.train()(pixel_values=torch.randn(4, 3, 64, 64))
    assert torch.equal(before, batchnorm.running_mean)
    assert "frozen backbone" in run.architecture and run.details["backbone"] == "frozen"


def test_saved_pretrained_model_keeps_its_training_resolution(tmp_path):
    run = IMAGE_MODELS["pretrained"].build(ImageModelArguments(image_size=96), LABELS, False)
    run.model.save_pretrained(tmp_path)
    run.processor.save_pretrained(tmp_path)  # a no-op for timm: the resolution lives in config.json
    reloaded = AutoImageProcessor.from_pretrained(tmp_path)
    pixels = reloaded(Image.new("RGB", (300, 200)), return_tensors="pt")["pixel_values"]
    assert pixels.shape == (1, 3, 96, 96)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["pretrained_cfg"]["input_size"] == [3, 96, 96] and config["pretrained_cfg"]["crop_pct"] == 0.875
    assert config["num_classes"] == 3 and config["label_names"] == LABELS


def test_bad_model_arguments():
    with pytest.raises(UserError, match="--image_size must be between"):
        ImageModelArguments(image_size=4)
    with pytest.raises(UserError, match="could not load the pretrained image model 'no-such/model'"):
        IMAGE_MODELS["pretrained"].build(ImageModelArguments(model_name_or_path="no-such/model"), LABELS, False)


@pytest.mark.parametrize(
    ("architecture", "head"),
    [
        ("vit", {"classifier.weight", "classifier.bias"}),  # no head in the checkpoint: missing
        ("resnet", {"classifier.1.weight", "classifier.1.bias"}),  # 10 classes there: mismatched
        ("timm-resnet", {"timm_model.fc.weight", "timm_model.fc.bias"}),
        ("resnet-fitting-head", {"classifier.1.weight", "classifier.1.bias"}),  # 3 classes already: the last Linear
    ],
)
def test_the_frozen_head_is_found_from_the_model(tmp_path, architecture, head):
    from tests.tiny_models import tiny_resnet, tiny_timm_resnet, tiny_vit

    build = {"vit": tiny_vit, "resnet": tiny_resnet, "timm-resnet": tiny_timm_resnet,
             "resnet-fitting-head": lambda p: tiny_resnet(p, num_labels=len(LABELS))}[architecture]  # fmt: skip
    path = build(tmp_path / architecture)
    args = ImageModelArguments(model_name_or_path=str(path), freeze_backbone=True)
    run = IMAGE_MODELS["pretrained-frozen"].build(args, LABELS, False)
    assert {n for n, p in run.model.named_parameters() if p.requires_grad} == head
    pixels = run.processor(Image.new("RGB", (50, 40)), return_tensors="pt")["pixel_values"]
    assert pixels.shape == (1, 3, 32, 32) and run.details["image_size"] == 32
    batchnorms = [m for m in run.model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    before = [m.running_mean.clone() for m in batchnorms]
    run.model.train()(pixel_values=torch.randn(2, 3, 32, 32))
    assert all(torch.equal(b, m.running_mean) for b, m in zip(before, batchnorms, strict=True))


def test_the_scratch_models_never_upscale_photos():
    """Their default resolution is capped at the images' median side (96-px patches train at 96, not 128);
    --image_size and the small-image default are kept, and the pretrained backbone keeps its own."""
    from training.image.lineup import scratch_size

    assert scratch_size(ImageModelArguments(), small_images=False, native_side=96) == 96
    assert scratch_size(ImageModelArguments(), small_images=False, native_side=500) == 128
    assert scratch_size(ImageModelArguments(), small_images=False, native_side=None) == 128
    assert scratch_size(ImageModelArguments(), small_images=True, native_side=8) == 32
    assert scratch_size(ImageModelArguments(image_size=160), small_images=False, native_side=96) == 160
    run = IMAGE_MODELS["scratch-simple"].build(ImageModelArguments(), LABELS, False, 96)
    assert run.details["image_size"] == 96 and "at 96 px" in run.architecture
