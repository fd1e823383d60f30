"""Shared fixtures. Every test runs offline: nothing may reach the Hugging Face Hub."""

import csv
import os
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

requires_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"benchmark data not found at {SHARED_DATA} (present in CI; a fresh clone has no ../shared/data)",
)


def write_csv(path: Path, rows: list[dict], fieldnames: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def sentiment_rows() -> list[dict]:
    """60 short, clearly labelled texts in two classes (distinct, so deduplication keeps them all)."""
    good = ["great", "lovely", "excellent", "wonderful", "superb", "fantastic"]
    bad = ["awful", "terrible", "dreadful", "horrible", "poor", "bad"]
    things = ["film", "meal", "hotel", "book", "concert"]
    rows = []
    for i, (word_good, word_bad) in enumerate(zip(good, bad, strict=True)):
        for thing in things:
            rows.append({"id": len(rows), "review": f"a {word_good} {thing} number {i}", "sentiment": "positive"})
            rows.append({"id": len(rows), "review": f"a {word_bad} {thing} number {i}", "sentiment": "negative"})
    return rows


def write_image(path: Path, mode: str = "RGB", size: tuple[int, int] = (40, 32), seed: int = 0, fmt: str | None = None):
    """A small random image file (any PIL mode: RGB, L, RGBA, P...)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGB").convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


def digit_folders(
    root: Path, per_class: int, classes: tuple[int, ...] = (0, 1, 7), size: int = 48, offset: int = 0
) -> Path:
    """Real images in class folders: scikit-learn digits upsampled to about ``size`` px, in mixed
    colour modes (RGB, grayscale, RGBA, palette) and sizes, as PNG and JPEG."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    modes = ["RGB", "L", "RGBA", "P"]
    for digit in classes:
        images = digits.images[digits.target == digit][offset : offset + per_class]
        for i, pixels in enumerate(images):
            side = size + (i % 3) * 8
            image = Image.fromarray((pixels * 255 / 16).astype(np.uint8), "L").resize((side, side), Image.BILINEAR)
            image = image.convert(modes[i % len(modes)])
            suffix = ".jpg" if image.mode in ("RGB", "L") and i % 2 else ".png"
            path = root / f"digit_{digit}" / f"{i:03d}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path)
    return root
