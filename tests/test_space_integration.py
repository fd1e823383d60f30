"""The Space with real checkpoints: a text run (scratch + GloVe), an image run (scratch CNN + pretrained
backbone) and a time-series run (FCN + MiniRocket) served on loopback and used through the API
(gradio_client): predictions and explanations, by 20 concurrent clients, and in headless Chromium; then
deployed to the loopback Hub (tests/hub_server.py) and run from the downloaded Space repo, as Spaces run it,
loading published models by repo id."""

import json
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser import browser_page, expect_image_loaded, free_port, requires_browser, screenshot, serve_app
from tests.conftest import HUB_USER, ROOT, digit_folders, hub_env, run_script, run_with_hub, sentiment_csv_args
from tests.test_timeseries_data import long_frame, waves

pytestmark = pytest.mark.slow
sys.path.insert(0, str(ROOT / "space"))

TEXT = "a wonderful concert number 3"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("space_runs")
    run_script(
        "train_text.py",
        [
            *sentiment_csv_args(tmp / "reviews.csv"),
            "--models",
            "scratch-simple,glove-lstm,ensemble",
            "--output_dir",
            str(tmp / "reviews"),
            "--num_train_epochs",
            "2",
            "--max_seq_length",
            "16",
            "--vocab_size",
            "200",
            "--glove_vocab_size",
            "2000",
            "--latency_samples",
            "2",
            "--seed",
            "3",
        ],
        cwd=tmp,
    )
    digit_folders(tmp / "train", per_class=16, size=40)
    run_script(
        "train_image.py",
        [
            "--train_dir",
            str(tmp / "train"),
            "--models",
            "scratch-simple,pretrained-frozen,ensemble",
            "--output_dir",
            str(tmp / "digits"),
            "--num_train_epochs",
            "1",
            "--image_size",
            "32",
            "--latency_samples",
            "2",
            "--seed",
            "3",
        ],
        cwd=tmp,
    )
    series, classes = waves(count=40, length=24, channels=2)
    long_frame(series, classes).to_csv(tmp / "motion.csv", index=False)
    run_script(
        "train_timeseries.py",
        ["--train_file", str(tmp / "motion.csv"), "--series_id_column", "id", "--time_column", "time",
         "--models", "scratch-complex,reference,ensemble", "--output_dir", str(tmp / "motion"),
         "--num_train_epochs", "2", "--latency_samples", "2", "--seed", "3"],
        cwd=tmp,
    )  # fmt: skip
    return {"text": tmp / "reviews", "image": tmp / "digits", "timeseries": tmp / "motion"}


@pytest.fixture(scope="module")
def served(runs, tmp_path_factory):
    import app
    import catalog

    sections = catalog.load_sections(catalog.sources_from_runs(list(runs.values())))
    assert all(m.classifier is not None for s in sections for m in s.models), [
        m.error for s in sections for m in s.models
    ]
    with serve_app(app.build_app(sections), allowed_paths=app.served_files(sections)) as url:
        yield url


def labels(result: tuple) -> list[dict]:
    """The per-model Label values of a predict_* result (status, then label/latency pairs, agreement)."""
    return [value for value in result[1:-1:2]]


def explain_endpoints(runs: dict[str, Path], kind: str) -> list[str]:
    """Every model's explain endpoint, named as the app names them (catalog.api_name)."""
    import catalog

    models = json.loads((runs[kind] / "results.json").read_text())["models"]
    return [f"/{catalog.api_name(kind, m['name'], prefix='explain')}" for m in models if m["kind"] != "ensemble"]


def check_words(pieces: list[dict], text: str) -> None:
    """An explain_text_* answer: gr.HighlightedText's value, the text cut into scored pieces."""
    assert "".join(piece["token"] for piece in pieces) == text
    scores = [piece["class_or_confidence"] for piece in pieces]
    assert any(score is not None for score in scores)
    assert all(score is None or -1 <= score <= 1 for score in scores)


def check_heatmap(path: str) -> None:
    """An explain_image_* answer: a PNG of the heatmap over the image as the model saw it (32 px, shown at 224)."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (224, 224) and image.mode == "RGB"


def test_api_gives_every_models_answer_and_clear_messages(served, runs, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(served, verbose=False)
    result = client.predict(TEXT, api_name="/predict_text")
    assert result[0] == "" and len(labels(result)) == 3  # scratch-simple, glove-lstm and their ensemble
    assert all(label["label"] in ("positive", "negative") for label in labels(result))
    assert all(latency.endswith(" ms") for latency in result[2:-1:2]) and "agree" in result[-1]
    assert client.predict("  ", api_name="/predict_text")[0] == "Type or paste some text first."
    assert "100,000 characters" in client.predict("good " * 20_000, api_name="/predict_text")[0]
    single = client.predict(TEXT, api_name="/text_glove_lstm")
    assert single["label"] == labels(result)[1]["label"]

    image = runs["image"] / "scratch-simple" / "example.png"
    result = client.predict(handle_file(str(image)), api_name="/predict_image")
    # scratch-simple, pretrained-frozen and their ensemble
    assert len(labels(result)) == 3 and all(label["label"].startswith("digit_") for label in labels(result))
    not_image = tmp_path / "photo.png"
    not_image.write_text("this is text, not a picture")
    message = client.predict(handle_file(str(not_image)), api_name="/predict_image")[0]
    assert message.startswith("That file is not an image we can read") and "/tmp" not in message


def series_text(runs: dict[str, Path]) -> str:
    """The run's first test series, as the Space's text box takes it: a line per channel."""
    steps = (runs["timeseries"] / "scratch-complex" / "example.csv").read_text().splitlines()[1:]
    return "\n".join(", ".join(column) for column in zip(*(line.split(",") for line in steps), strict=True))


def test_time_series_through_the_api(served, runs, tmp_path):
    """Pasted values (a line per channel, or a CSV file's rows) answered by every model, the reference and the
    ensemble included; bad values get a message; each model but the ensemble explains with a saliency curve."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from PIL import Image

    client = Client(served, verbose=False)
    pasted = series_text(runs)
    result = client.predict(pasted, api_name="/predict_timeseries")
    assert result[0] == "" and len(labels(result)) == 3  # scratch-complex, reference and their ensemble
    assert all(label["label"] in ("sine", "square") for label in labels(result))
    rows = (runs["timeseries"] / "scratch-complex" / "example.csv").read_text()  # the file's layout: a row per step
    assert client.predict(rows, api_name="/timeseries_reference")["label"] == labels(result)[1]["label"]
    assert "numbers only" in client.predict("1, 2, x, 4", api_name="/predict_timeseries")[0]
    assert "read 2 channels" in client.predict("1, 2, 3, 4, 5", api_name="/predict_timeseries")[0]
    for endpoint in explain_endpoints(runs, "timeseries"):
        with Image.open(client.predict(pasted, api_name=endpoint)) as image:
            assert image.format == "PNG" and image.width > 400
        with pytest.raises(AppError, match="Paste the series"):
            client.predict("", api_name=endpoint)


def test_every_model_explains_through_the_api(served, runs, tmp_path):
    """Each explain_<kind>_<model> endpoint: the text's words scored, or the heatmap; bad inputs get the same
    messages as predictions, as errors; a huge text is truncated and still explained."""
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(served, verbose=False)
    image = runs["image"] / "scratch-simple" / "example.png"
    not_image = tmp_path / "photo.png"
    not_image.write_text("this is text, not a picture")
    for endpoint in explain_endpoints(runs, "text"):
        check_words(client.predict(TEXT, api_name=endpoint), TEXT)
        with pytest.raises(AppError, match="Type or paste some text first"):
            client.predict("  ", api_name=endpoint)
        huge = client.predict("good " * 20_000, api_name=endpoint)
        assert "".join(piece["token"] for piece in huge) == ("good " * 20_000)[:5_000]
    for endpoint in explain_endpoints(runs, "image"):
        check_heatmap(client.predict(handle_file(str(image)), api_name=endpoint))
        with pytest.raises(AppError, match="That file is not an image we can read"):
            client.predict(handle_file(str(not_image)), api_name=endpoint)


def test_twenty_concurrent_explanations_all_succeed(served, runs):
    """Explanations of every model, 20 clients at once, mixed with predictions of the same models (Captum hooks
    the model while it explains: the app must not let a prediction run meanwhile)."""
    from gradio_client import Client, handle_file

    client = Client(served, verbose=False)
    image = handle_file(str(runs["image"] / "scratch-simple" / "example.png"))
    endpoints = explain_endpoints(runs, "text") + explain_endpoints(runs, "image")
    calls = [(endpoints[i % len(endpoints)], i) for i in range(20)]

    def call(endpoint: str, i: int):
        value = f"{TEXT} {i}" if "_text_" in endpoint else image
        return endpoint, value, client.predict(value, api_name=endpoint), client.predict(TEXT, api_name="/predict_text")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda c: call(*c), calls))
    for endpoint, value, answer, prediction in results:
        if "_text_" in endpoint:
            check_words(answer, value)
        else:
            check_heatmap(answer)
        assert len(labels(prediction)) == 3 and prediction[0] == ""


def test_only_the_figures_are_served(served, runs):
    """The page's figures load (the run's curves and calibration, each model's confusion matrix, curves and top
    losses); the test set (predictions.csv), the metrics, the top losses' Markdown (shown inline), the weights
    and anything outside the runs do not."""
    import catalog
    import httpx

    model_dir = runs["text"] / "scratch-simple"

    def status(path) -> int:
        return httpx.get(f"{served.rstrip('/')}/gradio_api/file={path}", timeout=30).status_code

    figures = [model_dir / "confusion_matrix.png", model_dir / "curves.png"]
    figures += [runs[kind] / name for kind in runs for name in catalog.RUN_FIGURES]
    missing = [f for f in figures if not f.is_file()]
    assert not missing, f"the training scripts did not write {missing}"
    # Only models that made a mistake on the test split have top losses.
    for path in [*figures, *runs["image"].glob("*/top_losses.png")]:
        assert status(path) == 200, path
    for path in (model_dir / "predictions.csv", model_dir / "metrics.json", model_dir / "model.safetensors",
                 model_dir / "top_losses.md", runs["text"] / "results.json", Path("/etc/passwd")):  # fmt: skip
        assert status(path) in (403, 404), path


def test_twenty_concurrent_requests_all_succeed(served):
    from gradio_client import Client

    client = Client(served, verbose=False)
    texts = [f"{TEXT} {i}" for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda t: client.predict(t, api_name="/predict_text"), texts))
    assert len(results) == 20 and all(len(labels(r)) == 3 and r[0] == "" for r in results)


@requires_browser
def test_in_the_browser(served, runs):
    """Type a text and see every model's answer, then why (its words highlighted); upload an image and see
    every model's answer, then why (a heatmap); open Compare and see one row per model and the curves. Screenshots
    in test-artifacts/ (space-*.png; $TEST_ARTIFACTS elsewhere)."""
    from playwright.sync_api import expect

    with browser_page(name="space") as page:
        page.goto(served)
        page.locator("#text-input textarea").fill(TEXT)
        expect(page.locator("#text-why-glove_lstm")).to_be_hidden()  # nothing explained before Why? is clicked
        page.locator("#text-classify").click()
        for model in ("scratch_simple", "glove_lstm"):
            top = page.locator(f"#text-label-{model} [data-testid=label-output-value]")
            expect(top).to_have_text(re.compile("positive|negative"))
        expect(page.locator("#text-agreement")).to_contain_text("models")
        screenshot(page, "space-text")

        page.locator("#text-why").click()
        for model in ("scratch_simple", "glove_lstm"):
            why = page.locator(f"#text-why-{model}")
            expect(why).to_contain_text(re.compile(r"why '(positive|negative)' \(\d\.\d\d\)"))
            expect(why.locator("[data-testid='highlighted-text:textfield']")).to_have_text(TEXT)
            # Words are coloured by their score (red towards the predicted class, purple away from it).
            expect(why.locator("span[style*='background-color: rgba']").first).to_be_visible()
        expect(page.locator("#text-why-legend")).to_contain_text("integrated gradients")
        print(f"Why? (text): {screenshot(page, 'space-why-text')}")

        page.get_by_role("tab", name=re.compile("^Image")).click()
        page.locator("#image-input input[type=file]").set_input_files(
            str(runs["image"] / "scratch-simple" / "example.png")
        )
        page.locator("#image-classify").click()
        for model in ("scratch_simple", "pretrained_frozen", "ensemble"):
            expect(page.locator(f"#image-label-{model} [data-testid=label-output-value]")).to_contain_text("digit_")
        screenshot(page, "space-image")

        page.locator("#image-why").click()
        for model in ("scratch_simple", "pretrained_frozen"):
            expect(page.locator(f"#image-why-{model}")).to_contain_text(re.compile(r"why 'digit_\d' \(\d\.\d\d\)"))
            expect_image_loaded(page.locator(f"#image-why-{model} img"))
        expect(page.locator("#image-why-legend")).to_contain_text("Grad-CAM")
        print(f"Why? (image): {screenshot(page, 'space-why-image')}")

        page.locator('button[role=tab][data-tab-id="image-compare"]:visible').click()
        # One row per model (plus the header row), each model named.
        table = page.locator("#image-comparison [role=grid]")
        expect(table).to_have_attribute("aria-rowcount", "4")
        for model in ("scratch-simple", "pretrained-frozen", "ensemble"):
            expect(table).to_contain_text(model)
        for figure in ("roc_curves", "pr_curves", "calibration"):
            expect_image_loaded(page.locator(f"#image-{figure} img"))
        mistakes = page.locator("[id^=image-top_losses-]")  # only models that made a mistake on the test split
        if mistakes.count():
            mistakes.first.get_by_role("button").first.click()
            expect_image_loaded(mistakes.first.locator("img"))
        screenshot(page, "space-compare")

        page.locator('button[role=tab][data-tab-id="image-models"]:visible').click()
        page.locator("#image-card-pretrained_frozen").get_by_role("button").first.click()  # open its card
        expect_image_loaded(page.locator('img[src*="confusion_matrix.png"]:visible').first)
        screenshot(page, "space-models")

        # Time series: values pasted, plotted, classified by every model and explained over time.
        page.get_by_role("tab", name=re.compile("^Time series")).click()
        page.locator("#timeseries-input textarea").fill(series_text(runs))
        expect_image_loaded(page.locator("#timeseries-plot img"))
        page.locator("#timeseries-classify").click()
        for model in ("scratch_complex", "reference", "ensemble"):
            top = page.locator(f"#timeseries-label-{model} [data-testid=label-output-value]")
            expect(top).to_have_text(re.compile("sine|square"))
        page.locator("#timeseries-why").click()
        for model in ("scratch_complex", "reference"):
            expect(page.locator(f"#timeseries-why-{model}")).to_contain_text(re.compile(r"why '(sine|square)'"))
            expect_image_loaded(page.locator(f"#timeseries-why-{model} img"))
        expect(page.locator("#timeseries-why-legend")).to_contain_text("occlusion")
        print(f"Why? (time series): {screenshot(page, 'space-why-timeseries')}")

        # A one-series CSV uploaded fills the box (a line per channel) and is plotted; an example of the test
        # split, clicked, is classified by every model.
        box = page.locator("#timeseries-input textarea")
        box.fill("")
        page.locator("#timeseries-upload input[type=file]").set_input_files(
            str(runs["timeseries"] / "scratch-complex" / "example.csv")
        )
        expect(box).to_have_value(series_text(runs))
        expect_image_loaded(page.locator("#timeseries-plot img"))
        page.reload()  # no answer shown: the example's click alone must bring them
        page.get_by_role("tab", name=re.compile("^Time series")).click()
        expect(page.locator("#timeseries-label-reference [data-testid=label-output-value]")).to_have_count(0)
        page.locator("#timeseries-examples").locator(".gallery-item, tbody tr").first.click()
        expect(box).not_to_have_value("")
        for model in ("scratch_complex", "reference", "ensemble"):
            top = page.locator(f"#timeseries-label-{model} [data-testid=label-output-value]")
            expect(top).to_have_text(re.compile("sine|square"))
        screenshot(page, "space-timeseries-example")

        # Its Compare, Dataset and Models tabs: a row per model, the examples figure, a card with its figures.
        page.locator('button[role=tab][data-tab-id="timeseries-compare"]:visible').click()
        table = page.locator("#timeseries-comparison [role=grid]")
        expect(table).to_have_attribute("aria-rowcount", "4")
        for model in ("scratch-complex", "reference", "ensemble"):
            expect(table).to_contain_text(model)
        screenshot(page, "space-compare-timeseries")
        page.locator('button[role=tab][data-tab-id="timeseries-dataset"]:visible').click()
        expect_image_loaded(page.locator('img[src*="examples.png"]:visible').first)
        screenshot(page, "space-dataset-timeseries")
        page.locator('button[role=tab][data-tab-id="timeseries-models"]:visible').click()
        page.locator("#timeseries-card-reference").get_by_role("button").first.click()
        expect_image_loaded(page.locator('img[src*="confusion_matrix.png"]:visible').first)
        screenshot(page, "space-models-timeseries")

        # Text: the most confident mistakes of a model that made some, its words highlighted.
        page.goto(served)
        page.locator('button[role=tab][data-tab-id="text-compare"]:visible').click()
        mistakes = page.locator("[id^=text-top_losses-]")
        if mistakes.count():
            mistakes.first.get_by_role("button").first.click()
            expect(mistakes.first.locator("mark").first).to_be_visible()
        screenshot(page, "space-compare-text")


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the app did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


def test_deployed_space_runs_from_the_hub(hub, runs, tmp_path):
    """Publish the text and time-series models, deploy a Space showing them (by repo id) and the image run
    (bundled), then download the Space repo and start its app.py in a process that has never seen this project."""
    from gradio_client import Client

    env = hub_env(hub, tmp_path / "hf_home", hub.token)
    run_with_hub([sys.executable, "-m", "training.hub.publish", str(runs["text"]), "--repo_prefix", "space"], env, ROOT)
    publish_series = [sys.executable, "-m", "training.hub.publish", str(runs["timeseries"]), "--repo_prefix", "spacets"]
    run_with_hub(publish_series, env, ROOT)
    config = tmp_path / "models.yaml"
    config.write_text(
        f"text:\n  - {HUB_USER}/space-scratch-simple\n  - {HUB_USER}/space-glove-lstm\nimage:\n  - {runs['image']}\n"
        f"timeseries:\n  - {HUB_USER}/spacets-scratch-complex\n  - {HUB_USER}/spacets-reference\n"
    )
    deploy = [sys.executable, "-m", "training.hub.deploy_space", "--space_id", "lab-demo", "--config", str(config)]

    writes = len(hub.writes())
    dry = run_with_hub([*deploy, "--dry_run"], env, ROOT)
    assert "Dry run: nothing was uploaded." in dry.stdout and len(hub.writes()) == writes
    run_with_hub(deploy, env, ROOT)
    space = hub.repos[("space", f"{HUB_USER}/lab-demo")]
    files = set(space.commits[-1].files)
    assert {
        "app.py",
        "catalog.py",
        "requirements.txt",
        "README.md",
        "models.yaml",
        "training/core/results.py",
        "runs/digits/results.json",
        "runs/digits/pretrained-frozen/model.safetensors",
        "runs/digits/ensemble/modeling_soft_vote.py",
    } <= files
    assert space.sdk == "gradio" and not [f for f in files if f.endswith(".csv")]
    from huggingface_hub import SpaceCard

    card = SpaceCard(hub.file(f"{HUB_USER}/lab-demo", "README.md", repo_type="space").decode())
    assert card.data.sdk == "gradio" and card.data.app_file == "app.py" and card.data.python_version == "3.11"
    assert card.data.models == [
        f"{HUB_USER}/space-scratch-simple", f"{HUB_USER}/space-glove-lstm", f"{HUB_USER}/spacets-scratch-complex",
        f"{HUB_USER}/spacets-reference",
    ]  # fmt: skip

    # As Spaces do: the repo's files in a folder, `python app.py` there; no project, no cache.
    checkout = tmp_path / "space"
    fresh = hub_env(hub, tmp_path / "fresh_home")
    download = (
        f"from huggingface_hub import snapshot_download; snapshot_download('{HUB_USER}/lab-demo', "
        f"repo_type='space', local_dir='{checkout}')"
    )
    run_with_hub([sys.executable, "-c", download], fresh, tmp_path)
    port, log = free_port(), tmp_path / "app.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port)],
            cwd=checkout,
            env=fresh,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, process, log)
        client = Client(url, verbose=False)
        result = client.predict(TEXT, api_name="/predict_text")
        local = Client(url, verbose=False).predict(TEXT, api_name="/text_space_glove_lstm")
        assert len(labels(result)) == 2 and labels(result)[1] == local
        image = checkout / "runs" / "digits" / "scratch-simple" / "example.png"
        from gradio_client import handle_file

        # The bundled image run's ensemble votes with the members bundled beside it.
        assert len(labels(client.predict(handle_file(str(image)), api_name="/predict_image"))) == 3
        # The time-series models by repo id: their pipeline's code comes from their repos.
        series = labels(client.predict(series_text(runs), api_name="/predict_timeseries"))
        assert len(series) == 2 and all(s["label"] in ("sine", "square") for s in series), series
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in log.read_text()


def test_deploying_a_model_that_is_not_on_the_hub_stops_before_uploading(hub, tmp_path):
    config = tmp_path / "models.yaml"
    config.write_text(f"text:\n  - {HUB_USER}/never-pushed\n")
    writes = len(hub.writes())
    result = run_with_hub(
        [sys.executable, "-m", "training.hub.deploy_space", "--space_id", "empty", "--config", str(config)],
        hub_env(hub, tmp_path / "hf_home", hub.token),
        ROOT,
        expect=2,
    )
    assert f"the model {HUB_USER}/never-pushed listed for the Space is not on the Hub" in result.stderr
    assert len(hub.writes()) == writes
