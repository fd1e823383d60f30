"""Shared fixtures. Every test runs offline: nothing may reach the Hugging Face Hub."""

import csv
import os
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no version check or analytics from any Blocks built in tests

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

requires_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"benchmark data not found at {SHARED_DATA} (present in CI; a fresh clone has no ../shared/data)",
)


def write_csv(path: Path, rows: list[dict], fieldnames: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def sentiment_rows() -> list[dict]:
    """60 short, clearly labelled texts in two classes (distinct, so deduplication keeps them all)."""
    return sentiment_data()


def sentiment_csv_args(path: Path) -> list[str]:
    """A training script's data arguments for ``sentiment_data()`` written as a CSV at ``path``."""
    data = write_csv(path, sentiment_data())
    return ["--train_file", str(data), "--text_column", "review", "--label_column", "sentiment"]


def sentiment_data() -> list[dict]:
    """The rows of ``sentiment_rows``, for module-scoped fixtures."""
    good = ["great", "lovely", "excellent", "wonderful", "superb", "fantastic"]
    bad = ["awful", "terrible", "dreadful", "horrible", "poor", "bad"]
    things = ["film", "meal", "hotel", "book", "concert"]
    rows = []
    for i, (word_good, word_bad) in enumerate(zip(good, bad, strict=True)):
        for thing in things:
            rows.append({"id": len(rows), "review": f"a {word_good} {thing} number {i}", "sentiment": "positive"})
            rows.append({"id": len(rows), "review": f"a {word_bad} {thing} number {i}", "sentiment": "negative"})
    return rows


def write_image(path: Path, mode: str = "RGB", size: tuple[int, int] = (40, 32), seed: int = 0, fmt: str | None = None):
    """A small random image file (any PIL mode: RGB, L, RGBA, P...)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGB").convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


def digit_folders(
    root: Path, per_class: int, classes: tuple[int, ...] = (0, 1, 7), size: int = 48, offset: int = 0
) -> Path:
    """Real images in class folders: scikit-learn digits upsampled to about ``size`` px, in mixed
    colour modes (RGB, grayscale, RGBA, palette) and sizes, as PNG and JPEG."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    modes = ["RGB", "L", "RGBA", "P"]
    for digit in classes:
        images = digits.images[digits.target == digit][offset : offset + per_class]
        for i, pixels in enumerate(images):
            side = size + (i % 3) * 8
            image = Image.fromarray((pixels * 255 / 16).astype(np.uint8), "L").resize((side, side), Image.BILINEAR)
            image = image.convert(modes[i % len(modes)])
            suffix = ".jpg" if image.mode in ("RGB", "L") and i % 2 else ".png"
            path = root / f"digit_{digit}" / f"{i:03d}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.save(path)
    return root


def run_main(main, script: str, argv: list[str], capsys) -> tuple[int, str]:
    """Run a training script's ``main`` in-process as the command line would; returns (exit code, stderr)."""
    from training.core.errors import run_cli

    old = sys.argv
    sys.argv = [script, *argv]
    try:
        with pytest.raises(SystemExit) as exit_info:
            run_cli(main)
    finally:
        sys.argv = old
    return exit_info.value.code, capsys.readouterr().err


def run_script(script: str, args: list[str], cwd: Path, timeout: int = 900) -> str:
    """Run ``training/<script>`` in a subprocess, as a user would; fail the test with its stderr, else return it."""
    import subprocess

    command = [sys.executable, str(ROOT / "training" / script), *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stderr


def run_in_fresh_process(code: str, args: list[str], tmp_path: Path) -> str:
    """Run Python ``code`` the way a stranger would load our checkpoints: not from the project, no
    PYTHONPATH, an empty Hugging Face cache, offline. Returns the last line of stdout."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HOME=str(tmp_path / "hf_home"), HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def check_model_card(model_dir: Path, tmp_path: Path) -> None:
    """The card in ``model_dir`` parses with huggingface_hub, its model-index matches metrics.json,
    and its usage snippet runs as written in a fresh process."""
    import json
    import re

    from huggingface_hub import ModelCard

    card = ModelCard.load(model_dir / "README.md")
    metrics = json.loads((model_dir / "metrics.json").read_text())
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert results["Accuracy"] == round(metrics["test"]["accuracy"], 4)
    assert card.data.pipeline_tag in ("text-classification", "image-classification", "time-series-classification")
    assert card.data.library_name == "transformers" and card.data.license
    for section in ("## Model description", "## Dataset", "## Training procedure", "## Results",
                    "## Efficiency", "## How to use", "## Intended uses and limitations"):  # fmt: skip
        assert section in card.content, section
    assert "confusion_matrix.png" in card.content and "learning_curves.png" in card.content
    snippet = re.search(r"```python\n(.*?)```", card.content, re.S).group(1)
    output = run_in_fresh_process(snippet, [], tmp_path)
    assert "'label'" in output and "'score'" in output


def check_ensemble(run_dir: Path, members: list[str], task: str, tmp_path: Path, weighing: str) -> str:
    """The run's ensemble (core/ensemble.py), for any task: its weights over ``members`` were set as ``weighing``
    says (``stacking``: the vote's validation log loss; ``likelihood``: a small validation split's default),
    every split's probabilities are their weighted mean, it ships the soft-vote pipeline, and its card says how
    the weights were set and has a snippet that runs as written in a fresh process. Returns the snippet."""
    import json
    import re

    import numpy as np

    metrics = json.loads((run_dir / "ensemble" / "metrics.json").read_text())
    assert set(metrics["members"]) == set(members) and sum(metrics["members"].values()) == pytest.approx(1)
    chosen_by = metrics["hyperparameters"]["weights_chosen_by"]
    assert metrics["kind"] == "ensemble"
    if weighing == "likelihood":
        assert chosen_by == "likelihood" and "examples are too few to fit the vote's weights" in metrics["weights_note"]
    else:
        assert chosen_by == "validation log loss" and metrics["weights_note"].startswith("the weights of lowest")
    probabilities = {n: np.load(run_dir / n / "probabilities.npz") for n in members}
    for split in ("train", "validation", "test"):
        vote = sum(w * probabilities[n][f"{split}_probs"] for n, w in metrics["members"].items())
        assert np.allclose(np.load(run_dir / "ensemble" / "probabilities.npz")[f"{split}_probs"], vote)
    config = json.loads((run_dir / "ensemble" / "config.json").read_text())
    assert config["task"] == task
    assert config["custom_pipelines"][task]["impl"] == "modeling_soft_vote.SoftVotePipeline"
    card = (run_dir / "ensemble" / "README.md").read_text()
    assert metrics["weights_note"] in card and "learning_curves.png" not in card
    snippet = re.search(r"```python\n(.*?)```", card, re.S).group(1)
    assert "'label'" in run_in_fresh_process(snippet, [], tmp_path)
    return snippet


# --- A Hub on loopback (tests/hub_server.py) for the publishing tests -------------------------------

HUB_USER, HUB_ORG = "alice", "lab"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A fresh Hub stand-in on loopback. ``hub.token`` writes to alice and the lab org; ``hub.bob_token``
    to bob only; ``hub.read_token`` is alice's read-only token. Tokens are random, as real ones are,
    so a search for one in uploaded bytes means something."""
    import secrets

    from tests.hub_server import FakeHub, User

    token, bob_token, read_token = (f"hf_{secrets.token_urlsafe(26)}" for _ in range(3))
    server = FakeHub(tmp_path_factory.mktemp("hub"), {
        token: User(HUB_USER, orgs=[HUB_ORG]), bob_token: User("bob"), read_token: User(HUB_USER, role="read"),
    })  # fmt: skip
    server.start()
    server.token, server.bob_token, server.read_token = token, bob_token, read_token
    yield server
    server.stop()


def hub_env(hub, hf_home: Path, token: str | None = None) -> dict[str, str]:
    """The environment of a process that talks to ``hub`` as if it were the Hub: the real clients,
    pointed at it with HF_ENDPOINT, online, with its own HF cache and (optionally) HF_TOKEN."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HF_TOKEN", "HF_HUB_OFFLINE")}
    env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(hf_home), HF_HUB_DISABLE_TELEMETRY="1")
    if token:
        env["HF_TOKEN"] = token
    return env


def run_with_hub(command: list[str], env: dict[str, str], cwd: Path, expect: int = 0, timeout: int = 900):
    """Run ``command`` with ``env`` (see ``hub_env``); fail unless it exits with ``expect``. Returns the
    CompletedProcess, so tests can read stdout and stderr."""
    import subprocess

    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    assert result.returncode == expect, (result.returncode, result.stdout[-2000:], result.stderr[-4000:])
    return result
