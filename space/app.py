"""The Classification lab Space: every trained model side by side, and the comparison.

    python space/app.py                              # the models listed in space/models.yaml
    python space/app.py --results outputs/text outputs/image outputs/timeseries
    python space/app.py --config my_models.yaml --port 7861

Deployed as a Hugging Face Space (``python -m training.deploy_space``) it runs unchanged: Spaces
start ``python app.py`` and this file finds ``models.yaml`` and the bundled ``training`` package
beside it. Each task gets four tabs: Try it (with each model's explanation on demand: Why?), Compare,
Dataset, Models.
"""

import argparse
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if not (HERE / "training").is_dir():  # in the repository: the library is one level up
    sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import catalog  # noqa: E402
import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from catalog import Explanations, ModelEntry, Prediction, Section  # noqa: E402

from training.core.fields import input_format  # noqa: E402
from training.core.plots import series_picture  # noqa: E402

logger = logging.getLogger(__name__)

# Two cores serve everyone: a few predictions at a time, the rest wait in the queue (not refused).
CONCURRENCY_LIMIT = 2
QUEUE_SIZE = 64
# Explanations (the Why? button and the explain_* endpoints) wait in the queue for one shared limit: each costs
# the CPU time of 3 to 30 predictions, and unbounded (queue=False) 20 clients explaining at once starved the
# predictions (a one-model prediction took over a second instead of 0.1 s, Classify 23 s instead of 1.5 s).
EXPLAIN_CONCURRENCY = {"concurrency_id": "explain", "concurrency_limit": CONCURRENCY_LIMIT}
RUN_FIGURE_TITLES = {
    "roc_curves.png": "ROC curves (test)",
    "pr_curves.png": "Precision-recall curves (test)",
    "calibration.png": "Calibration: reliability diagram (test)",
}


def image_input(**kwargs: Any) -> gr.Image:
    """gr.Image that hands a non-image upload to the app as ``catalog.UnreadableUpload`` (so the user
    gets a message saying what is wrong) instead of failing inside Gradio's preprocessing. Wrapped on
    the instance: a subclass would make Gradio write a .pyi stub beside this file."""
    component = gr.Image(**kwargs)
    preprocess = component.preprocess

    def safe_preprocess(payload: Any) -> Any:
        try:
            return preprocess(payload)
        except Exception as error:  # PIL's UnidentifiedImageError, truncated files, ...
            # The reason without the server-side temporary path PIL quotes in it.
            return catalog.UnreadableUpload(re.sub(r"\s*'[^']*'", "", str(error)).strip() or type(error).__name__)

    component.preprocess = safe_preprocess
    return component


def _outputs(prediction: Prediction, models: list[ModelEntry]) -> list[Any]:
    """Status, then a (label, latency) pair per available model, then the agreement line."""
    values: list[Any] = [prediction.message]
    for entry in models:
        if entry.name in prediction.labels:
            values += [prediction.labels[entry.name], f"{prediction.latency_ms[entry.name]:.1f} ms"]
        else:
            values += [None, prediction.errors.get(entry.name, "")]
    return [*values, prediction.agreement]


def _threshold_notes(prediction: Prediction, models: list[ModelEntry]) -> list[Any]:
    """Per model, the line under its answer naming the class its decision threshold predicts where gr.Label's
    heading (always the most probable class) is not it; empty elsewhere."""
    # Plain values, not visibility updates: Gradio's lazily cached examples fail on gr.update of a Markdown; an empty
    # Markdown shows nothing.
    return [catalog.threshold_note(entry, prediction.labels.get(entry.name, {})) for entry in models]


def _legend(kind: str, explanations: Explanations) -> str:
    """What the colours mean, and each model's method (named once where several share it)."""
    if not explanations.explained:
        return ""
    methods: dict[str, list[str]] = {}
    for name, explanation in explanations.explained.items():
        methods.setdefault(explanation.method, []).append(name)
    if len(methods) == 1:
        how = f"Method: {next(iter(methods))}."
    else:
        how = "Methods: " + "; ".join(f"{method} ({', '.join(names)})" for method, names in methods.items()) + "."
    if kind == "text":
        what = (
            "**Why?** Each word coloured by how much it pushed the model towards the class it predicted: "
            "red towards it, purple away from it (scale -1 to +1 per model: its strongest word is 1)."
        )
    elif kind == "timeseries":
        what = (
            "**Why?** Under the series as each model read it, how much each stretch of steps pushed it towards the "
            "class it predicted: red towards it, blue away from it (hiding that stretch lowers, or raises, the "
            "probability)."
        )
    else:
        what = (
            "**Why?** Each model's evidence for the class it predicted, over the image as it saw it (resized "
            "and cropped): red where the evidence is strongest, blue where there is none."
        )
    return f"{what} {how}"


def _why_outputs(explanations: Explanations, models: list[ModelEntry], kind: str) -> list[Any]:
    """Status, legend, then each model's explanation (shown with its class and probability), hidden where none."""
    problems = [f"**{name}** could not explain: {error}" for name, error in explanations.errors.items()]
    legend = _legend(kind, explanations)
    votes = [entry.name for entry in models if not entry.explainable]
    if legend and votes:
        legend += f" {', '.join(votes)}: a vote of the other models, explained by their explanations."
    values: list[Any] = [" ".join([explanations.message, *problems]).strip(), legend]
    for entry in models:
        if entry.name in explanations.shown:
            values.append(
                gr.update(value=explanations.shown[entry.name], label=explanations.caption(entry.name), visible=True)
            )
        else:
            values.append(gr.update(value=None, visible=False))
    return values


def _why_component(kind: str, name: str) -> gr.HighlightedText | gr.Image:
    """Where a model's explanation goes, hidden until Why? is clicked: its words highlighted (text) or a heatmap."""
    elem_id = f"{kind}-why-{catalog.slug(name)}"
    if kind == "timeseries":  # a saliency curve as wide as the answer's column
        return gr.Image(label=name, type="pil", format="png", interactive=False, visible=False, elem_id=elem_id)
    if kind == "text":
        return gr.HighlightedText(
            label=name, show_legend=True, show_inline_category=False, visible=False, elem_id=elem_id
        )
    # One corner button only: in a column as narrow as the answer's, more would cover the label.
    return gr.Image(
        label=name, type="pil", format="png", interactive=False, visible=False, elem_id=elem_id, buttons=["fullscreen"]
    )


def pasted_series(text: str | None, channels: int) -> Any:
    """The pasted series drawn (each channel a line); nothing while it cannot be read."""
    series, _ = catalog.read_series(text, channels)
    return None if series is None else series_picture(series, title="The series")


PREDICT = {"text": catalog.predict_text, "image": catalog.predict_image, "timeseries": catalog.predict_series}
EXPLAIN = {"text": catalog.explain_text, "image": catalog.explain_image, "timeseries": catalog.explain_series}
EXAMPLES = {"text": catalog.text_examples, "image": catalog.image_examples, "timeseries": catalog.series_examples}


def _series_input(section: Section) -> gr.Textbox:
    """The values box, a CSV upload that fills it, and the series plotted as it is typed or uploaded."""
    channels = section.channels
    how = "comma- or space-separated" if channels == 1 else f"one line per channel ({channels} lines)"
    source = gr.Textbox(
        label=f"Series values, {how}; empty or nan for a missing value",
        lines=5,
        placeholder="e.g. 0.1, 0.5, 1.2, 0.9, 0.3, -0.2, ..." if channels == 1 else "one line of values per channel",
        elem_id=f"{section.kind}-input",
    )
    upload = gr.File(
        label="or upload a CSV of one series (a column per channel, a row per step)",
        file_types=[".csv", ".tsv", ".txt"],
        type="filepath",
        elem_id=f"{section.kind}-upload",
    )
    plot = gr.Image(label="The series", type="pil", format="png", interactive=False, elem_id=f"{section.kind}-plot")

    def from_file(path: str | None) -> str:
        try:
            return catalog.series_text(path)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None

    upload.upload(from_file, inputs=upload, outputs=source, api_name=False)
    source.change(lambda text: pasted_series(text, channels), inputs=source, outputs=plot, api_name=False)
    return source


def _try_it(section: Section) -> None:
    models = section.available
    with gr.Row():
        with gr.Column(scale=2):
            if section.kind == "timeseries":
                source = _series_input(section)
            elif section.kind == "text":
                # Several training columns (--text_column keyword,text): one box in the documented format.
                fields = (section.description or {}).get("input_fields") or []
                source = gr.Textbox(
                    label=f"Text, as {input_format(fields)} (empty fields left out)" if fields else "Text",
                    lines=5,
                    placeholder=f"e.g. {input_format(fields)}" if fields else "Type or paste a text to classify",
                    elem_id=f"{section.kind}-input",
                )
            else:
                source = image_input(
                    label="Image",
                    type="filepath",
                    image_mode=None,
                    height=320,
                    sources=["upload", "webcam", "clipboard"],
                    elem_id=f"{section.kind}-input",
                )
            with gr.Row():
                run = gr.Button("Classify", variant="primary", elem_id=f"{section.kind}-classify")
                why = gr.Button("Why?", elem_id=f"{section.kind}-why")
            status = gr.Markdown(elem_id=f"{section.kind}-status")
            agreement = gr.Markdown(elem_id=f"{section.kind}-agreement")
        with gr.Column(scale=3):
            outputs: list[Any] = [status]
            notes: list[Any] = []  # what a thresholded model predicts, where its Label's heading is not that class
            explained: list[Any] = []  # each model's explanation, shown under its answer once Why? is clicked
            with gr.Row():
                for entry in models:
                    with gr.Column(min_width=220):
                        label = gr.Label(
                            label=entry.name,
                            num_top_classes=catalog.TOP_K,
                            elem_id=f"{section.kind}-label-{catalog.slug(entry.name)}",
                        )
                        notes.append(gr.Markdown(elem_id=f"{section.kind}-predicts-{catalog.slug(entry.name)}"))
                        latency = gr.Markdown(elem_id=f"{section.kind}-latency-{catalog.slug(entry.name)}")
                        outputs += [label, latency]
                        explained.append(_why_component(section.kind, entry.name))
            legend = gr.Markdown(elem_id=f"{section.kind}-why-legend")
            outputs.append(agreement)
            for entry in section.models:
                if entry.classifier is None:
                    gr.Markdown(f"**{entry.name}** is unavailable: {entry.error}")

    predict, explain = PREDICT[section.kind], EXPLAIN[section.kind]

    def classify(value: Any) -> list[Any]:
        prediction = predict(section, value)
        return [*_outputs(prediction, models), *_threshold_notes(prediction, models)]

    def classify_api(value: Any) -> list[Any]:
        return _outputs(predict(section, value), models)

    def explain_all(value: Any) -> list[Any]:
        return _why_outputs(explain(section, value, models), models, section.kind)

    # The page also shows the threshold notes; predict_<kind> (on a hidden button) keeps the outputs it always had.
    run.click(classify, inputs=source, outputs=[*outputs, *notes], api_name=False)
    gr.Button(visible=False).click(classify_api, inputs=source, outputs=outputs, api_name=f"predict_{section.kind}")
    # Explanations only on demand: one costs as much as tens of predictions. Programs use explain_<kind>_<model>.
    why.click(explain_all, inputs=source, outputs=[status, legend, *explained], api_name=False, **EXPLAIN_CONCURRENCY)
    if section.kind == "text":
        source.submit(classify, inputs=source, outputs=[*outputs, *notes], api_name=False)
    examples = EXAMPLES[section.kind](section)
    if examples and models:
        gr.Examples(
            examples=[[e] for e in examples],
            inputs=source,
            outputs=[*outputs, *notes],
            fn=classify,
            cache_examples=True,
            cache_mode="lazy",
            label="Examples from the dataset",
            elem_id=f"{section.kind}-examples",
        )
    # Two API endpoints per model (on a hidden button) for programs and for measuring each model alone.
    # Predictions skip the queue (POST /gradio_api/run/<name>, one round trip): a prediction takes a few
    # milliseconds, and the queue's own bookkeeping costs about 20 ms a request on two cores. The
    # Classify button and predict_<kind> (all models at once) stay queued, and so do the explanations
    # (EXPLAIN_CONCURRENCY).
    for i, entry in enumerate(models):
        single = gr.Button(visible=False)

        def one_model(value: Any, entry: ModelEntry = entry) -> dict[str, float] | None:
            return predict(section, value, [entry]).labels.get(entry.name)

        def one_explanation(value: Any, entry: ModelEntry = entry) -> Any:
            """The model's HighlightedText value (text), heatmap (image) or saliency curve (time series); a bad input
            is an error with the reason."""
            explanations = explain(section, value, [entry])
            if entry.name not in explanations.shown:
                raise gr.Error(explanations.message or explanations.errors[entry.name], print_exception=False)
            return explanations.shown[entry.name]

        single.click(
            one_model,
            inputs=source,
            outputs=outputs[1 + 2 * i],
            api_name=catalog.api_name(section.kind, entry.name),
            queue=False,
        )
        if not entry.explainable:  # an ensemble: no explanation of its own
            continue
        single.click(
            one_explanation,
            inputs=source,
            outputs=explained[i],
            api_name=catalog.api_name(section.kind, entry.name, prefix="explain"),
            **EXPLAIN_CONCURRENCY,
        )


def _compare(section: Section) -> None:
    header, rows = catalog.comparison(section)
    reason = f" {section.primary_metric_reason}" if section.primary_metric_reason else ""
    gr.Markdown(f"Test split. Primary metric (*): **{section.primary_metric}**.{reason} Best value per column in bold.")
    if section.description and section.description.get("notes", {}).get("test_is_validation") == "true":
        gr.Markdown("No test split was given: the validation split doubles as the test split.")
    gr.Dataframe(
        pd.DataFrame(rows, columns=header),
        datatype=["markdown"] * len(header),
        interactive=False,
        elem_id=f"{section.kind}-comparison",
        label="Model comparison",
    )
    cv_header, cv_rows = catalog.cross_validation(section)
    if cv_rows:
        gr.Markdown("### Cross-validation (K-fold on the training split, mean ± std over the held-out folds)")
        gr.Dataframe(
            pd.DataFrame(cv_rows, columns=cv_header), interactive=False, elem_id=f"{section.kind}-cross-validation"
        )
    found = catalog.conclusions(section)
    if found:
        gr.Markdown("### What the results say\n\n" + "\n".join(f"- {line}" for line in found))
    lines = catalog.overfitting(section)
    if lines:
        gr.Markdown(
            "### Overfitting (train vs validation gap of the primary metric)\n\n"
            + "\n".join(f"- {line}" for line in lines)
        )
    _gallery(section, "confusion_matrix.png", "Confusion matrices (test)")
    _gallery(section, "learning_curves.png", "Learning curves")
    # Runs trained before the curves and the error analysis existed have none of what follows.
    for name, path in section.figures.items():
        gr.Image(path, label=RUN_FIGURE_TITLES[name], interactive=False, elem_id=f"{section.kind}-{Path(name).stem}")
    _one_per_model(section, "curves.png", "Each model alone: ROC, precision-recall and reliability (test)")
    mistakes = "top_losses.md" if section.kind == "text" else "top_losses.png"
    _one_per_model(section, mistakes, "Most confident mistakes (test): what made each model wrong")


def _gallery(section: Section, figure: str, title: str) -> None:
    """One figure of every model that has it, side by side, each named."""
    images = [(m.files[figure], m.name) for m in section.models if figure in m.files]
    if images:
        gr.Gallery(images, label=title, columns=min(len(images), 4), height="auto", object_fit="contain")


def _one_per_model(section: Section, name: str, title: str) -> None:
    """A heading, then one closed accordion per model that has the file ``name``: a wide figure or a long text
    each, read one model at a time (a gallery would shrink them to thumbnails)."""
    entries = [m for m in section.models if name in m.files]
    if entries:
        gr.Markdown(f"### {title}")
    for entry in entries:
        elem_id = f"{section.kind}-{catalog.slug(Path(name).stem)}-{catalog.slug(entry.name)}"
        with gr.Accordion(entry.name, open=False, elem_id=elem_id):
            if name.endswith(".md"):
                # Its headings below this section's (### and the accordion's title).
                gr.Markdown(re.sub(r"^(#{1,3}) ", r"###\1 ", entry.top_losses, flags=re.MULTILINE))
            else:
                gr.Image(entry.files[name], show_label=False, interactive=False)


def _dataset(section: Section) -> None:
    description = section.description
    if not description:
        gr.Markdown(
            "No dataset description: these models were not given as a run directory "
            "(its `dataset.json`). Each model card (Models tab) describes its data."
        )
        return
    sizes = ", ".join(f"{split} {n:,}" for split, n in description["num_examples"].items())
    gr.Markdown(
        f"**{description['source']}**: {description['num_classes']} classes; {sizes} examples. "
        f"Largest/smallest training class: {description['imbalance_ratio']:.2f}."
    )
    balance = description["class_balance"]["train"]
    gr.Dataframe(
        pd.DataFrame(
            [(name, v["count"], f"{v['share']:.1%}") for name, v in balance.items()],
            columns=["class", "training examples", "share"],
        ),
        interactive=False,
        label="Class balance (training split)",
    )
    for figure, title in (("class_balance.png", "Class balance per split"), ("examples.png", "Examples")):
        if section.run_dir and (section.run_dir / figure).is_file():
            gr.Image(str(section.run_dir / figure), label=title, interactive=False)
    if section.kind == "text":
        examples = description.get("examples", {})
        gr.Markdown(
            "### Examples\n\n"
            + "\n".join(
                f"- **{catalog.markdown_text(label)}**: {catalog.markdown_text(text)}"
                for label, texts in examples.items()
                for text in texts
            )
        )


def _card_with_figures(entry: ModelEntry) -> str:
    """The card with its figure links (relative to the model folder) pointed at the files the app
    serves, so the confusion matrix and learning curves show in the page."""
    card = entry.card or "This model has no model card (README.md)."
    for name, path in entry.files.items():
        if name.endswith(".png"):
            card = card.replace(f"]({name})", f"](/gradio_api/file={path})")
    return card


def served_files(sections: list[Section]) -> list[str]:
    """The figures the page links to, and nothing else: Gradio serves only allowed paths, and a model folder
    also holds its weights, its metrics and ``predictions.csv`` (the test set, which publishing keeps local on
    purpose). Each file's Hub-cache target is listed too (the cache links to its blobs)."""
    files = [Path(p) for s in sections for m in s.models for name, p in m.files.items() if name.endswith(".png")]
    files += [Path(p) for s in sections for p in s.figures.values()]
    return sorted({str(f) for f in files} | {str(f.resolve()) for f in files})


def _models(section: Section) -> None:
    for entry in section.models:
        with gr.Accordion(
            f"{entry.name} ({entry.source})",
            open=len(section.models) == 1,
            elem_id=f"{section.kind}-card-{catalog.slug(entry.name)}",
        ):
            if entry.error:
                gr.Markdown(f"Unavailable: {entry.error}")
            gr.Markdown(_card_with_figures(entry))


def build_app(sections: list[Section], title: str = "Classification lab") -> gr.Blocks:
    """The whole app: for each task, the tabs Try it, Compare, Dataset and Models."""
    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}\nEvery model trained on the same data, side by side: try them, then compare.")
        if not sections:
            gr.Markdown(
                "No models configured: list run directories or Hub repo ids in `models.yaml`, or start "
                "the app with `--results OUTPUT_DIR`."
            )
        for section in sections:
            with gr.Tab(section.title) if len(sections) > 1 else gr.Column():
                with gr.Tabs():
                    for name, build in (
                        ("Try it", _try_it),
                        ("Compare", _compare),
                        ("Dataset", _dataset),
                        ("Models", _models),
                    ):
                        with gr.Tab(name, id=f"{section.kind}-{catalog.slug(name)}"):
                            build(section)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=HERE / "models.yaml", help="models.yaml to read")
    parser.add_argument("--results", type=Path, nargs="+", help="run output directories (instead of --config)")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--title", default="Classification lab")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    try:
        sources = catalog.sources_from_runs(args.results) if args.results else catalog.read_config(args.config)
    except catalog.ConfigError as error:
        sys.exit(f"error: {error}")
    # Each of the CONCURRENCY_LIMIT predictions that run at once gets its share of the cores: small
    # models answer faster on one thread than when their tiny ops are split over several.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // CONCURRENCY_LIMIT))
    sections = catalog.load_sections(sources)
    demo = build_app(sections, title=args.title)
    demo.launch(server_name=args.host, server_port=args.port, allowed_paths=served_files(sections))


if __name__ == "__main__":
    main()
