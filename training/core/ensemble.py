"""The run's ``ensemble``: the soft vote of its other models, each weighted, the weights set on the
validation split. Scored, saved and carded like the others; ``pipeline`` loads it through the code it ships
(``models/modeling_soft_vote.py``).

The weights are those, on a grid of steps of 0.1 over the simplex (every weight >= 0, all summing to 1),
whose vote has the lowest log loss on the validation split: log loss rewards a member for being confident
and right on the examples the others get wrong, and is smoother than accuracy or F1 on a few hundred
examples. The members' validation probabilities come from their own ``probabilities.npz``, saved when they
were trained: nothing is predicted twice. The validation split also chose each member's best epoch, so the
ensemble's validation scores are optimistic; its test scores are not.

A validation split of fewer than ``MIN_VALIDATION_TO_STACK`` examples cannot fit those weights: each member is
then weighed by the likelihood it gave the validation labels (the product of its probabilities of the true
classes; Bayesian model averaging with the validation split as the evidence and equal prior weights), which
stays near equal weights while the few examples cannot tell the members apart and moves to the member they
clearly favour. ``--ensemble_weights`` picks ``stacking`` (the grid above), ``likelihood`` or ``equal``.
Measured on the nine time-series bench runs (4 to 27 validation series; `python bench/bench_timeseries.py`,
2026-12-03; test accuracy, stacking from the runs' saved probabilities / likelihood, the run's ensemble /
equal weights from the saved probabilities): the grid put the whole vote on one member every time, whichever
had the lowest log loss on those few series, and the likelihood weights scored at or above it on all nine
(ArrowHead 0.845 / 0.845 / 0.862, ACSF1 0.860 / 0.890 / 0.900, ACSF1 with the ResNet 0.890 / 0.900 / 0.930,
ArrowHead with the ResNet 0.828 / 0.839 / 0.868, ItalyPowerDemand 0.961 / 0.967 / 0.967, OSULeaf 0.979 /
0.983 / 0.983, GunPoint 0.993 / 1.000 / 1.000, BasicMotions 1.000 all three, JapaneseVowels 0.986 / 0.986 /
0.884): equal weights do better where the networks and MiniRocket are close, and lose 0.10 where MiniRocket
is far ahead (JapaneseVowels), which the validation split does show. The text benches' 212 and 752
validation examples share the grid's weight between members, and keep it.
"""

import itertools
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from transformers import AutoConfig

from training.core.errors import UserError
from training.core.experiment import (
    PROBABILITIES,
    EvaluationInputs,
    decision_threshold,
    measure_latency_ms,
    score_predictions,
    write_evaluation,
)
from training.core.tasks import TASKS
from training.models.modeling_soft_vote import ENSEMBLE_NAME, SoftVoteConfig, SoftVoteEnsemble

logger = logging.getLogger(__name__)

ENSEMBLE = ENSEMBLE_NAME
GRID_STEPS = 10  # weights in steps of 1/10
# Below this, likelihood weights (see above): a round number between the archives' 4 to 27 validation series
# and the text benches' 212 and 752 examples, where the grid's weights are shared between members.
MIN_VALIDATION_TO_STACK = 100
SPLITS = ("train", "validation", "test")

SoftVoteConfig.register_for_auto_class()
AutoConfig.register(SoftVoteConfig.model_type, SoftVoteConfig, exist_ok=True)


def simplex_grid(members: int, steps: int) -> np.ndarray:
    """Every weight vector of ``members`` non-negative multiples of 1/steps that sum to 1."""
    points = [c for c in itertools.product(range(steps + 1), repeat=members - 1) if sum(c) <= steps]
    return np.array([[*c, steps - sum(c)] for c in points], dtype=float) / steps


def true_class_probabilities(probabilities: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Each member's probability of each example's true class, (members, examples), in float64: the members'
    probabilities are saved as float32, whose weights would print as 0.3499999940395355."""
    return np.stack([np.asarray(p, dtype=np.float64)[np.arange(len(labels)), labels] for p in probabilities])


def vote_weights(probabilities: list[np.ndarray], labels: np.ndarray, steps: int = GRID_STEPS) -> np.ndarray:
    """The grid's weights whose weighted mean of ``probabilities`` (one array per member) has the lowest log
    loss on ``labels``; the first such point on a tie."""
    true_class = true_class_probabilities(probabilities, labels)  # the vote's is their weighted sum
    grid = simplex_grid(len(probabilities), steps)
    losses = -np.log(np.clip(grid @ true_class, 1e-12, None)).mean(axis=1)
    return grid[int(np.argmin(losses))]


def _member_probabilities(output_dir: Path, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    path = output_dir / name / PROBABILITIES
    if not path.is_file():
        raise UserError(
            f"the ensemble needs {path}, which models trained before version 2026-12 lack: retrain {name} "
            "(--models with its name) or leave the ensemble out."
        )
    with np.load(path) as arrays:
        return {split: (arrays[f"{split}_probs"], arrays[f"{split}_labels"]) for split in SPLITS}


def likelihood_weights(probabilities: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Each member's weight in proportion to the likelihood its ``probabilities`` gave ``labels``: the product
    of its probabilities of the true classes, normalised over the members (in logs, so many examples do not
    underflow). Rounded to 0.01, the largest weight taking the rest: a member under 0.005 is left out of the
    checkpoint rather than run by every prediction for nothing."""
    log_likelihood = np.log(np.clip(true_class_probabilities(probabilities, labels), 1e-12, None)).sum(axis=1)
    relative = np.exp(log_likelihood - log_likelihood.max())
    weights = np.round(relative / relative.sum(), 2)
    top = int(np.argmax(weights))
    weights[top] = round(1 - (weights.sum() - weights[top]), 2)
    return weights


def weighing(how: str, validation_size: int) -> str:
    """How the vote's weights are set: ``how`` (``--ensemble_weights``: auto, stacking, likelihood or equal),
    with ``auto`` resolved by the size of the validation split: ``stacking`` from ``MIN_VALIDATION_TO_STACK``
    examples, else ``likelihood``."""
    if how != "auto":
        return how
    return "stacking" if validation_size >= MIN_VALIDATION_TO_STACK else "likelihood"


def weights_note(how: str, validation_size: int) -> str:
    """How the weights were set, as the ensemble's architecture, card and report say it."""
    if how == "stacking":
        return "the weights of lowest validation log loss, in steps of 0.1"
    if how == "equal":
        return "equal weights (--ensemble_weights equal)"
    reason = (
        f"the validation split's {validation_size} examples are too few to fit the vote's weights"
        if validation_size < MIN_VALIDATION_TO_STACK
        else "--ensemble_weights likelihood"
    )
    return f"each member weighed by the likelihood it gave the validation labels ({reason})"


def save_ensemble(
    model_dir: Path, voting: list[dict[str, Any]], label_names: list[str], task: str, threshold: float | None = None
) -> None:
    """The ensemble's checkpoint: the members' names and weights (``voting``), with the pipeline it ships
    registered for ``task``, so that ``pipeline(task, model=model_dir, trust_remote_code=True)`` loads it; and
    its ``decision_threshold`` where one was chosen (``experiment.decision_threshold``)."""
    config = SoftVoteConfig(
        members=voting, task=task, num_labels=len(label_names), id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)},
    )  # fmt: skip
    if threshold is not None:
        config.decision_threshold = threshold
    config.custom_pipelines = {
        task: {"impl": "modeling_soft_vote.SoftVotePipeline", "pt": [TASKS[task].auto_model], "tf": []}
    }
    SoftVoteEnsemble.register_for_auto_class(TASKS[task].auto_model)
    SoftVoteEnsemble(config).save_pretrained(model_dir)


def fit_ensemble(
    output_dir: Path,
    members: list[dict[str, Any]],
    label_names: list[str],
    inputs: EvaluationInputs,
    how: str = "auto",
    primary_metric: str = "",
) -> dict[str, Any]:
    """Weigh ``members`` (their metrics) as ``how`` says (``weighing``), save the ensemble in
    ``output_dir/ensemble`` with its evaluation files, and return its metrics (``metrics.json`` is written by
    the caller, last). A binary run ranked by ``f1_positive`` also gets the vote's decision threshold."""
    if len(members) < 2:
        raise UserError("the ensemble votes over at least two models of the run: add them to --models.")
    start = time.perf_counter()
    arrays = {m["name"]: _member_probabilities(output_dir, m["name"]) for m in members}
    for split in SPLITS:
        labels = [a[split][1] for a in arrays.values()]
        if any(not np.array_equal(labels[0], other) for other in labels[1:]):
            raise UserError(f"the members were evaluated on different {split} splits: retrain them in one run.")
    names = list(arrays)
    validation_probs, validation_labels = zip(*(arrays[n]["validation"] for n in names), strict=True)
    how = weighing(how, len(validation_labels[0]))
    if how == "stacking":
        weights = vote_weights(list(validation_probs), validation_labels[0])
    elif how == "likelihood":
        weights = likelihood_weights(list(validation_probs), validation_labels[0])
    else:
        weights = np.full(len(names), 1 / len(names))
    note = weights_note(how, len(validation_labels[0]))
    predictions = {
        split: (sum(w * arrays[n][split][0] for n, w in zip(names, weights, strict=True)), arrays[names[0]][split][1])
        for split in SPLITS
    }
    fit_seconds = time.perf_counter() - start
    scores = score_predictions(predictions, label_names)
    threshold = decision_threshold(predictions, scores, label_names, primary_metric)

    # The checkpoint: members with a non-zero weight, found beside it (models/modeling_soft_vote.py).
    voting = [{"name": n, "weight": float(w)} for n, w in zip(names, weights, strict=True) if w > 0]
    model_dir = output_dir / ENSEMBLE
    save_ensemble(model_dir, voting, label_names, inputs.task, threshold["threshold"] if threshold else None)
    by_name = {m["name"]: m for m in members}
    vote = " + ".join(f"{v['weight']:.2g} x {v['name']}" for v in voting)
    metrics = {
        "name": ENSEMBLE,
        "kind": "ensemble",
        "architecture": f"soft vote of the run's models, {note}: {vote}",
        "model_class": SoftVoteEnsemble.__name__,
        "members": {n: float(w) for n, w in zip(names, weights, strict=True)},
        "num_parameters": sum(by_name[v["name"]]["num_parameters"] for v in voting),
        "num_trainable_parameters": 0,  # its weights are chosen on validation, not trained
        # "validation log loss": the name stacking had before the other weighings, which reports still read.
        "hyperparameters": (
            {"weight_grid_step": 1 / GRID_STEPS, "weights_chosen_by": "validation log loss"}
            if how == "stacking"
            else {"weights_chosen_by": how}
        ),
        "weights_note": note,
        "training_device": "CPU",
        "world_size": 1,
        # Its cost is its members' training; choosing the weights itself takes milliseconds (weight_fit_s).
        "train_runtime_s": round(sum(by_name[v["name"]]["train_runtime_s"] for v in voting), 2),
        "train_samples_per_second": None,
        "weight_fit_s": round(fit_seconds, 3),
        "epochs_trained": 0,
        "inference_ms_per_sample": measure_latency_ms(str(model_dir), None, inputs),
        "inference_device": "cpu",
        "history": [],
        **scores,
        **({"decision_threshold": threshold} if threshold else {}),
    }
    write_evaluation(metrics, predictions, label_names, inputs, model_dir)
    logger.info("Ensemble: %s (%s, %.2f s)", vote, note, fit_seconds)
    return metrics
