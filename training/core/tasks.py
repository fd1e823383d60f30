"""The tasks the training scripts solve, one per modality: the ``--task`` name of sweep.py and ablate.py (and
the script ``train_<name>.py``), the pipeline task, the Auto class its checkpoints load with, the test input
saved beside each model for its card's snippet, and the words the cards and reports use for its inputs. A new
modality is one entry here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str  # --task; the script training/train_<name>.py
    pipeline_task: str  # pipeline(...) and results.json's "task"
    noun: str  # one input, as in "each text of ..."
    plural: str  # "texts"
    a_noun: str  # "A text classification model ..."
    auto_model: str  # the transformers Auto class of its checkpoints (the ensemble's pipeline names it)
    example_file: str | None  # saved next to each model for the card's snippet (texts go into the snippet)


TASKS = {
    task.pipeline_task: task
    for task in (
        Task("text", "text-classification", "text", "texts", "A text", "AutoModelForSequenceClassification", None),
        Task(
            "image",
            "image-classification",
            "image",
            "images",
            "An image",
            "AutoModelForImageClassification",
            "example.png",
        ),
        # transformers has no Auto class for time-series classification: AutoModel, through the config's auto_map.
        Task(
            "timeseries",
            "time-series-classification",
            "time series",
            "series",
            "A time-series",
            "AutoModel",
            "example.csv",
        ),
    )
}
TASK_NAMES = [task.name for task in TASKS.values()]


def task_named(name: str) -> Task:
    """The task of ``--task name``."""
    return next(task for task in TASKS.values() if task.name == name)
