"""The offline pretraining of the time-series `pretrained` model: never on the target's archive, reproducible
windows, built once and cached, and weights that carry over to any number of channels."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from aeon.datasets import load_classification

from training.core.errors import UserError
from training.models.modeling_ts_cnn import TimeSeriesCNNConfig, TimeSeriesCNNForClassification
from training.timeseries.lineup import TimeSeriesModelArguments, build_pretrained
from training.timeseries.pretraining import (
    ARCHIVES,
    PretrainingRecipe,
    WindowDataset,
    archives_excluding,
    pretrained_checkpoint,
    transfer,
)

TINY = PretrainingRecipe(steps=3, batch_size=8, window=32)


def test_an_archive_sharing_a_series_with_the_target_is_left_out():
    gun_point, _ = load_classification("GunPoint", split="test")
    # One GunPoint series among made-up ones, as a CSV export would give it (float64 printed and read back).
    target = [np.random.default_rng(0).normal(size=(1, 150)) for _ in range(5)]
    target.append(np.array([[float(str(v)) for v in gun_point[3][0]]]))
    used, left_out = archives_excluding(target)
    assert "GunPoint" not in used and set(left_out) == {"GunPoint"}
    assert left_out["GunPoint"] == "1 of its series are in the target data"
    assert used == [name for name in ARCHIVES if name != "GunPoint"]
    # A multivariate target is compared channel by channel.
    basic, _ = load_classification("BasicMotions", split="train")
    assert set(archives_excluding([basic[0]])[1]) == {"BasicMotions"}


def test_windows_are_the_same_in_every_run():
    first, second = (
        WindowDataset(["GunPoint", "JapaneseVowels"], TINY),
        WindowDataset(["GunPoint", "JapaneseVowels"], TINY),
    )
    assert len(first) == 24 and first.classes[:2] == ["GunPoint/1", "GunPoint/2"] and len(first.classes) == 11
    for index in (0, 1, 17):
        a, b = first[index], second[index]
        assert all(torch.equal(a[key], b[key]) for key in a)
    window = first[0]
    assert window["values"].shape == (1, 32) and int(window["attention_mask"].sum()) == 32
    assert abs(float(window["values"].mean())) < 1e-5  # z-normalised like the fine-tuning inputs
    short = first[1]  # JapaneseVowels: fewer steps than the window, the rest masked
    assert int(short["attention_mask"].sum()) < 32 and short["labels"] >= 2


def test_pretrained_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSIFICATION_LAB_CACHE", str(tmp_path))
    folder = pretrained_checkpoint(["GunPoint", "ItalyPowerDemand"], TINY)
    record = json.loads((folder / "pretraining.json").read_text())
    assert record["archives"] == ["GunPoint", "ItalyPowerDemand"] and record["classes"] == 4
    assert record["recipe"]["steps"] == 3 and record["series"] == {"GunPoint": 200, "ItalyPowerDemand": 1096}
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert pretrained_checkpoint(["ItalyPowerDemand", "GunPoint"], TINY) == folder  # same set, same checkpoint
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp
    assert pretrained_checkpoint(["GunPoint"], TINY) != folder
    assert not list(tmp_path.rglob(".build-*"))  # no scratch folder left behind


@pytest.mark.parametrize("architecture", ["fcn", "resnet"])
def test_one_channel_weights_spread_over_several(architecture):
    """Spread over three identical channels, the pretrained layers compute what they computed on one (the
    ResNet's first shortcut reads the input too)."""
    torch.manual_seed(0)
    source = TimeSeriesCNNForClassification(
        TimeSeriesCNNConfig(num_channels=1, architecture=architecture, num_labels=7)
    ).eval()
    target = TimeSeriesCNNForClassification(
        TimeSeriesCNNConfig(num_channels=3, architecture=architecture, num_labels=2)
    ).eval()
    transfer(source, target)
    series = torch.randn(2, 1, 40)
    features = {}
    for name, model in (("source", source), ("target", target)):
        model.classifier.register_forward_hook(lambda _m, inputs, _o, name=name: features.update({name: inputs[0]}))
    with torch.no_grad():
        source(values=series)
        target(values=series.repeat(1, 3, 1))
    torch.testing.assert_close(features["source"], features["target"])
    other = "fcn" if architecture == "resnet" else "resnet"
    with pytest.raises(ValueError, match="not the same architecture"):
        transfer(source, TimeSeriesCNNForClassification(TimeSeriesCNNConfig(architecture=other, num_labels=2)))


def test_the_pretrained_model_starts_from_the_cache_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSIFICATION_LAB_CACHE", str(tmp_path))
    osu_leaf, _ = load_classification("OSULeaf", split="train")
    args = TimeSeriesModelArguments(pretraining_steps=2)
    run = build_pretrained(args, ["a", "b"], 1, 427, list(osu_leaf[:3]))
    assert run.details["left_out"] == {"OSULeaf": "3 of its series are in the target data"}
    assert "OSULeaf" not in run.details["pretrained_on"] and run.details["scratch_counterpart"] == "scratch-complex"
    assert run.architecture.startswith(
        "FCN fine-tuned from the FCN pretrained by this project on 7 other aeon archives"
    )
    cached = TimeSeriesCNNForClassification.from_pretrained(next(tmp_path.rglob("pretraining.json")).parent)
    torch.testing.assert_close(run.model.blocks[1][1].weight, cached.blocks[1][1].weight)
    # A folder holding another network than scratch-complex's: one message naming the flag, no traceback.
    TimeSeriesCNNForClassification(TimeSeriesCNNConfig(architecture="resnet", num_labels=2)).save_pretrained(
        tmp_path / "resnet"
    )
    with pytest.raises(UserError, match="the FCN .--cnn_architecture fcn.: add --cnn_architecture resnet"):
        build_pretrained(TimeSeriesModelArguments(model_name_or_path=str(tmp_path / "resnet")), ["a", "b"], 1, 50, [])
    resnet = TimeSeriesModelArguments(model_name_or_path=str(tmp_path / "resnet"), cnn_architecture="resnet")
    assert build_pretrained(resnet, ["a", "b"], 1, 50, []).architecture.startswith(
        f"ResNet fine-tuned from {tmp_path / 'resnet'}:"
    )
    with pytest.raises(UserError, match="could not load"):
        build_pretrained(TimeSeriesModelArguments(model_name_or_path=str(tmp_path / "none")), ["a", "b"], 1, 50, [])


def test_the_pretrained_model_follows_scratch_complex_to_the_resnet(tmp_path, monkeypatch):
    """--cnn_architecture resnet: the ResNet is pretrained (cached apart from the FCN) and fine-tuned, so that
    pretrained and scratch-complex still differ only in where their weights start."""
    monkeypatch.setenv("CLASSIFICATION_LAB_CACHE", str(tmp_path))
    args = TimeSeriesModelArguments(pretraining_steps=2, cnn_architecture="resnet")
    run = build_pretrained(args, ["a", "b", "c"], 2, 60, [])
    assert run.architecture.startswith(
        "ResNet fine-tuned from the ResNet pretrained by this project on 8 other aeon archives, its one-channel "
        "first layer spread over the channels: 3 residual blocks (Wang et al. 2017)"
    )
    assert run.details["pretraining"]["recipe"]["architecture"] == "resnet"
    assert run.details["scratch_counterpart"] == "scratch-complex" and run.model.config.architecture == "resnet"
    cached = TimeSeriesCNNForClassification.from_pretrained(next(tmp_path.rglob("pretraining.json")).parent)
    assert cached.config.architecture == "resnet"
    torch.testing.assert_close(run.model.blocks[2].convs[1][1].weight, cached.blocks[2].convs[1][1].weight)
    build_pretrained(dataclasses.replace(args, cnn_architecture="fcn"), ["a", "b"], 1, 60, [])
    assert len(list(tmp_path.rglob("pretraining.json"))) == 2  # one checkpoint per network


def test_the_pretrained_model_starts_from_an_fcn_of_the_project(tmp_path):
    """--model_name_or_path: a folder (or repo) holding an FCN, e.g. a pretrained model pushed earlier."""
    torch.manual_seed(1)
    TimeSeriesCNNForClassification(TimeSeriesCNNConfig(num_channels=2, num_labels=5)).save_pretrained(tmp_path / "fcn")
    args = TimeSeriesModelArguments(model_name_or_path=str(tmp_path / "fcn"))
    run = build_pretrained(args, ["a", "b", "c"], 2, 60, [])
    source = TimeSeriesCNNForClassification.from_pretrained(tmp_path / "fcn")
    torch.testing.assert_close(run.model.blocks[0][1].weight, source.blocks[0][1].weight)
    assert run.model.classifier.out_features == 3 and run.details["base_model"] == str(tmp_path / "fcn")
    with pytest.raises(UserError, match="cannot spread 2 pretrained channels over 3"):
        build_pretrained(args, ["a", "b"], 3, 60, [])


def test_a_run_starts_the_same_whether_the_pretraining_was_cached_or_not(tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSIFICATION_LAB_CACHE", str(tmp_path))
    args = TimeSeriesModelArguments(pretraining_steps=2)
    models, next_draws = [], []
    for _ in range(2):  # the first pretrains, the second finds the checkpoint cached
        torch.manual_seed(5)
        models.append(build_pretrained(args, ["a", "b"], 1, 50, []).model)
        next_draws.append(torch.rand(1))  # and the run's random state goes on the same way
    assert len(list(tmp_path.rglob("pretraining.json"))) == 1
    for (name, first), second in zip(models[0].state_dict().items(), models[1].state_dict().values(), strict=True):
        torch.testing.assert_close(first, second, msg=name)
    assert torch.equal(next_draws[0], next_draws[1])
