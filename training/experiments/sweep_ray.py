"""The sweep's Ray Tune backend (``sweep.py --backend ray``): the same trials, scheduled by Ray.

``Trainer.hyperparameter_search(backend="ray")`` ships the Trainer to Ray workers, one trial per
process on any node of the Ray cluster. Sampling stays Optuna's, through Ray's ``OptunaSearch`` on the
sweep's own study and storage, so the search space, trial 0 (the default configuration), sweep.json,
the plots and the resumption are those of the Optuna backend; Ray's schedulers prune instead of
Optuna's pruners. One Ray run is the study's only driver (Ray does the parallel part).
"""

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from ray.tune.result import TRAINING_ITERATION
from ray.tune.search.optuna import OptunaSearch
from transformers import Trainer

from training.core.errors import UserError

logger = logging.getLogger("sweep")

FINISHED_KEY = "trial_finished"  # in each report of RayTrialTrainer: its epoch ends the trial anyway


class RayTrialTrainer(Trainer):
    """Adds to each report whether its epoch ends the trial anyway (early stopping or the last epoch), so
    that ``StudySearch`` can tell a trial the scheduler stopped from one that finished. (Ray counts
    reports as training iterations: they are epochs here, whatever the batch size.) Gives Trainer only
    the TrainingArguments of a trial's configuration."""

    def _hp_search_setup(self, trial: Any) -> None:
        # Ray's configuration also holds the trial's dropout and patience, which reach the model
        # (model_init) and the early-stopping callback (sweep.TrialRecord) from the trial itself: only
        # the TrainingArguments go to Trainer, which would warn about the others on every trial.
        if not isinstance(trial, dict):
            super()._hp_search_setup(trial)
            return
        super()._hp_search_setup({k: v for k, v in trial.items() if hasattr(self.args, k)})
        self._trial = trial

    def _report_to_hp_search(self, trial: Any, step: int, metrics: dict[str, float]) -> None:
        finished = self.control.should_training_stop or (self.state.epoch or 0) >= self.args.num_train_epochs
        super()._report_to_hp_search(trial, step, {**metrics, FINISHED_KEY: finished})


class StudySearch(OptunaSearch):
    """Ray's Optuna searcher, writing trials as the Optuna backend does: every epoch's score, including
    the one a scheduler decision swallows; the best epoch's score as the value (the model
    ``load_best_model_at_end`` keeps); and PRUNED for a trial the scheduler stopped (``OptunaSearch``
    would record it COMPLETE with its last score)."""

    def __init__(self, *args: Any, selected_by: str | None = None, lower_is_better: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._scores: dict[str, dict[int, float]] = {}
        # The metric that picks the epoch a trial keeps, when it is not the objective (the time-series lineup
        # keeps the epoch of lowest validation loss): the value told is the objective at that epoch.
        self.selected_by, self.lower_is_better = selected_by, lower_is_better
        self._selection: dict[str, dict[int, float]] = {}

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if result[TRAINING_ITERATION] in self._scores.get(trial_id, {}):  # Ray repeats a finished trial's last result
            return
        super().on_trial_result(trial_id, result)
        self._scores.setdefault(trial_id, {})[result[TRAINING_ITERATION]] = result[self.metric]
        if self.selected_by in result:
            self._selection.setdefault(trial_id, {})[result[TRAINING_ITERATION]] = result[self.selected_by]

    def _kept_score(self, trial_id: str, scores: dict[int, float]) -> float:
        selection = self._selection.pop(trial_id, {})
        if not selection:
            return max(scores.values())
        pick = min if self.lower_is_better else max
        return scores[pick(selection, key=selection.__getitem__)]

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        trial = self._ot_trials.get(trial_id)
        if error or not result or trial is None or trial_id in self._completed_trials:
            super().on_trial_complete(trial_id, result, error)
            return
        scores = self._scores.pop(trial_id, {})
        if result[TRAINING_ITERATION] not in scores:  # the result Ray stopped the trial on skips on_trial_result
            scores[result[TRAINING_ITERATION]] = result[self.metric]
            trial.report(result[self.metric], result[TRAINING_ITERATION])
        trial.set_user_attr("epochs_trained", round(float(result.get("epoch", 0)), 2))
        if result.get(FINISHED_KEY):
            self._ot_study.tell(trial, self._kept_score(trial_id, scores))
        else:  # stopped by the scheduler; Optuna takes a pruned trial's value from its last score
            self._ot_study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        self._completed_trials.add(trial_id)


def make_scheduler(name: str, max_epochs: int) -> Any:
    """Ray's counterpart of ``sweep.make_pruner``, with epochs (training iterations) as the resource:
    ASHA for successive halving, HyperBand, the median stopping rule, or none."""
    from ray.tune.schedulers import ASHAScheduler, HyperBandScheduler, MedianStoppingRule

    common = {"time_attr": TRAINING_ITERATION, "metric": "objective", "mode": "max"}
    if name == "halving":
        return ASHAScheduler(**common, max_t=max_epochs, grace_period=1, reduction_factor=3)
    if name == "hyperband":
        return HyperBandScheduler(**common, max_t=max_epochs, reduction_factor=3)
    if name == "median":
        return MedianStoppingRule(**common, grace_period=2, min_samples_required=5)
    return None


def connect(address: str | None, cpus_per_trial: int) -> None:
    """Start a Ray on this machine (``address`` None) or join a running cluster. Called before the sweep
    writes anything, so that a cluster that is not there costs nothing."""
    import ray

    # Workers import the project's modules (the models): the project must be at this path on every node.
    project = str(Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(filter(None, [project, os.environ.get("PYTHONPATH")]))
    # Every trial saves a checkpoint per epoch (Trainer's Ray reporting) and Ray keeps the last one
    # (num_to_keep=1); the sweep never restores them, so Ray's warning about frequent snapshots is noise.
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    try:
        ray.init(
            address=address, include_dashboard=False,
            runtime_env={"env_vars": {"PYTHONPATH": python_path, "OMP_NUM_THREADS": str(cpus_per_trial)}},
        )  # fmt: skip
    except ConnectionError as error:  # --ray_address auto with no cluster running
        raise UserError(
            f"--ray_address {address}: {error} Start one with `ray start --head`, or leave --ray_address out "
            "to start a Ray on this machine."
        ) from None


def run_trials(
    trainer: Trainer,
    *,
    study: optuna.Study,
    storage_url: str,
    space_values: Callable[[optuna.Trial], dict[str, Any]],
    n_trials: int,
    objective_key: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: str,
    max_epochs: int,
    cpus_per_trial: int,
    ray_dir: Path,
) -> None:
    """Run ``n_trials`` more trials of ``study`` (at ``storage_url``) on the Ray ``connect`` joined, remove
    Ray's own records of them from ``ray_dir``, and leave Ray. ``space_values(trial)`` samples a trial's
    TrainingArguments; Ray pickles it with the searcher's state, so it must be a module-level function or
    a ``functools.partial`` of one."""
    import ray

    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        logger.info("Trial %d was left running by an interrupted run: marked failed.", trial.number)
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    try:
        selected_by = trainer.args.metric_for_best_model or ""
        selected_by = selected_by if selected_by.startswith("eval_") else f"eval_{selected_by}"
        search = StudySearch(
            space=space_values, metric="objective", mode="max", sampler=sampler,
            selected_by=None if selected_by == objective_key else selected_by,
            lower_is_better=not trainer.args.greater_is_better,
            study_name=study.study_name, storage=optuna.storages.RDBStorage(storage_url),  # no heartbeat: ask/tell
        )  # fmt: skip
        trainer.hyperparameter_search(
            hp_space=lambda _: {},  # the searcher holds the space
            compute_objective=lambda metrics: metrics[objective_key],
            n_trials=n_trials, direction="maximize", backend="ray",
            search_alg=search, scheduler=make_scheduler(pruner, max_epochs),
            resources_per_trial={"cpu": cpus_per_trial}, storage_path=str(ray_dir.resolve()),
            name=study.study_name, checkpoint_config=ray.tune.CheckpointConfig(num_to_keep=1), verbose=1,
        )  # fmt: skip
        shutil.rmtree(ray_dir, ignore_errors=True)  # Ray's copies of the trials and checkpoints: the study has them
    finally:
        ray.shutdown()
