"""The run's ``ensemble``: the soft vote of its other models, each weighted, the weights chosen on the
validation split. Scored, saved and carded like the others; ``pipeline`` loads it through the code it ships
(``models/modeling_soft_vote.py``).

The weights are those, on a grid of steps of 0.1 over the simplex (every weight >= 0, all summing to 1),
whose vote has the lowest log loss on the validation split: log loss rewards a member for being confident
and right on the examples the others get wrong, and is smoother than accuracy or F1 on a few hundred
examples. The members' validation probabilities come from their own ``probabilities.npz``, saved when they
were trained: nothing is predicted twice. The validation split also chose each member's best epoch, so the
ensemble's validation scores are optimistic; its test scores are not.
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
    measure_latency_ms,
    score_predictions,
    write_evaluation,
)
from training.core.tasks import TASKS
from training.models.modeling_soft_vote import ENSEMBLE_NAME, SoftVoteConfig, SoftVoteEnsemble

logger = logging.getLogger(__name__)

ENSEMBLE = ENSEMBLE_NAME
GRID_STEPS = 10  # weights in steps of 1/10
SPLITS = ("train", "validation", "test")

SoftVoteConfig.register_for_auto_class()
AutoConfig.register(SoftVoteConfig.model_type, SoftVoteConfig, exist_ok=True)


def simplex_grid(members: int, steps: int) -> np.ndarray:
    """Every weight vector of ``members`` non-negative multiples of 1/steps that sum to 1."""
    points = [c for c in itertools.product(range(steps + 1), repeat=members - 1) if sum(c) <= steps]
    return np.array([[*c, steps - sum(c)] for c in points], dtype=float) / steps


def vote_weights(probabilities: list[np.ndarray], labels: np.ndarray, steps: int = GRID_STEPS) -> np.ndarray:
    """The grid's weights whose weighted mean of ``probabilities`` (one array per member) has the lowest log
    loss on ``labels``; the first such point on a tie."""
    # Each member's probability of the true class: the vote's is their weighted sum.
    true_class = np.stack([p[np.arange(len(labels)), labels] for p in probabilities])  # (members, examples)
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


def fit_ensemble(
    output_dir: Path, members: list[dict[str, Any]], label_names: list[str], inputs: EvaluationInputs
) -> dict[str, Any]:
    """Weigh ``members`` (their metrics) on validation, save the ensemble in ``output_dir/ensemble`` with its
    evaluation files, and return its metrics (``metrics.json`` is written by the caller, last)."""
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
    weights = vote_weights(list(validation_probs), validation_labels[0])
    predictions = {
        split: (sum(w * arrays[n][split][0] for n, w in zip(names, weights, strict=True)), arrays[names[0]][split][1])
        for split in SPLITS
    }
    fit_seconds = time.perf_counter() - start

    # The checkpoint: members with a non-zero weight, found beside it (models/modeling_soft_vote.py).
    voting = [{"name": n, "weight": round(float(w), 4)} for n, w in zip(names, weights, strict=True) if w > 0]
    model_dir = output_dir / ENSEMBLE
    config = SoftVoteConfig(
        members=voting, task=inputs.task, num_labels=len(label_names), id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)},
    )  # fmt: skip
    config.custom_pipelines = {
        inputs.task: {"impl": "modeling_soft_vote.SoftVotePipeline", "pt": [TASKS[inputs.task].auto_model], "tf": []}
    }
    SoftVoteEnsemble.register_for_auto_class(TASKS[inputs.task].auto_model)
    SoftVoteEnsemble(config).save_pretrained(model_dir)
    by_name = {m["name"]: m for m in members}
    vote = " + ".join(f"{v['weight']:g} x {v['name']}" for v in voting)
    metrics = {
        "name": ENSEMBLE,
        "kind": "ensemble",
        "architecture": f"soft vote of the run's models, weights chosen on the validation split: {vote}",
        "model_class": SoftVoteEnsemble.__name__,
        "members": {n: round(float(w), 4) for n, w in zip(names, weights, strict=True)},
        "num_parameters": sum(by_name[v["name"]]["num_parameters"] for v in voting),
        "num_trainable_parameters": 0,  # its weights are chosen on validation, not trained
        "hyperparameters": {"weight_grid_step": 1 / GRID_STEPS, "weights_chosen_by": "validation log loss"},
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
        **score_predictions(predictions, label_names),
    }
    write_evaluation(metrics, predictions, label_names, inputs, model_dir)
    logger.info("Ensemble: %s (validation log loss chose the weights in %.2f s)", vote, fit_seconds)
    return metrics
