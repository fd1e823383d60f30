"""Synthetic files shaped like the histopathologic cancer-detection competition: ``train/<id>.tif`` (96x96 RGB,
uncompressed), ``train_labels.csv`` (``id,label``, about 40% positive), ``test/<id>.tif`` and
``sample_submission.csv`` (``id,label``, all 0). As in the competition, a patch is positive when the centre 32x32
region holds tumour-like tissue; tumour-like tissue outside it does not count (a quarter of the negatives have some
near the border). Written by the benchmarks (``bench_scale.py``, ``bench_predict.py``); nothing real is in them.

    python bench/patches.py OUT_DIR --train 220025 --test 57458
"""

import argparse
import csv
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

SIDE, CENTRE = 96, 32
POSITIVE_SHARE = 0.4


def patch(rng: np.random.Generator, positive: bool) -> np.ndarray:
    """A 96x96 RGB patch: pink tissue texture, purple nuclei; a dense cluster of dark, large nuclei (the tumour
    signal) inside the centre region for a positive, near the border for a quarter of the negatives."""
    base = np.array([225, 170, 200], dtype=np.float32) + rng.normal(0, 12, (SIDE, SIDE, 3))
    image = base.clip(0, 255)
    for _ in range(rng.integers(15, 30)):  # scattered normal nuclei
        _nucleus(image, rng, rng.uniform(4, 92, 2), rng.uniform(2, 3.5), (150, 90, 170))
    if positive or rng.random() < 0.25:
        low, high = (CENTRE + 4, 2 * CENTRE - 4) if positive else (4, 20)
        centre = rng.uniform(low, high, 2)
        if not positive:  # near a random border
            centre = np.where(rng.random(2) < 0.5, centre, SIDE - centre)
        for _ in range(rng.integers(6, 10)):
            _nucleus(image, rng, centre + rng.normal(0, 4, 2), rng.uniform(3.5, 5.5), (90, 40, 120))
    return image.clip(0, 255).astype(np.uint8)


def _nucleus(image: np.ndarray, rng: np.random.Generator, centre: np.ndarray, radius: float, colour) -> None:
    top, left = (max(0, int(c - radius)) for c in centre)
    bottom, right = (min(SIDE, int(c + radius) + 1) for c in centre)
    y, x = np.ogrid[top:bottom, left:right]
    mask = (y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2
    image[top:bottom, left:right][mask] = np.array(colour) + rng.normal(0, 8, 3)


def _write(folder: str, ids: list[str], labels: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for identifier, label in zip(ids, labels, strict=True):
        Image.fromarray(patch(rng, bool(label))).save(os.path.join(folder, f"{identifier}.tif"), compression=None)


def write_split(root: Path, name: str, count: int, seed: int, workers: int = 2) -> tuple[list[str], list[int]]:
    """``count`` patches in ``root/name`` with random hex ids (as the competition's); their ids and labels."""
    rng = np.random.default_rng(seed)
    ids = [rng.bytes(20).hex() for _ in range(count)]  # 40 hex digits, as the competition's
    if len(set(ids)) < count:
        raise RuntimeError("two random ids collided: use another seed")
    labels = (rng.random(count) < POSITIVE_SHARE).astype(int).tolist()
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    shards = max(1, workers * 8)
    with ProcessPoolExecutor(workers) as pool:
        for future in [pool.submit(_write, str(folder), ids[k::shards], labels[k::shards], seed * 1000 + k)
                       for k in range(shards)]:  # fmt: skip
            future.result()
    return ids, labels


def write_competition(root: Path, train: int, test: int, seed: int = 0, workers: int = 2) -> None:
    """The competition's files under ``root``: train/, train_labels.csv, test/, sample_submission.csv."""
    ids, labels = write_split(root, "train", train, seed, workers)
    with (root / "train_labels.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("id", "label"), *zip(ids, labels, strict=True)])
    test_ids, _ = write_split(root, "test", test, seed + 1, workers)
    with (root / "sample_submission.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("id", "label"), *((i, 0) for i in test_ids)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=220_025)
    parser.add_argument("--test", type=int, default=57_458)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    arguments = parser.parse_args()
    write_competition(Path(arguments.out_dir), arguments.train, arguments.test, arguments.seed, arguments.workers)
