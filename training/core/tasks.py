"""The tasks the training scripts solve, one per modality: the ``--task`` name of sweep.py and ablate.py (and
the script ``train_<name>.py``), the pipeline task, and the words the cards and reports use for its inputs."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str  # --task; the script training/train_<name>.py
    pipeline_task: str  # pipeline(...) and results.json's "task"
    noun: str  # one input, as in "each text of ..."
    plural: str  # "texts"
    a_noun: str  # "A text classification model ..."


TASKS = {
    task.pipeline_task: task
    for task in (
        Task("text", "text-classification", "text", "texts", "A text"),
        Task("image", "image-classification", "image", "images", "An image"),
        Task("timeseries", "time-series-classification", "time series", "series", "A time-series"),
    )
}
TASK_NAMES = [task.name for task in TASKS.values()]


def task_named(name: str) -> Task:
    """The task of ``--task name``."""
    return next(task for task in TASKS.values() if task.name == name)
