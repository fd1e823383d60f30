"""The run's ensemble: weights chosen on validation by log loss over a grid on the simplex, or by each member's
likelihood where the validation split is too small for that, and the checks that stop a run before it trains
anything."""

import numpy as np
import pytest

from tests.conftest import run_main, sentiment_csv_args
from training.core.ensemble import (
    MIN_VALIDATION_TO_STACK,
    likelihood_weights,
    simplex_grid,
    vote_weights,
    weighing,
    weights_note,
)


def test_the_grid_covers_the_simplex():
    grid = simplex_grid(3, 10)
    assert len(grid) == 66  # C(12, 2)
    assert np.allclose(grid.sum(axis=1), 1) and (grid >= 0).all()
    assert [1.0, 0.0, 0.0] in grid.tolist() and [0.0, 0.0, 1.0] in grid.tolist()


def test_a_sure_and_right_member_takes_all_the_weight():
    labels = np.array([0, 1, 1, 0, 1])
    right = np.eye(2)[labels] * 0.98 + 0.01
    coin = np.full((5, 2), 0.5)
    assert vote_weights([coin, right], labels).tolist() == [0.0, 1.0]


def test_members_right_on_different_examples_share_the_weight():
    labels = np.array([0, 0, 1, 1])
    # Each member is sure and right on two examples and unsure on the other two.
    first = np.array([[0.95, 0.05], [0.95, 0.05], [0.5, 0.5], [0.5, 0.5]])
    second = np.array([[0.5, 0.5], [0.5, 0.5], [0.05, 0.95], [0.05, 0.95]])
    assert vote_weights([first, second], labels).tolist() == [0.5, 0.5]


def test_a_small_validation_split_weighs_by_likelihood_unless_the_user_says():
    assert weighing("auto", MIN_VALIDATION_TO_STACK - 1) == "likelihood"
    assert weighing("auto", MIN_VALIDATION_TO_STACK) == "stacking"
    assert weighing("stacking", 4) == "stacking" and weighing("equal", 5000) == "equal"
    assert weights_note("likelihood", 4).endswith(
        "(the validation split's 4 examples are too few to fit the vote's weights)"
    )
    assert weights_note("likelihood", 5000).endswith("(--ensemble_weights likelihood)")
    assert weights_note("equal", 4) == "equal weights (--ensemble_weights equal)"


def test_likelihood_weights_stay_even_until_the_labels_tell_the_members_apart():
    labels = np.array([0, 1, 1, 0])
    sure = np.eye(2)[labels] * 0.9 + 0.05  # 0.95 on every true class
    assert likelihood_weights([sure, sure, sure], labels).tolist() == [0.34, 0.33, 0.33]  # the first takes the rest
    # Four examples at 0.95 against 0.5: (0.95 / 0.5) ** 4 = 13 times as likely.
    assert likelihood_weights([sure, np.full((4, 2), 0.5)], labels).tolist() == [0.93, 0.07]
    # Forty such examples: the coin's weight rounds to nothing, and it leaves the vote.
    many = np.tile(labels, 10)
    assert likelihood_weights([np.eye(2)[many] * 0.9 + 0.05, np.full((40, 2), 0.5)], many).tolist() == [1.0, 0.0]


def test_an_unknown_weighing_is_refused_before_training(tmp_path, capsys):
    from training.train_text import main

    argv = [*sentiment_csv_args(tmp_path / "d.csv"), "--ensemble_weights", "best", "--output_dir", str(tmp_path / "o")]
    code, err = run_main(main, "train_text.py", argv, capsys)
    assert code == 2 and "--ensemble_weights must be one of auto, stacking, likelihood, equal (got 'best')" in err
    assert not (tmp_path / "o").exists()


def test_an_ensemble_without_two_members_is_refused_before_training(tmp_path, capsys):
    from training.train_text import main

    argv = [*sentiment_csv_args(tmp_path / "d.csv"), "--models", "scratch-simple,ensemble",
            "--output_dir", str(tmp_path / "out")]  # fmt: skip
    code, err = run_main(main, "train_text.py", argv, capsys)
    assert code == 2 and "votes over at least two other models" in err
    assert not (tmp_path / "out").exists()


def test_the_shipped_pipeline_finds_its_members(tmp_path):
    from training.models.modeling_soft_vote import member_source

    (tmp_path / "run" / "ensemble").mkdir(parents=True)
    assert member_source(str(tmp_path / "run" / "ensemble"), {"name": "glove-lstm"}) == str(
        tmp_path / "run" / "glove-lstm"
    )
    assert member_source("alice/news-ensemble", {"name": "glove-lstm"}) == "alice/news-glove-lstm"
    assert member_source("alice/news-ensemble", {"name": "cnn", "source": "bob/cnn"}) == "bob/cnn"
    with pytest.raises(ValueError, match="cannot find the members"):
        member_source("alice/my-vote", {"name": "cnn"})


def test_the_ensemble_pipeline_votes_over_every_class_and_batches_like_any_pipeline(tmp_path):
    """Seven classes, more than the image pipeline's default top 5: each member's answer must still hold every
    class. A list with ``batch_size`` gives, in order, what the same images give one at a time."""
    from PIL import Image
    from transformers import pipeline

    from tests.tiny_models import tiny_resnet
    from training.core.ensemble import save_ensemble

    labels = [f"LABEL_{i}" for i in range(7)]
    for name in ("first", "second"):
        tiny_resnet(tmp_path / "run" / name, num_labels=7)
    save_ensemble(tmp_path / "run" / "ensemble", [{"name": "first", "weight": 0.7}, {"name": "second", "weight": 0.3}],
                  labels, "image-classification")  # fmt: skip
    vote = pipeline("image-classification", model=str(tmp_path / "run" / "ensemble"), trust_remote_code=True)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)) for _ in range(5)]
    one_by_one = [vote(image, top_k=None) for image in images]
    assert all(len(answer) == 7 for answer in one_by_one)
    batched = vote(images, top_k=None, batch_size=2)
    for single, batch in zip(one_by_one, batched, strict=True):
        assert [s["label"] for s in single] == [s["label"] for s in batch]
        assert np.allclose([s["score"] for s in single], [s["score"] for s in batch], atol=1e-6)
    members = [pipeline("image-classification", model=str(tmp_path / "run" / n)) for n in ("first", "second")]
    expected = sum(w * np.array([{s["label"]: s["score"] for s in m(images[0], top_k=7)}[c] for c in labels])
                   for w, m in zip((0.7, 0.3), members, strict=True))  # fmt: skip
    got = {s["label"]: s["score"] for s in one_by_one[0]}
    assert np.allclose([got[c] for c in labels], expected, atol=1e-6)
