"""Time-series data sources (an archive dataset aeon ships, .ts files, wide and long tables, list columns) and
the bad inputs a user brings: each a clear message, nothing written."""

import json

import numpy as np
import pandas as pd
import pytest

from training.core.errors import UserError
from training.timeseries.data import TimeSeriesDataArguments, load_timeseries_data, write_series_csv
from training.timeseries.describe import plot_examples, timeseries_statistics


def load(**kwargs):
    return load_timeseries_data(TimeSeriesDataArguments(**kwargs), seed=42)


def waves(count: int = 40, length: int = 30, channels: int = 1, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Two classes: sines and squares of random phase, with noise."""
    rng = np.random.default_rng(seed)
    series, labels = [], []
    for i in range(count):
        t = np.arange(length) / 4 + rng.uniform(0, 6)
        wave = np.sin(t) if i % 2 == 0 else np.sign(np.sin(t))
        series.append(np.stack([wave * (c + 1) + rng.normal(0, 0.1, length) for c in range(channels)]))
        labels.append("sine" if i % 2 == 0 else "square")
    return series, labels


def wide_frame(series: list[np.ndarray], labels: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame([s[0] for s in series], columns=[f"t{i}" for i in range(series[0].shape[1])])
    frame.insert(0, "label", labels)
    return frame


def long_frame(series: list[np.ndarray], labels: list[str]) -> pd.DataFrame:
    rows = [
        {"id": f"s{i}", "time": step, "label": label, **{f"axis_{c}": s[c, step] for c in range(s.shape[0])}}
        for i, (s, label) in enumerate(zip(series, labels, strict=True))
        for step in range(s.shape[1])
    ]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # rows in any order: --time_column sorts them


def test_the_default_archive_keeps_its_official_test_split():
    data = load(archive_dataset="GunPoint")
    assert data.label_names == ["1", "2"]
    assert len(data.splits["test"]) == 150  # the archive's own test split, untouched
    assert len(data.splits["train"]) + len(data.splits["validation"]) == 50
    assert np.asarray(data.splits["train"][0]["series"]).shape == (1, 150)
    assert data.notes["channels"] == 1 and "official" in data.notes["official_split"]


def test_multivariate_and_unequal_length_archives():
    motions = load(archive_dataset="BasicMotions")
    assert motions.notes["channels"] == 6 and np.asarray(motions.splits["test"][0]["series"]).shape == (6, 100)
    vowels = load(archive_dataset="JapaneseVowels")
    statistics = timeseries_statistics(vowels.splits["train"])
    assert statistics["channels"] == 12 and not statistics["equal_length"]
    assert statistics["length"]["min"] < statistics["length"]["max"]


def test_an_archive_aeon_does_not_ship_is_one_message():
    with pytest.raises(UserError, match="could not load the archive dataset 'NoSuchSeries'.*need internet"):
        load(archive_dataset="NoSuchSeries")


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_wide_tables(tmp_path, suffix):
    series, labels = waves()
    frame = wide_frame(series, labels)
    path = tmp_path / f"wide{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    data = load(train_file=str(path))
    assert data.label_names == ["sine", "square"]
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 32, "validation": 4, "test": 4}
    restored = {tuple(np.round(np.asarray(s)[0], 6)) for split in data.splits.values() for s in split["series"]}
    assert restored == {tuple(np.round(s[0], 6)) for s in series}


def test_long_table_with_several_channels_ordered_by_time(tmp_path):
    series, labels = waves(channels=3)
    path = tmp_path / "long.csv"
    long_frame(series, labels).to_csv(path, index=False)
    data = load(train_file=str(path), series_id_column="id", time_column="time")
    assert data.notes["channels"] == 3
    every = {tuple(np.round(np.asarray(s).ravel(), 6)) for split in data.splits.values() for s in split["series"]}
    assert every == {tuple(np.round(s.ravel(), 6)) for s in series}
    chosen = load(train_file=str(path), series_id_column="id", time_column="time", value_columns="axis_2")
    assert chosen.notes["channels"] == 1


def test_steps_a_regular_time_column_skips_are_missing_values(tmp_path):
    """t = 0, 1, 2, 5, 6: two missing steps, filled and counted as such, not the two sides joined up."""
    series, labels = waves(count=20, length=12)
    frame = long_frame(series, labels)
    frame = frame[~((frame["id"] == "s0") & frame["time"].isin([3, 4]))]
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    data = load(train_file=str(tmp_path / "gaps.csv"), series_id_column="id", time_column="time")
    lengths = {len(s[0]) for split in data.splits.values() for s in split["series"]}
    assert lengths == {12} and "interior missing values per split, filled" in data.notes["missing_values"]
    assert sum(np.isnan(s).sum() for split in data.splits.values() for s in split["series"]) == 2
    # Dates written as text: read as dates, and a skipped day is a missing value too.
    frame["time"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame["time"], unit="D")
    frame.astype({"time": str}).to_csv(tmp_path / "dates.csv", index=False)
    data = load(train_file=str(tmp_path / "dates.csv"), series_id_column="id", time_column="time")
    assert sum(np.isnan(s).sum() for split in data.splits.values() for s in split["series"]) == 2
    # Irregular stamps (mostly 1 apart, once 1,000,000) only order the rows: no million-step series.
    irregular = long_frame(series, labels)
    irregular.loc[(irregular["id"] == "s1") & (irregular["time"] == 11), "time"] = 1_000_000
    irregular.loc[(irregular["id"] == "s1") & (irregular["time"] == 10), "time"] = 999_999
    irregular.to_csv(tmp_path / "irregular.csv", index=False)
    data = load(train_file=str(tmp_path / "irregular.csv"), series_id_column="id", time_column="time")
    assert {len(s[0]) for split in data.splits.values() for s in split["series"]} == {12}


def test_a_trailing_comma_on_every_line_is_no_extra_step(tmp_path):
    series, labels = waves(count=20, length=12)
    path = tmp_path / "commas.csv"
    wide_frame(series, labels).to_csv(path, index=False)
    path.write_text("".join(line + ",\n" for line in path.read_text().splitlines()))
    data = load(train_file=str(path))
    assert {len(s[0]) for split in data.splits.values() for s in split["series"]} == {12}


def test_list_columns_are_channels(tmp_path):
    series, labels = waves(channels=2)
    path = tmp_path / "lists.json"
    path.write_text(json.dumps([{"x": s[0].tolist(), "y": s[1].tolist(), "label": lab}
                                for s, lab in zip(series, labels, strict=True)]))  # fmt: skip
    data = load(train_file=str(path), value_columns="x,y")
    assert data.notes["channels"] == 2


def test_ts_files_with_a_test_file(tmp_path):
    series, labels = waves(count=30)
    lines = ["@problemName waves", "@timeStamps false", "@univariate true", "@equalLength true",
             "@seriesLength 30", "@classLabel true sine square", "@data"]  # fmt: skip
    train, test = tmp_path / "train.ts", tmp_path / "test.ts"
    for path, part in ((train, slice(0, 20)), (test, slice(20, 30))):
        body = [
            ",".join(f"{v:.5f}" for v in s[0]) + ":" + lab for s, lab in zip(series[part], labels[part], strict=True)
        ]
        path.write_text("\n".join(lines + body) + "\n")
    data = load(train_file=str(train), test_file=str(test))
    assert len(data.splits["test"]) == 10 and len(data.splits["train"]) == 18


def test_missing_values_and_unequal_lengths_in_a_wide_table(tmp_path):
    series, labels = waves()
    frame = wide_frame(series, labels)
    frame.loc[0, "t5"] = np.nan  # a gap: filled by interpolation, counted
    frame.loc[1, ["t25", "t26", "t27", "t28", "t29"]] = np.nan  # a shorter series, not missing values
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    data = load(train_file=str(path))
    assert "1 interior missing values" in data.notes["missing_values"].replace("{'train': 1}", "1")
    lengths = {
        len(np.asarray(s)[0][~np.isnan(np.asarray(s)[0])]) for split in data.splits.values() for s in split["series"]
    }
    assert lengths == {25, 29, 30}


def test_duplicate_series_are_removed(tmp_path):
    series, labels = waves()
    frame = wide_frame(series, labels)
    frame = pd.concat([frame, frame.iloc[[0, 0]]])
    path = tmp_path / "dups.csv"
    frame.to_csv(path, index=False)
    assert load(train_file=str(path)).notes["duplicates_removed"] == {"train": 2}


def test_bad_inputs_are_one_message_each(tmp_path):
    series, labels = waves()
    frame = wide_frame(series, labels)

    ragged = tmp_path / "ragged.csv"
    frame.to_csv(ragged, index=False)
    ragged.write_text(ragged.read_text() + "sine,1,2,3,4\n")
    with pytest.raises(UserError, match="line"):
        load(train_file=str(ragged))

    text = frame.astype(object)
    text.loc[3, "t7"] = "abc"
    words = tmp_path / "words.csv"
    text.to_csv(words, index=False)
    with pytest.raises(UserError, match="column 't7' has a value that is not a number at data row 4 .*'abc'"):
        load(train_file=str(words))

    single = tmp_path / "single.csv"
    frame.assign(label="sine").to_csv(single, index=False)
    with pytest.raises(UserError, match="single class"):
        load(train_file=str(single))

    short = tmp_path / "short.csv"
    frame[["label", "t0", "t1"]].to_csv(short, index=False)
    with pytest.raises(UserError, match="has 2 step.*too short for a time-series model"):
        load(train_file=str(short))

    mixed = long_frame(*waves(channels=1))
    mixed.loc[mixed["id"] == "s0", "label"] = ["sine", "square"] * 15
    path = tmp_path / "mixed.csv"
    mixed.to_csv(path, index=False)
    with pytest.raises(UserError, match="series 's0' has rows with different labels"):
        load(train_file=str(path), series_id_column="id", time_column="time")

    silent = long_frame(*waves(count=20, channels=2))
    silent.loc[silent["id"] == "s3", "axis_1"] = np.nan  # one channel of one series has no value at all
    path = tmp_path / "silent.csv"
    silent.to_csv(path, index=False)
    with pytest.raises(UserError, match=r"series \d+ of the train data: a channel of the series has no values"):
        load(train_file=str(path), series_id_column="id", time_column="time")

    index = tmp_path / "index.csv"
    frame.to_csv(index)  # pandas' default: its row index as a first, unnamed column
    with pytest.raises(UserError, match="unnamed column.*index=False"):
        load(train_file=str(index))

    lists = tmp_path / "lists.json"
    rows = [{"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0], "label": "a"}, {"x": [1.0, 2.0, 3.0], "y": [4, 5, 6], "label": "b"}]
    lists.write_text(json.dumps(rows))
    with pytest.raises(UserError, match="series of data row 1 cannot be read"):
        load(train_file=str(lists), value_columns="x,y")
    rows[0]["y"] = [1.0, "abc", 2.0]
    lists.write_text(json.dumps(rows))
    with pytest.raises(UserError, match="series of data row 1 cannot be read"):
        load(train_file=str(lists), value_columns="x,y")

    with pytest.raises(UserError, match="give one data source"):
        TimeSeriesDataArguments(archive_dataset="GunPoint", train_file=str(single))
    with pytest.raises(UserError, match="--time_column orders the rows of a long table"):
        TimeSeriesDataArguments(time_column="time")


def test_examples_figure_and_series_file(tmp_path):
    data = load(archive_dataset="BasicMotions")
    plot_examples(data.splits["train"], data.label_names, tmp_path / "examples.png")
    assert (tmp_path / "examples.png").stat().st_size > 20000
    write_series_csv(data.splits["test"][0]["series"], tmp_path / "one.csv")
    lines = (tmp_path / "one.csv").read_text().splitlines()
    assert lines[0] == ",".join(f"channel_{i}" for i in range(1, 7)) and len(lines) == 101


def test_a_series_too_long_for_its_axes_is_drawn_as_its_envelope():
    """A series that swings at every step, with more steps than the axes have pixel columns, is drawn as the
    band between its lowest and highest value per column (what lies beneath, a saliency map, shows through),
    a short one as a line."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from training.core.plots import plot_series_line

    fig, ax = plt.subplots(figsize=(3, 1))  # about 230 pixel columns
    swinging = np.where(np.arange(1460) % 2 == 0, 1.0, -1.0)
    swinging[700] = 5.0  # one spike: the envelope keeps it
    plot_series_line(ax, swinging, "black", 1.0, 1.0)
    plot_series_line(ax, np.sin(np.arange(150) / 10), "C1", 1.0, 1.0)
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    (line,) = ax.get_lines()
    assert len(line.get_xdata()) == 150
    top = band.get_paths()[0].vertices[:, 1]
    assert top.max() == 5.0 and top.min() == -1.0
    plt.close(fig)


def test_a_dataset_name_goes_through_load_dataset(tmp_path):
    """A local folder stands in for a Hub id (load_dataset resolves both alike): a column of series, each
    channels x steps, or one list column per channel."""
    series, labels = waves(count=30, channels=2)
    rows = [{"signal": s.tolist(), "x": s[0].tolist(), "y": s[1].tolist(), "label": lab}
            for s, lab in zip(series, labels, strict=True)]  # fmt: skip
    (tmp_path / "ds").mkdir()
    pd.DataFrame(rows[:24]).to_parquet(tmp_path / "ds" / "train.parquet")
    pd.DataFrame(rows[24:]).to_parquet(tmp_path / "ds" / "test.parquet")
    nested = load(dataset_name=str(tmp_path / "ds"), value_columns="signal")
    lists = load(dataset_name=str(tmp_path / "ds"), value_columns="x,y")
    assert nested.notes["channels"] == lists.notes["channels"] == 2 and len(nested.splits["test"]) == 6
    assert nested.splits["test"]["series"] == lists.splits["test"]["series"]
