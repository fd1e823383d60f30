"""From dataset rows to ``pixel_values``: the model's own image processor, plus training augmentation.

Evaluation goes through exactly the processor that is saved with the model, so the predictions of
a reloaded ``pipeline("image-classification", ...)`` match the ones measured here. Augmentation
happens before it, on the PIL image.
"""

from collections.abc import Callable
from typing import Any

import torch
from torchvision.transforms import v2
from transformers.image_utils import load_image

AUGMENTATIONS = ("none", "crop", "flip_crop", "flip_rotate")
# Random resized crop: keep 50-100% of the image area, aspect ratio 3/4-4/3 (torchvision's default).
CROP_SCALE = (0.5, 1.0)


def resolve_augmentation(requested: str, small_images: bool) -> str:
    """``auto`` -> none for small images (digits: a flipped 2 is not a 2), flip_crop for photos."""
    if requested != "auto":
        return requested
    return "none" if small_images else "flip_crop"


def augmentation(kind: str, image_size: int, crop_pct: float) -> Callable[[Any], Any] | None:
    """The PIL-to-PIL training augmentation, or None. The crop is sized so that the processor's own
    resize and centre crop (``crop_pct``) leave the model's ``image_size``."""
    if kind == "none":
        return None
    if kind == "flip_rotate":  # every pixel kept: for images with no up and their label in the centre (tissue)
        return v2.Compose([v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(), RandomQuarterTurn()])
    steps: list[Any] = [v2.RandomResizedCrop(round(image_size / crop_pct), scale=CROP_SCALE)]
    if kind == "flip_crop":
        steps.append(v2.RandomHorizontalFlip())
    return v2.Compose(steps)


def pixel_transform(processor: Any, augment: Callable[[Any], Any] | None = None) -> Callable[[dict], dict]:
    """A ``Dataset.with_transform`` function: RGB conversion as ``pipeline`` does it, optional
    augmentation, then the processor."""

    def transform(batch: dict[str, list]) -> dict[str, Any]:
        images = [load_image(image) for image in batch["image"]]  # EXIF rotation, then RGB
        if augment is not None:
            images = [augment(image) for image in images]
        return {"pixel_values": processor(images, return_tensors="pt")["pixel_values"], "labels": batch["label"]}

    return transform


class RandomQuarterTurn(torch.nn.Module):
    """A turn by 0, 90, 180 or 270 degrees, drawn from torch's generator (seeded as the rest of training): exact
    pixel moves, no interpolation."""

    def forward(self, image: Any) -> Any:
        turns = int(torch.randint(0, 4, ()).item())
        return v2.functional.rotate(image, 90 * turns, expand=True) if turns else image
