"""Publishing, end to end, against the loopback Hub (tests/hub_server.py) with the real clients:
a text run pushed by train_text.py --push_to_hub and an image run pushed afterwards with
`python -m training.publish` are loaded by repo id in fresh processes with empty caches and predict
exactly what the local checkpoints predict; a second push is a new revision; a push that fails
halfway is retried; and the token is in no uploaded byte, log or output file."""

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import (
    HUB_ORG,
    HUB_USER,
    ROOT,
    digit_folders,
    hub_env,
    run_with_hub,
    sentiment_csv_args,
)
from tests.test_timeseries_data import long_frame, waves

pytestmark = pytest.mark.slow

# Loads a pushed model by repo id and its local checkpoint, in a process that never imports this
# project; prints both predictions (every class's score).
COMPARE = r"""
import json, sys
from transformers import pipeline
task, repo_id, local_dir, inputs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
revision = sys.argv[5] if len(sys.argv) > 5 else None
assert not any(name == "training" or name.startswith("training.") for name in sys.modules)
hub = pipeline(task, model=repo_id, revision=revision, trust_remote_code=True, device="cpu")
local = pipeline(task, model=local_dir, trust_remote_code=True, device="cpu")
print(json.dumps({"hub": hub(inputs, top_k=None), "local": local(inputs, top_k=None)}))
"""
# Explains one input with a pushed model loaded by repo id and with its local checkpoint (training.core.explain,
# as the Space does): the two explanations must be the same.
EXPLAIN = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from transformers import pipeline
from training.core.explain import explain
task, repo_id, local_dir, example = sys.argv[2:6]
found = {}
for where, source in (("hub", repo_id), ("local", local_dir)):
    classifier = pipeline(task, model=source, trust_remote_code=True, device="cpu")
    processor = classifier.tokenizer if task == "text-classification" else classifier.image_processor
    explanation = explain(classifier.model, processor, example)
    found[where] = [explanation.label, explanation.method, [round(float(x), 5) for x in explanation.scores.ravel()]]
print(json.dumps(found))
"""
TEXTS = ["a superb concert number 2", "a dreadful hotel number 4", "an evening out"]
BACKBONE = f"{HUB_ORG}/efficientnet-lite0"
EXPECTED_FILES = {"config.json", "model.safetensors", "metrics.json", "confusion_matrix.png", "learning_curves.png",
                  "curves.png", "README.md"}  # fmt: skip


def predictions(hub, task: str, repo_id: str, local_dir: Path, inputs: list[str], hf_home: Path,
                revision: str | None = None) -> dict:  # fmt: skip
    command = [sys.executable, "-c", COMPARE, task, repo_id, str(local_dir), json.dumps(inputs)]
    result = run_with_hub([*command, *([revision] if revision else [])], hub_env(hub, hf_home), cwd=hf_home.parent)
    return json.loads(result.stdout.strip().splitlines()[-1])


def explanations(hub, task: str, repo_id: str, local_dir: Path, example: str, hf_home: Path) -> dict:
    command = [sys.executable, "-c", EXPLAIN, str(ROOT), task, repo_id, str(local_dir), example]
    result = run_with_hub(command, hub_env(hub, hf_home), cwd=hf_home.parent)
    return json.loads(result.stdout.strip().splitlines()[-1])


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def repo_files(hub, repo_id: str) -> set[str]:
    return set(hub.repos[("model", repo_id)].commits[-1].files)


@pytest.fixture(scope="module")
def text_run(hub, tmp_path_factory) -> tuple[Path, str]:
    """Two text models trained and pushed by the training script itself, token on the command line
    (the most exposed place); returns the output dir and everything the run printed."""
    tmp = tmp_path_factory.mktemp("text_push")
    output = tmp / "out"
    args = [
        *sentiment_csv_args(tmp / "reviews.csv"),
        "--models", "scratch-simple,scratch-complex,ensemble", "--output_dir", str(output), "--num_train_epochs", "2",
        "--max_seq_length", "16", "--vocab_size", "200", "--latency_samples", "2", "--seed", "3",
        "--push_to_hub", "--hub_model_id", f"{HUB_USER}/reviews", "--hub_token", hub.token,
    ]  # fmt: skip
    command = [sys.executable, str(ROOT / "training" / "train_text.py"), *args]
    result = run_with_hub(command, hub_env(hub, tmp / "hf_home"), cwd=tmp)
    return output, result.stdout + result.stderr


@pytest.fixture(scope="module")
def image_run(hub, tmp_path_factory) -> tuple[Path, str]:
    """A scratch CNN and a backbone fine-tuned from a Hub repo id (the path users with internet take:
    the offline EfficientNet, uploaded to the loopback Hub first with `hf upload`), trained without
    pushing, then pushed to the lab org with `python -m training.publish`, the token from HF_TOKEN."""
    from training.image.efficientnet_lite import converted_checkpoint

    tmp = tmp_path_factory.mktemp("image_push")
    hf = str(Path(sys.executable).parent / "hf")
    run_with_hub([hf, "upload", BACKBONE, str(converted_checkpoint()), "."],
                 hub_env(hub, tmp / "hf_home", token=hub.token), cwd=tmp)  # fmt: skip
    digit_folders(tmp / "train", per_class=16, size=40)
    output = tmp / "digits"
    args = [
        "--train_dir", str(tmp / "train"), "--models", "scratch-simple,pretrained-frozen", "--output_dir",
        str(output), "--num_train_epochs", "1", "--image_size", "32", "--latency_samples", "2", "--seed", "3",
        "--model_name_or_path", BACKBONE,
    ]  # fmt: skip
    train = run_with_hub([sys.executable, str(ROOT / "training" / "train_image.py"), *args],
                         hub_env(hub, tmp / "hf_home"), cwd=tmp)  # fmt: skip
    before = tree_digest(output)
    push = run_with_hub([sys.executable, "-m", "training.hub.publish", str(output), "--namespace", HUB_ORG],
                        hub_env(hub, tmp / "hf_home", token=hub.token), cwd=ROOT)  # fmt: skip
    assert tree_digest(output) == before, "publishing must not touch the output directory"
    return output, train.stdout + train.stderr + push.stdout + push.stderr


@pytest.fixture(scope="module")
def series_run(hub, tmp_path_factory) -> tuple[Path, str]:
    """A time-series run (two channels, a long table) pushed by its training script: the FCN, MiniRocket and their
    ensemble, each repo with the pipeline and feature extractor file it needs."""
    tmp = tmp_path_factory.mktemp("series_push")
    series, classes = waves(count=40, length=24, channels=2)
    long_frame(series, classes).to_csv(tmp / "motion.csv", index=False)
    output = tmp / "out"
    args = [
        "--train_file", str(tmp / "motion.csv"), "--series_id_column", "id", "--time_column", "time",
        "--models", "scratch-complex,reference,ensemble", "--output_dir", str(output), "--num_train_epochs", "2",
        "--latency_samples", "2", "--seed", "3", "--push_to_hub", "--hub_model_id", f"{HUB_USER}/motion",
        "--hub_token", hub.token,
    ]  # fmt: skip
    command = [sys.executable, str(ROOT / "training" / "train_timeseries.py"), *args]
    result = run_with_hub(command, hub_env(hub, tmp / "hf_home"), cwd=tmp)
    return output, result.stdout + result.stderr


def test_time_series_push_round_trips(hub, series_run, tmp_path):
    """Loaded by repo id in a fresh process (the pipeline's code fetched from the repo), each model answers as its
    local checkpoint; the ensemble votes with the members pushed beside it."""
    output, log = series_run
    inputs = [series.tolist() for series in waves(count=3, length=24, channels=2, seed=5)[0]]
    for name in ("scratch-complex", "reference", "ensemble"):
        repo_id = f"{HUB_USER}/motion-{name}"
        assert f"Pushed {name} to {repo_id}" in log
        files = repo_files(hub, repo_id)
        assert not {f for f in files if f.endswith((".bin", ".pt", ".pkl"))}, files
        if name != "ensemble":
            assert {"processing_timeseries.py", "preprocessor_config.json", "example.csv"} <= files, files
        task = "time-series-classification"
        got = predictions(hub, task, repo_id, output / name, inputs, tmp_path / f"cache-{name}")
        assert got["hub"] == got["local"] and len(got["hub"]) == 3


def test_text_push_after_training_round_trips(hub, text_run, tmp_path):
    output, log = text_run
    for name in ("scratch-simple", "scratch-complex"):
        repo_id = f"{HUB_USER}/reviews-{name}"
        assert f"Pushed {name} to {repo_id}" in log
        files = repo_files(hub, repo_id)
        assert EXPECTED_FILES | {"tokenizer.json", "tokenizer_config.json"} <= files
        assert any(re.fullmatch(r"modeling_\w+\.py", f) for f in files), files  # custom code travels along
        assert not {f for f in files if f.endswith((".bin", ".pt", ".pkl", ".csv"))}, files  # no pickles, no data
        got = predictions(hub, "text-classification", repo_id, output / name, TEXTS, tmp_path / f"cache-{name}")
        assert got["hub"] == got["local"]
        why = explanations(hub, "text-classification", repo_id, output / name, TEXTS[0], tmp_path / f"why-{name}")
        assert why["hub"] == why["local"] and any(why["hub"][2])


def test_the_pushed_ensemble_votes_with_its_pushed_members(hub, text_run, tmp_path):
    """The ensemble's repo holds no member: loaded by repo id, it finds them in the repos pushed beside it."""
    output, log = text_run
    repo_id = f"{HUB_USER}/reviews-ensemble"
    assert f"Pushed ensemble to {repo_id}" in log
    assert {"config.json", "model.safetensors", "modeling_soft_vote.py", "README.md"} <= repo_files(hub, repo_id)
    got = predictions(hub, "text-classification", repo_id, output / "ensemble", TEXTS, tmp_path / "cache")
    assert got["hub"] == got["local"] and len(got["hub"][0]) == 2


def test_predict_reads_a_pushed_model_and_ensemble_by_repo_id(hub, text_run, tmp_path):
    """training/predict.py with Hub ids (the ensemble finds its members in the repos beside it): the same file as
    with the local folders; a repo that does not exist is one message and no output."""
    output, _ = text_run
    texts = tmp_path / "new.csv"
    texts.write_text("id,review\n" + "".join(f"r{i},{t}\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    predict = [sys.executable, str(ROOT / "training" / "predict.py"), "--input_file", str(texts), "--id_column", "id"]
    for name in ("scratch-simple", "ensemble"):
        env = hub_env(hub, tmp_path / f"cache-{name}")
        run_with_hub([*predict, "--model", f"{HUB_USER}/reviews-{name}", "--output", str(tmp_path / f"{name}-hub.csv")],
                     env, cwd=tmp_path)  # fmt: skip
        run_with_hub([*predict, "--model", str(output / name), "--output", str(tmp_path / f"{name}-local.csv")], env,
                     cwd=tmp_path)  # fmt: skip
        hub_rows = (tmp_path / f"{name}-hub.csv").read_text()
        assert hub_rows == (tmp_path / f"{name}-local.csv").read_text() and hub_rows.count("\n") == 4
    missing = run_with_hub([*predict, "--model", f"{HUB_USER}/no-such-model", "--output", str(tmp_path / "no.csv")],
                           hub_env(hub, tmp_path / "cache-missing"), cwd=tmp_path, expect=2)  # fmt: skip
    assert "could not load the model config of Hub model id" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "no.csv").exists()


def test_image_publish_round_trips_and_the_card_runs_as_written(hub, image_run, tmp_path):
    output, log = image_run
    image = str(output / "scratch-simple" / "example.png")
    for name in ("scratch-simple", "pretrained-frozen"):
        repo_id = f"{HUB_ORG}/digits-{name}"
        assert f"Pushed {name} to {repo_id}" in log
        files = repo_files(hub, repo_id)
        assert EXPECTED_FILES | {"example.png"} <= files
        if name == "scratch-simple":  # timm models keep their preprocessing in config.json (pretrained_cfg)
            assert {"preprocessor_config.json", "modeling_image_cnn.py"} <= files
        got = predictions(hub, "image-classification", repo_id, output / name, [image], tmp_path / f"cache-{name}")
        assert got["hub"] == got["local"]
        why = explanations(hub, "image-classification", repo_id, output / name, image, tmp_path / f"why-{name}")
        assert why["hub"] == why["local"] and why["hub"][1].startswith("Grad-CAM")
    # The pushed card: metadata the Hub understands, and a usage snippet naming the repo that runs as written.
    from huggingface_hub import ModelCard

    card = ModelCard(hub.file(f"{HUB_ORG}/digits-scratch-simple", "README.md").decode())
    assert card.data.pipeline_tag == "image-classification" and card.data.eval_results
    snippet = re.search(r"```python\n(.*?)```", card.content, re.S).group(1)
    assert f'model="{HUB_ORG}/digits-scratch-simple"' in snippet
    result = run_with_hub([sys.executable, "-c", snippet], hub_env(hub, tmp_path / "snippet"), cwd=tmp_path)
    assert "'label'" in result.stdout and "'score'" in result.stdout
    base = ModelCard(hub.file(f"{HUB_ORG}/digits-pretrained-frozen", "README.md").decode())
    assert base.data.base_model == BACKBONE


def test_second_push_is_a_new_revision(hub, text_run, tmp_path):
    """A changed model pushed again: a download with the old cache sees it, the old commit stays loadable."""
    from safetensors.torch import load_file, save_file

    output, _ = text_run
    repo_id = f"{HUB_USER}/reviews-scratch-simple"
    cache = tmp_path / "cache"
    old = predictions(hub, "text-classification", repo_id, output / "scratch-simple", TEXTS, cache)
    first_commit = hub.repos[("model", repo_id)].commits[-1].oid

    changed = tmp_path / "changed" / "reviews"
    shutil.copytree(output, changed)
    weights = changed / "scratch-simple" / "model.safetensors"
    tensors = load_file(weights)
    bias = next(key for key in tensors if key.endswith("bias") and tensors[key].numel() == 2)
    tensors[bias] = tensors[bias] + 5 * (tensors[bias].new_tensor([1.0, -1.0]))  # pushes every text to class 0
    save_file(tensors, weights, metadata={"format": "pt"})
    run_with_hub([sys.executable, "-m", "training.hub.publish", str(changed), "--namespace", HUB_USER,
                  "--models", "scratch-simple"], hub_env(hub, tmp_path / "hf_home", hub.token), cwd=ROOT)  # fmt: skip
    assert len(hub.repos[("model", repo_id)].commits) == 2

    new = predictions(hub, "text-classification", repo_id, changed / "scratch-simple", TEXTS, cache)
    assert new["hub"] == new["local"] != old["local"]
    pinned = predictions(hub, "text-classification", repo_id, output / "scratch-simple", TEXTS, cache, first_commit)
    assert pinned["hub"] == old["local"]


def test_dry_run_lists_every_file_and_sends_nothing(hub, image_run, tmp_path):
    output, _ = image_run
    requests = len(hub.requests)
    result = run_with_hub([sys.executable, "-m", "training.hub.publish", str(output), "--dry_run"],
                          hub_env(hub, tmp_path / "hf_home"), cwd=ROOT)  # fmt: skip
    listed = re.findall(r"^<your user name>/digits-scratch-simple: (\S+)", result.stdout, re.M)
    assert set(listed) == repo_files(hub, f"{HUB_ORG}/digits-scratch-simple")
    assert "Dry run: nothing was uploaded." in result.stdout and len(hub.requests) == requests


def test_push_that_fails_halfway_leaves_outputs_untouched_and_can_be_retried(hub, image_run, tmp_path):
    output, _ = image_run
    before = tree_digest(output)
    command = [sys.executable, "-m", "training.hub.publish", str(output), "--repo_prefix", "retry"]
    env = hub_env(hub, tmp_path / "hf_home", hub.token)
    hub.fail_commits_to.add(f"{HUB_USER}/retry-pretrained-frozen")
    result = run_with_hub(command, env, cwd=ROOT, expect=2)
    assert "pushing pretrained-frozen to alice/retry-pretrained-frozen failed" in result.stderr
    assert "Already pushed: alice/retry-scratch-simple" in result.stderr and "retry with" in result.stderr
    assert "Traceback" not in result.stderr and tree_digest(output) == before
    assert not hub.repos[("model", f"{HUB_USER}/retry-pretrained-frozen")].commits

    hub.fail_commits_to.clear()
    run_with_hub(command, env, cwd=ROOT)
    assert len(hub.repos[("model", f"{HUB_USER}/retry-scratch-simple")].commits) == 1  # unchanged: not resent
    assert len(hub.repos[("model", f"{HUB_USER}/retry-pretrained-frozen")].commits) == 1
    assert tree_digest(output) == before


def test_the_token_is_in_no_uploaded_byte_log_or_output_file(hub, text_run, image_run):
    uploaded = hub.request_log.read_bytes()
    assert b"model.safetensors" in uploaded and len(uploaded) > 100_000  # the log really holds the uploads
    secrets = [hub.token.encode(), hub.bob_token.encode(), hub.read_token.encode()]
    stored = [p.read_bytes() for p in (hub.root / "blobs").iterdir()]
    outputs = [p.read_bytes() for run, _ in (text_run, image_run) for p in run.rglob("*") if p.is_file()]
    logs = [text_run[1].encode(), image_run[1].encode()]
    assert not hub.unrouted  # every request the clients made was one the server implements
    for secret in secrets:
        assert secret not in uploaded
        assert not [blob for blob in stored if secret in blob]
        assert not [data for data in outputs if secret in data]
        assert not [log for log in logs if secret in log]


def test_login_token_is_used_when_no_other_is_given(hub, text_run, tmp_path):
    """`hf auth login` (here against the loopback Hub) stores the token where publish finds it; --private."""
    home = tmp_path / "hf_home"
    hf = str(Path(sys.executable).parent / "hf")
    run_with_hub([hf, "auth", "login", "--token", hub.token], hub_env(hub, home), cwd=tmp_path)
    output, _ = text_run
    result = run_with_hub([sys.executable, "-m", "training.hub.publish", str(output), "--models", "scratch-simple",
                           "--repo_prefix", "login", "--private"], hub_env(hub, home), cwd=ROOT)  # fmt: skip
    assert "Pushed scratch-simple to alice/login-scratch-simple" in result.stdout
    assert hub.repos[("model", f"{HUB_USER}/login-scratch-simple")].private


def readme_blocks(heading: str) -> tuple[list[str], str]:
    """The shell commands (continuations joined, comments dropped) and the Python snippet of a README section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    shell = re.search(r"```bash\n(.*?)```", section, re.S).group(1).replace("\\\n", " ")
    commands = [line.strip() for line in shell.splitlines() if line.strip() and not line.startswith("#")]
    return commands, re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_publish_commands_run_as_written(hub, tmp_path):
    """Each command of the README's publishing section, as printed there (the token from HF_TOKEN
    stands in for the interactive `hf auth login`), then its reuse snippet in a fresh process."""
    commands, snippet = readme_blocks("## Publish to the Hugging Face Hub")
    assert commands[0] == "hf auth login" and len(commands) == 4
    (tmp_path / "training").symlink_to(ROOT / "training")  # the commands run from a checkout's root
    env = hub_env(hub, tmp_path / "hf_home", token=hub.token)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # accelerate, python: the test's venv
    for command in commands[1:]:
        run_with_hub(["bash", "-c", command], env, cwd=tmp_path)
    for name in ("news-scratch-simple", "news-glove-lstm", "bbc-quick-glove-lstm"):
        assert "model.safetensors" in repo_files(hub, f"{HUB_USER}/{name}")
    assert ("model", f"{HUB_USER}/bbc-quick-scratch-simple") not in hub.repos  # --models glove-lstm only
    result = run_with_hub([sys.executable, "-c", snippet], hub_env(hub, tmp_path / "fresh", hub.token), cwd=tmp_path)
    text = "Shares in the carmaker fell 5% after the profit warning."
    local = run_with_hub(
        [sys.executable, "-c", "import sys; from transformers import pipeline; print(pipeline('text-classification',"
         " model=sys.argv[1], trust_remote_code=True)(sys.argv[2], truncation=True))",
         str(tmp_path / "outputs" / "news" / "glove-lstm"), text],
        hub_env(hub, tmp_path / "fresh"), cwd=tmp_path,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == local.stdout.strip().splitlines()[-1]
