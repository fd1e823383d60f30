"""Offline transfer learning for time series: scratch-complex's network (the FCN, or the ResNet with
``--cnn_architecture resnet``) pretrained by this project on the other archive datasets that aeon ships, then
fine-tuned on the target like any other model.

Pretraining is supervised: one classifier over the union of the archives' classes (46 when all take part), on
windows of ``window`` steps cut at random from each series, every channel of a multivariate archive read as a
series of its own, the archives drawn in equal turns. Convolutions learn local shapes (the FCN sees 14 steps
at once, the ResNet 40), which windows from any archive teach; the head is thrown away.

Never on the target: an archive takes no part when any of its series (any channel) has the same values,
rounded to 3 decimals, as a series of the target's splits, so an archive exported to CSV counts as itself.
The checkpoint is built once per set of archives and recipe and cached like the EfficientNet conversion
(``core.files.cache_dir``).
"""

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import get_cosine_schedule_with_warmup

from training.core.files import build_once, cache_dir
from training.models.modeling_ts_cnn import TimeSeriesCNNConfig, TimeSeriesCNNForClassification
from training.models.processing_timeseries import fill_gaps

logger = logging.getLogger(__name__)

# The classification archives aeon bundles (README, "Time series"): the pretraining pool.
ARCHIVES = (
    "ACSF1", "ArrowHead", "BasicMotions", "GunPoint", "ItalyPowerDemand", "JapaneseVowels", "OSULeaf",
    "PickupGestureWiimoteZ",
)  # fmt: skip
FINGERPRINT_DECIMALS = 3


@dataclass(frozen=True)
class PretrainingRecipe:
    """How the shared network is pretrained; any change makes a new cached checkpoint."""

    architecture: str = "fcn"
    steps: int = 600
    batch_size: int = 64
    window: int = 96
    learning_rate: float = 1e-3
    seed: int = 0
    version: int = 1  # bumped when the procedure changes in a way the fields do not show


def _channels(series: np.ndarray) -> list[np.ndarray]:
    """Each channel of one series with its gaps filled and leading/trailing missing steps dropped."""
    filled, _ = fill_gaps(np.asarray(series, dtype=np.float64))
    return [channel for channel in filled if len(channel)]


def fingerprint(channel: np.ndarray) -> str:
    return hashlib.sha1(np.round(np.asarray(channel, dtype=np.float64), FINGERPRINT_DECIMALS).tobytes()).hexdigest()


@cache
def archive_series(name: str) -> tuple[list[np.ndarray], list[str]]:
    """Every channel of every series of archive ``name`` (train and test) as one-channel series, with labels."""
    from aeon.datasets import load_classification

    channels, labels = [], []
    for split in ("train", "test"):
        x, y = load_classification(name, split=split)
        for series, label in zip(x, y, strict=True):
            for channel in _channels(series):
                channels.append(channel.astype(np.float32))
                labels.append(str(label))
    return channels, labels


def archives_excluding(target_series: Iterable[Any]) -> tuple[list[str], dict[str, str]]:
    """(the archives to pretrain on, {left-out archive: why}): those sharing no series with the target."""
    target = {fingerprint(channel) for series in target_series for channel in _channels(np.asarray(series))}
    used, left_out = [], {}
    for name in ARCHIVES:
        shared = sum(fingerprint(channel) in target for channel in archive_series(name)[0])
        if shared:
            left_out[name] = f"{shared} of its series are in the target data"
        else:
            used.append(name)
    return used, left_out


class WindowDataset(torch.utils.data.Dataset):
    """``steps x batch_size`` windows; window i comes from archive i mod A, its series and start drawn from a
    generator seeded by i, so the data are the same in every run and on every machine."""

    def __init__(self, archives: list[str], recipe: PretrainingRecipe):
        self.recipe = recipe
        self.pools, self.offsets, self.classes = [], [], []
        for name in archives:
            channels, labels = archive_series(name)
            names = sorted(set(labels))
            self.offsets.append(len(self.classes))
            self.classes += [f"{name}/{label}" for label in names]
            self.pools.append((channels, [names.index(label) for label in labels]))

    def __len__(self) -> int:
        return self.recipe.steps * self.recipe.batch_size

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.recipe.seed, index])
        archive = index % len(self.pools)
        channels, labels = self.pools[archive]
        which = int(rng.integers(len(channels)))
        series, window = channels[which], self.recipe.window
        start = int(rng.integers(max(len(series) - window, 0) + 1))
        cut = series[start : start + window]
        cut = (cut - cut.mean()) / (cut.std() if cut.std() > 1e-8 else 1.0)  # as the feature extractor's per_series
        values = np.zeros((1, window), dtype=np.float32)
        values[0, : len(cut)] = cut
        mask = np.zeros(window, dtype=np.int64)
        mask[: len(cut)] = 1
        return {
            "values": torch.from_numpy(values),
            "attention_mask": torch.from_numpy(mask),
            "labels": torch.tensor(self.offsets[archive] + labels[which]),
        }


def pretrain(archives: list[str], recipe: PretrainingRecipe, destination: Path) -> None:
    """Pretrain the network on ``archives`` and save it (``save_pretrained`` plus ``pretraining.json``). The
    caller's random state is left as it was: a run draws the same numbers whether this ran or was cached."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        _pretrain(archives, recipe, destination)


def _pretrain(archives: list[str], recipe: PretrainingRecipe, destination: Path) -> None:
    data = WindowDataset(archives, recipe)
    config = TimeSeriesCNNConfig(
        num_channels=1, architecture=recipe.architecture, max_series_length=recipe.window,
        num_labels=len(data.classes), id2label=dict(enumerate(data.classes)),
    )  # fmt: skip
    model = TimeSeriesCNNForClassification(config)
    # A loop of our own, not Trainer: pretraining runs on the main process while the other ranks of a
    # distributed run wait for its checkpoint, and a Trainer there would join them in DDP and hang. On the CPU
    # even where a GPU is: about 40 s, and the cached weights do not depend on the machine's accelerator.
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)
    schedule = get_cosine_schedule_with_warmup(optimizer, recipe.steps // 20, recipe.steps)
    loader = torch.utils.data.DataLoader(data, batch_size=recipe.batch_size)
    model.train()
    losses, correct, seen, started = [], 0, 0, time.perf_counter()
    for step, batch in enumerate(loader, 1):
        output = model(**batch)
        output.loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(output.loss.item())
        if step > recipe.steps * 0.9:  # training accuracy over the last tenth, for the record
            correct += int((output.logits.argmax(1) == batch["labels"]).sum())
            seen += len(batch["labels"])
        if step % 100 == 0:
            logger.info("Pretraining step %d/%d: loss %.3f", step, recipe.steps, float(np.mean(losses[-100:])))
    model.save_pretrained(destination)
    record = {
        "recipe": dataclasses.asdict(recipe),
        "archives": archives,
        "classes": len(data.classes),
        "series": {name: len(archive_series(name)[0]) for name in archives},
        "final_loss": round(float(np.mean(losses[-max(1, recipe.steps // 10) :])), 4),
        "final_train_accuracy": round(correct / max(seen, 1), 4),
        "runtime_s": round(time.perf_counter() - started, 1),
    }
    (destination / "pretraining.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def pretrained_checkpoint(archives: list[str], recipe: PretrainingRecipe) -> Path:
    """The pretrained network's folder for ``archives`` and ``recipe``, pretrained on first use and cached."""
    key = json.dumps({"archives": sorted(archives), **dataclasses.asdict(recipe)}, sort_keys=True)
    target = cache_dir("timeseries-pretrained") / hashlib.sha1(key.encode()).hexdigest()[:16]
    if not (target / "pretraining.json").is_file():
        logger.info("Pretraining the %s on %s (once, cached in %s)", recipe.architecture, ", ".join(archives), target)
    return build_once(target, lambda folder: pretrain(archives, recipe, folder), marker="pretraining.json")


def transfer(source: TimeSeriesCNNForClassification, target: TimeSeriesCNNForClassification) -> None:
    """Copy ``source``'s convolutions into ``target`` (the classifier stays new). A pretrained input layer of
    one channel where the target has several is spread over them: each channel gets its weights divided by their
    number, so the layer first reads the channels' mean as the pretrained network read one series."""
    own = target.state_dict()
    weights = {k: v for k, v in source.state_dict().items() if not k.startswith("classifier.")}
    differ = sorted({k for k in own if not k.startswith("classifier.")} ^ set(weights))
    if differ:
        raise ValueError(f"the pretrained network differs in {', '.join(differ[:3])}: not the same architecture")
    # The layers that read the input: the first convolution, and the ResNet's first shortcut beside it.
    for key in [k for k in weights if weights[k].dim() == 3 and weights[k].shape != own[k].shape]:
        channels = own[key].shape[1]
        if weights[key].shape[1] != 1 or weights[key].shape[::2] != own[key].shape[::2]:
            raise ValueError(f"cannot spread {weights[key].shape[1]} pretrained channels over {channels}")
        weights[key] = weights[key].repeat(1, channels, 1) / channels
    target.load_state_dict({**own, **weights})
