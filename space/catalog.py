"""What the Space shows, without the UI: which models (from ``models.yaml`` or run directories), each
loaded once through ``pipeline``, their metrics, cards and figures, and the inference and explanation
functions with the input checks. ``app.py`` lays it out with ``gr.Blocks``; tests call these functions
directly.

A source is a run directory (its ``results.json`` lists the models; ``dataset.json`` describes the
data), a model directory, or a Hub repo id. Paths are relative to the config file.
"""

import html
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import yaml

from training.core import explain
from training.core.metrics import thresholded_predictions
from training.core.results import choose_primary_metric, comparison_rows, cross_validation_rows, overfitting_note
from training.core.tasks import TASKS as TASK_INFO
from training.models.processing_timeseries import MIN_LENGTH as MIN_SERIES_LENGTH
from training.models.processing_timeseries import fill_gaps
from training.reporting import insights
from training.timeseries import SERIES_EXAMPLES

logger = logging.getLogger(__name__)

TASKS = {task.name: task.pipeline_task for task in TASK_INFO.values()}  # text, image, timeseries
TOP_K = 5
# Characters of text the models are given at most: every model reads far fewer tokens than this,
# and tokenising a 100,000-character paste would cost more than the prediction itself.
MAX_TEXT_CHARS = 5_000
# Longest image side fed to the pipelines: every model resizes to at most a few hundred pixels, so a
# 40-megapixel photo is downscaled first (resizing it in the image processor is slow).
MAX_IMAGE_SIDE = 1024
# Values of one pasted or uploaded series, at most: the longest archive series have a few thousand steps.
MAX_SERIES_VALUES = 200_000
# What a model folder may hold for the app: the card, metrics and figures (the training scripts write them; a
# model finished by an older version, or pushed by another tool, lacks some). The error analysis' names are
# training/core/analysis.py's, written here rather than imported: that module draws with matplotlib.
MODEL_FILES = (
    "metrics.json", "README.md", "confusion_matrix.png", "learning_curves.png", "example.png", "example.csv",
    "curves.png", "top_losses.png", "top_losses.md",
)  # fmt: skip
# The run's own figures of every model at once (training/core/analysis.py's RUN_FIGURES), where written.
RUN_FIGURES = ("roc_curves.png", "pr_curves.png", "calibration.png")


@dataclass
class ModelEntry:
    """One model as the app shows it. ``error`` says why it is unavailable (then ``classifier`` is None)."""

    name: str
    source: str
    classifier: Any = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # MODEL_FILES name -> local path, where found
    # Held around every pipeline and explain call: Captum hooks the model while it explains, so a prediction
    # of the same model must not run meanwhile (the app serves several requests at once).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def explainable(self) -> bool:
        """Whether it has a tokenizer, image processor or feature extractor of its own to explain through (an
        ensemble has not: its members' explanations are its explanation)."""
        processors = ("tokenizer", "image_processor", "feature_extractor")
        return any(getattr(self.classifier, a, None) is not None for a in processors)

    @property
    def config(self) -> Any:
        """The model's config (its ``id2label``, and its ``decision_threshold`` where one was chosen), if any."""
        return getattr(getattr(self.classifier, "model", None), "config", None)

    @cached_property  # read once, after loading has found the files
    def metrics(self) -> dict[str, Any] | None:
        path = self.files.get("metrics.json")
        return json.loads(Path(path).read_text(encoding="utf-8")) if path else None

    @cached_property
    def card(self) -> str | None:
        path = self.files.get("README.md")
        return _strip_front_matter(Path(path).read_text(encoding="utf-8")) if path else None

    @cached_property
    def top_losses(self) -> str | None:
        """A text model's most confident test mistakes, explained (``top_losses.md``), where written."""
        path = self.files.get("top_losses.md")
        return Path(path).read_text(encoding="utf-8") if path else None


@dataclass
class Section:
    """The models of one task, with the run's description and primary metric where known."""

    task: str  # pipeline task
    models: list[ModelEntry]
    description: dict[str, Any] | None = None  # dataset.json of the first run
    run_dir: Path | None = None
    results: dict[str, Any] | None = None  # results.json of the first run
    primary_metric: str = "accuracy"
    primary_metric_reason: str = ""

    @property
    def kind(self) -> str:
        """The task's short name: text, image, timeseries (element ids, API names, models.yaml keys)."""
        return TASK_INFO[self.task].name

    @property
    def title(self) -> str:
        noun = TASK_INFO[self.task].noun.capitalize()
        source = (self.description or {}).get("source")
        return f"{noun}: {source}" if source else noun

    @property
    def channels(self) -> int:
        """Channels of each series (time series): the run's, else what the models' feature extractor reads
        (models given by repo id or folder have no run beside them), else 1."""
        notes = (self.description or {}).get("notes") or {}
        if "channels" in notes:
            return int(notes["channels"])
        for entry in self.available:
            extractor = getattr(entry.classifier, "feature_extractor", None)
            if getattr(extractor, "num_channels", None):
                return int(extractor.num_channels)
        return 1

    @property
    def available(self) -> list[ModelEntry]:
        return [m for m in self.models if m.classifier is not None]

    @property
    def figures(self) -> dict[str, str]:
        """The run's RUN_FIGURES that exist (name -> path): none for models not given as a run."""
        if self.run_dir is None:
            return {}
        return {name: str(self.run_dir / name) for name in RUN_FIGURES if (self.run_dir / name).is_file()}


class ConfigError(ValueError):
    """A models.yaml that cannot be used; the message says what to fix."""


def _strip_front_matter(card: str) -> str:
    if card.startswith("---\n"):
        end = card.find("\n---\n", 4)
        if end != -1:
            return card[end + 5 :].lstrip()
    return card


def read_config(path: Path) -> dict[str, list[str]]:
    """``models.yaml``: ``text:`` and/or ``image:``, each a list of run dirs, model dirs or Hub repo ids.
    Relative paths are resolved against the file's folder."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    unknown = [key for key in config if key not in TASKS]
    if not isinstance(config, dict) or unknown:
        raise ConfigError(f"{path}: expected the keys {', '.join(TASKS)} (lists of sources); found {unknown}.")
    sources = {}
    for kind in TASKS:
        entries = config.get(kind) or []
        if isinstance(entries, str):
            entries = [entries]
        sources[kind] = [_resolve(str(entry), path.parent) for entry in entries]
    return sources


def is_path(source: str) -> bool:
    """A source written as a path (starts with ., / or ~): never a Hub repo id, even if it does not exist."""
    return source.startswith((".", "/", "~"))


def slug(name: str) -> str:
    """A model or tab name as it appears in element ids and API names: ``glove_lstm``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def markdown_text(text: str) -> str:
    """``text`` (a class name from the user's data) shown as it is in Markdown: its Markdown punctuation
    backslashed, then its HTML escaped (an ``<img onerror=...>`` class must stay text)."""
    return html.escape(re.sub(r"([\\`*_{}\[\]()#+\-.!|~])", r"\\\1", str(text)))


def api_name(kind: str, model: str, prefix: str = "") -> str:
    """The API endpoint of one model in the app: ``text_glove_lstm``, ``image_pretrained`` (predictions);
    with ``prefix="explain"``: ``explain_text_glove_lstm``."""
    return f"{prefix}_{kind}_{slug(model)}" if prefix else f"{kind}_{slug(model)}"


def _resolve(source: str, base: Path) -> str:
    """A path (starts with ., / or ~, or exists beside the file) made absolute; a Hub repo id as it is."""
    path = Path(source).expanduser()
    if path.is_absolute():
        return str(path)
    if is_path(source) or (base / path).exists():
        return str((base / path).resolve())
    return source


def sources_from_runs(run_dirs: list[Path]) -> dict[str, list[str]]:
    """``--results DIR``: each run's task comes from its results.json."""
    sources: dict[str, list[str]] = {kind: [] for kind in TASKS}
    for run_dir in run_dirs:
        results_path = Path(run_dir) / "results.json"
        if not results_path.is_file():
            raise ConfigError(f"{run_dir} has no results.json: give the --output_dir of a finished training run.")
        task = json.loads(results_path.read_text(encoding="utf-8"))["task"]
        sources[TASK_INFO[task].name].append(str(Path(run_dir).resolve()))
    return sources


def _hub_files(repo_id: str) -> dict[str, str]:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    files = {}
    for name in MODEL_FILES:
        try:
            files[name] = hf_hub_download(repo_id, name)
        except EntryNotFoundError:
            pass  # a model pushed by another tool may have no metrics or figures: shown without them
    return files


def _entries(source: str, task: str) -> tuple[list[ModelEntry], dict[str, Any] | None]:
    """The models a source names, not loaded yet, and the run's results.json when it is a run."""
    path = Path(source)
    if (path / "results.json").is_file():
        results = json.loads((path / "results.json").read_text(encoding="utf-8"))
        if results["task"] != task:
            raise ConfigError(f"{source} is a {results['task']} run, listed under {TASK_INFO[task].name}.")
        return [ModelEntry(m["name"], str(path / m["name"])) for m in results["models"]], results
    if path.is_dir() or is_path(source):
        return [ModelEntry(path.name, source)], None
    return [ModelEntry(source.split("/")[-1], source)], None  # a Hub repo id


def _load(entry: ModelEntry, task: str, loader: Callable[..., Any]) -> None:
    path = Path(entry.source)
    try:
        if path.is_dir():
            entry.files = {name: str(path / name) for name in MODEL_FILES if (path / name).is_file()}
        elif is_path(entry.source):
            raise FileNotFoundError(
                f"{entry.source} does not exist: train it first (`make text`, `make image` and "
                "`make timeseries` write the default ones), or change the list in models.yaml"
            )
        else:
            entry.files = _hub_files(entry.source)
        entry.classifier = loader(task, model=entry.source, trust_remote_code=True, device="cpu")
    except Exception as error:  # any failure: the app starts anyway and shows this model as unavailable
        entry.error = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
        logger.warning("Model %s (%s) is unavailable: %s", entry.name, entry.source, entry.error)


def load_sections(sources: dict[str, list[str]], loader: Callable[..., Any] | None = None) -> list[Section]:
    """Load every model once (``loader`` defaults to ``transformers.pipeline``); one Section per task."""
    if loader is None:
        from transformers import pipeline as loader
    sections = []
    for kind, task_sources in sources.items():
        if not task_sources:
            continue
        section = Section(TASKS[kind], [])
        for source in task_sources:
            entries, results = _entries(source, TASKS[kind])
            if results is not None and section.run_dir is None:
                section.run_dir = Path(source)
                section.description = json.loads((section.run_dir / "dataset.json").read_text(encoding="utf-8"))
                section.results = results
                section.primary_metric = results["primary_metric"]
                section.primary_metric_reason = results["primary_metric_reason"]
            section.models.extend(entries)
        names = [m.name for m in section.models]
        for entry in section.models:
            if names.count(entry.name) > 1:  # two runs with the same model names: tell them apart
                entry.name = f"{entry.name} ({Path(entry.source).parent.name or entry.source})"
            _load(entry, section.task, loader)
        if section.run_dir is None:
            _choose_primary_metric(section)
        if section.kind == "timeseries":  # MiniRocket compiles its transform (numba) on first use: not a user's wait
            for entry in section.available:
                try:
                    entry.classifier(np.zeros((section.channels, 16)))
                except Exception as error:  # its real predictions will say what is wrong
                    logger.warning("Warming up %s failed: %s", entry.name, error)
        sections.append(section)
    return sections


def _choose_primary_metric(section: Section) -> None:
    """Without a run's results.json, apply the training scripts' rule to the training class counts
    recorded in the first model's metrics."""
    metrics = next((m.metrics for m in section.models if m.metrics), None)
    if metrics:
        counts = [c["support"] for c in metrics["train"]["per_class"].values()]
        section.primary_metric, section.primary_metric_reason = choose_primary_metric(counts)


# --- Inference -------------------------------------------------------------------------------------


@dataclass
class Prediction:
    """Every model's answer to one input, as the Try-it tab shows it."""

    message: str  # what the user should know (empty input, truncation, ...); empty when all is well
    labels: dict[str, dict[str, float]]  # model name -> {class: probability}, top classes, the predicted one first
    latency_ms: dict[str, float]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def agreement(self) -> str:
        tops = {name: next(iter(scores)) for name, scores in self.labels.items() if scores}
        if len(tops) < 2:
            return ""
        if len(set(tops.values())) == 1:
            return f"All {len(tops)} models agree: **{markdown_text(next(iter(tops.values())))}**."
        classes = list(dict.fromkeys(tops.values()))  # in model order, so the sentence is stable
        votes = sorted(classes, key=lambda c: -list(tops.values()).count(c))
        return (
            "The models disagree: "
            + "; ".join(f"**{markdown_text(c)}** ({', '.join(n for n, t in tops.items() if t == c)})" for c in votes)
            + "."
        )


def follow_threshold(scores: list[dict[str, Any]], config: Any) -> list[dict[str, Any]]:
    """A pipeline's answer (``{"label", "score"}`` best first) with the predicted class first: for a binary model
    whose config has a ``decision_threshold`` (chosen on validation for F1 of the positive class, index 1), the
    positive class whenever its probability reaches the threshold; any other answer as it is."""
    threshold = getattr(config, "decision_threshold", None)
    names = getattr(config, "id2label", None) or {}
    probability = {s["label"]: float(s["score"]) for s in scores}
    if threshold is None or len(names) != 2 or set(probability) != {names[0], names[1]}:
        return scores
    predicted = thresholded_predictions(np.array([[probability[names[0]], probability[names[1]]]]), threshold)[0]
    return sorted(scores, key=lambda s: s["label"] != names[int(predicted)])


def threshold_note(entry: ModelEntry, scores: dict[str, float]) -> str:
    """A Markdown line naming the class ``entry`` predicts (first in ``scores``, as ``_run`` orders them) and its
    decision threshold, where that class is not the most probable one; empty otherwise (no threshold, or the two
    agree), as ``gr.Label`` then heads its answer with the right class."""
    threshold = getattr(entry.config, "decision_threshold", None)
    if threshold is None or not scores or next(iter(scores)) == max(scores, key=scores.get):
        return ""
    predicted, positive = markdown_text(next(iter(scores))), markdown_text(entry.config.id2label[1])
    return f"Predicts **{predicted}** (its decision threshold: P({positive}) >= {threshold:.3f}, chosen on validation)"


def _run(models: list[ModelEntry], value: Any, message: str, **kwargs: Any) -> Prediction:
    prediction = Prediction(message, {}, {})
    for entry in models:
        with entry.lock:
            start = time.perf_counter()
            try:
                scores = entry.classifier(value, top_k=TOP_K, **kwargs)
            except Exception as error:  # one model failing must not hide the others' answers
                prediction.errors[entry.name] = f"{type(error).__name__}: {error}"
                continue
            prediction.latency_ms[entry.name] = (time.perf_counter() - start) * 1000
        scores = follow_threshold(scores, entry.config)
        prediction.labels[entry.name] = {s["label"]: float(s["score"]) for s in scores}
    return prediction


def read_text(text: str | None) -> tuple[str | None, str]:
    """The text the models are given (at most MAX_TEXT_CHARS) and what the user should know, or (None, why
    not) for an empty one."""
    if text is None or not text.strip():
        return None, "Type or paste some text first."
    if len(text) <= MAX_TEXT_CHARS:
        return text, ""
    return text[:MAX_TEXT_CHARS], (
        f"The text has {len(text):,} characters; the models read the first {MAX_TEXT_CHARS:,} at most "
        "(and each model only as many tokens as it was trained on)."
    )


def predict_text(section: Section, text: str | None, models: list[ModelEntry] | None = None) -> Prediction:
    """The top classes of every available model (or of ``models``) for ``text``; empty text gets a
    message, not a prediction."""
    text, message = read_text(text)
    if text is None:
        return Prediction(message, {}, {})
    return _run(section.available if models is None else models, text, message, truncation=True)


def open_image(path_or_image: Any) -> tuple[PIL.Image.Image | None, str]:
    """An upload as an RGB image of at most MAX_IMAGE_SIDE pixels a side, or (None, why not)."""
    if path_or_image is None:
        return None, "Upload an image (or take one with the webcam) first."
    if isinstance(path_or_image, UnreadableUpload):
        return None, f"That file is not an image we can read ({path_or_image.reason}). Upload a JPEG, PNG or WebP."
    try:
        image = path_or_image if isinstance(path_or_image, PIL.Image.Image) else PIL.Image.open(path_or_image)
        original = image.size
        image.draft("RGB", (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))  # JPEG: decode at a reduced size, much faster
        image.load()
    except PIL.Image.DecompressionBombError:
        return None, "That image is too large to open safely (over 178 million pixels). Upload a smaller one."
    except (OSError, ValueError, SyntaxError) as error:
        return None, f"That file is not an image we can read ({error}). Upload a JPEG, PNG or WebP."
    notes = []
    if max(original) > MAX_IMAGE_SIDE:
        notes.append(f"The image ({original[0]}x{original[1]}) was downscaled to {MAX_IMAGE_SIDE} px first.")
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    if image.mode != "RGB":
        # As pipeline("image-classification") and training do: a plain conversion (alpha dropped).
        notes.append(f"The {image.mode} image was converted to RGB.")
        image = image.convert("RGB")
    return image, " ".join(notes)


@dataclass
class UnreadableUpload:
    """What the image input hands over when the upload is not an image (see app.ImageInput)."""

    reason: str


def predict_image(section: Section, upload: Any, models: list[ModelEntry] | None = None) -> Prediction:
    """The top classes of every available model (or of ``models``) for an uploaded image (a path, a
    PIL image or an UnreadableUpload)."""
    image, message = open_image(upload)
    if image is None:
        return Prediction(message, {}, {})
    return _run(section.available if models is None else models, image, message)


def _numbers(line: str) -> list[float]:
    """The numbers of one line, separated by commas, semicolons, tabs or spaces (empty or ``nan``: missing)."""
    fields = [f.strip() for f in re.split(r"[,;\t]", line)] if re.search(r"[,;\t]", line) else line.split()
    return [float(f) if f else float("nan") for f in fields]


def _is_header(line: str) -> bool:
    """A line of names (``channel_1,channel_2``), no number among them."""
    fields = re.split(r"[,;\t]", line) if re.search(r"[,;\t]", line) else line.split()
    return not any(re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", f) for f in fields)


def read_series(text: str | None, channels: int = 1) -> tuple[np.ndarray | None, str]:
    """A pasted series as (channels x steps) values, and what the user should know; or (None, why not). One
    channel: every number in order, on one line or many. Several: a line per channel, or a row per step with a
    value per channel (a CSV file's layout, a header row allowed)."""
    if text is None or not text.strip():
        return None, "Paste the series' values (or upload a CSV file of one series) first."
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if _is_header(lines[0]):
        lines = lines[1:]
    try:
        rows = [_numbers(line) for line in lines]
    except ValueError as error:
        return None, f"The series must be numbers only ({error}). Separate them with commas, spaces or new lines."
    if channels == 1:
        widths = {len(row) for row in rows}
        if len(widths) == 1 and 1 < len(rows[0]) < len(rows):  # a table: a row per step, several columns
            return None, "These models read one channel: paste one number per step (a single column or line)."
        series = np.array([[v for row in rows for v in row]])
    elif len(rows) == channels and len({len(r) for r in rows}) == 1:
        series = np.array(rows)
    elif all(len(row) == channels for row in rows):
        series = np.array(rows).T
    else:
        return None, (
            f"These models read {channels} channels: paste {channels} lines of equally many values (one per "
            f"channel), or rows of {channels} values (one per step)."
        )
    if series.size > MAX_SERIES_VALUES:
        return None, f"That series has {series.size:,} values; the Space reads at most {MAX_SERIES_VALUES:,}."
    try:  # as training reads it: interior gaps filled and counted, leading and trailing ones only make it shorter
        span, missing = fill_gaps(series)
    except ValueError as error:
        return None, f"That series cannot be read: {error}."
    if span.shape[1] < MIN_SERIES_LENGTH:
        return None, f"That series has {span.shape[1]} step(s): a time series needs at least {MIN_SERIES_LENGTH}."
    return series, f"{missing} missing value(s) filled by linear interpolation, as in training." if missing else ""


def series_text(path: str | None) -> str:
    """An uploaded one-series CSV file (a column per channel, a row per step) as the text box shows a series:
    a line per channel."""
    if not path:
        return ""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read that file as text: {error}") from None
    lines = text.strip().splitlines()
    if lines and _is_header(lines[0]):
        lines = lines[1:]
    rows = [[f.strip() for f in re.split(r"[,;\t]", line)] if line.strip() else [] for line in lines]
    width = max((len(row) for row in rows), default=0)
    if any(row and len(row) != width for row in rows):
        raise ValueError("every row of the file needs a value (or an empty cell) for each channel")
    rows = [row or ["nan"] * width for row in rows]  # a blank line between steps: a missing value, as training reads it
    return "\n".join(", ".join(v or "nan" for v in column) for column in zip(*rows, strict=False)) if rows else ""


def predict_series(section: Section, text: str | None, models: list[ModelEntry] | None = None) -> Prediction:
    """The top classes of every available model (or of ``models``) for a pasted series."""
    series, message = read_series(text, section.channels)
    if series is None:
        return Prediction(message, {}, {})
    return _run(section.available if models is None else models, series, message)


def series_examples(section: Section) -> list[str]:
    """A test series per class (``series_examples.json`` beside the run), as the text box shows them."""
    path = section.run_dir / SERIES_EXAMPLES if section.run_dir else None
    if path is None or not path.is_file():
        return []
    examples = json.loads(path.read_text(encoding="utf-8"))

    def line(channel: list[float | None]) -> str:
        return ", ".join("" if v is None else f"{v:.6g}" for v in channel)

    return ["\n".join(line(channel) for channel in series) for series in examples.values()]


# --- Explanations ----------------------------------------------------------------------------------


@dataclass
class Explanations:
    """Every model's explanation of one input, as the Why? button shows it."""

    message: str  # as Prediction.message
    explained: dict[str, explain.Explanation]  # model name -> its explanation of its own prediction
    shown: dict[str, Any]  # model name -> gr.HighlightedText's value (text) or the heatmap overlay (image)
    errors: dict[str, str] = field(default_factory=dict)

    def caption(self, name: str) -> str:
        """The explained class and its probability: ``glove-lstm: why 'sport' (0.97)``."""
        explanation = self.explained[name]
        return f"{name}: why '{explanation.label}' ({explanation.probability:.2f})"


def _explain(
    models: list[ModelEntry], value: Any, message: str, processor: str, show: Callable[[Any], Any]
) -> Explanations:
    """Each model's explanation (``processor``: the pipeline's attribute that prepares its input); models
    without a processor of their own (an ensemble) are left out."""
    explanations = Explanations(message, {}, {})
    for entry in (m for m in models if m.explainable):
        try:
            with entry.lock:
                explanation = explain.explain(entry.classifier.model, getattr(entry.classifier, processor), value)
            explanations.shown[entry.name] = show(explanation)
        except Exception as error:  # one model failing must not hide the others' explanations
            explanations.errors[entry.name] = f"{type(error).__name__}: {error}"
            continue
        explanations.explained[entry.name] = explanation
    return explanations


def explain_text(section: Section, text: str | None, models: list[ModelEntry] | None = None) -> Explanations:
    """Why every available model (or each of ``models``) predicted what it did for ``text``: each word's score
    in [-1, 1] (positive: pushed towards the predicted class), the input checks as ``predict_text``'s."""
    text, message = read_text(text)
    if text is None:
        return Explanations(message, {}, {})
    models = section.available if models is None else models
    return _explain(models, text, message, "tokenizer", lambda explanation: explain.words(explanation, text))


def explain_image(section: Section, upload: Any, models: list[ModelEntry] | None = None) -> Explanations:
    """Why every available model (or each of ``models``) predicted what it did for an uploaded image: a
    heatmap of where it looked over the image as the model saw it; the input checks as ``predict_image``'s."""
    image, message = open_image(upload)
    if image is None:
        return Explanations(message, {}, {})
    models = section.available if models is None else models
    return _explain(models, image, message, "image_processor", _unique_heatmap)


def explain_series(section: Section, text: str | None, models: list[ModelEntry] | None = None) -> Explanations:
    """Why every available model (or each of ``models``) predicted what it did for a pasted series: a saliency
    curve over its steps (occlusion), drawn under the series; the input checks as ``predict_series``'s."""
    series, message = read_series(text, section.channels)
    if series is None:
        return Explanations(message, {}, {})
    models = section.available if models is None else models

    def show(explanation: Any) -> Any:
        image = explain.saliency_plot(explanation)
        image.info["answer"] = uuid.uuid4().hex  # each answer its own file: see _unique_heatmap
        return image

    return _explain(models, series, message, "feature_extractor", show)


def _unique_heatmap(explanation: Any) -> Any:
    """The heatmap overlay, made unique: Gradio caches an output image under the hash of its bytes and rewrites
    that file in place for every answer, so two identical heatmaps sent at once could be read mid-rewrite (a
    truncated PNG, seen with 20 clients). A text chunk of its own gives each answer its own file."""
    image = explain.heatmap_overlay(explanation)
    image.info["answer"] = uuid.uuid4().hex
    return image


# --- Tables ----------------------------------------------------------------------------------------


def comparison(section: Section) -> tuple[list[str], list[list[str]]]:
    """The comparison table of the models with metrics: training's own ``comparison_rows``."""
    models = [m for m in (entry.metrics for entry in section.models) if m]
    if not models:
        return ["model"], []
    return comparison_rows(models, section.primary_metric)


def cross_validation(section: Section) -> tuple[list[str], list[list[str]]]:
    """The cross-validation table (models trained with ``--cv_folds``): training's own ``cross_validation_rows``."""
    return cross_validation_rows([m for m in (entry.metrics for entry in section.models) if m], section.primary_metric)


def overfitting(section: Section) -> list[str]:
    """One line per model: the train/validation/test values of the primary metric and the verdict."""
    lines = []
    for entry in section.models:
        metrics = entry.metrics
        if metrics and section.primary_metric in metrics.get("train", {}):
            lines.append(f"**{entry.name}**: {overfitting_note(metrics, section.primary_metric)['text']}")
    return lines


def conclusions(section: Section) -> list[str]:
    """The run's computed insights (training/reporting/insights.py), when the section comes from a run."""
    return insights.insights(section.results) if section.results else []


def text_examples(section: Section, per_class: int = 2) -> list[str]:
    """A few training texts per class, from dataset.json."""
    examples = (section.description or {}).get("examples", {})
    return [text for texts in examples.values() for text in texts[:per_class]]


def image_examples(section: Section, per_class: int = 1, limit: int = 8) -> list[str]:
    """Example image files: from dataset.json where they are files, else each model's example.png."""
    examples = (section.description or {}).get("examples", {})
    paths = [p for refs in examples.values() for p in refs[:per_class] if Path(str(p)).is_file()]
    if not paths:
        paths = list(dict.fromkeys(m.files["example.png"] for m in section.models if "example.png" in m.files))
    return paths[:limit]
