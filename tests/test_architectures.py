"""The architectures a user with internet names (README: ViT, ResNet-50, a timm ResNet, DistilBERT, PatchTST,
PatchTSMixer), end to
end without internet. Tiny random stand-ins of each (``tests/tiny_models.py``) are published to the loopback
Hub under other ids; the README's own commands run with those ids swapped in, the test's data, and one
epoch; then the saved models reload by ``pipeline`` in a fresh process (their cards' snippets), the frozen
backbones are unchanged but for the head, and the Space predicts and explains with them."""

import csv
import re
import shlex
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import HUB_ORG, ROOT, check_model_card, digit_folders, hub_env, run_with_hub, sentiment_data
from tests.tiny_models import (
    HUB_IDS,
    tiny_distilbert,
    tiny_patchtsmixer,
    tiny_patchtst,
    tiny_resnet,
    tiny_timm_resnet,
    tiny_vit,
)

pytestmark = pytest.mark.slow

BUILDERS = {"vit": tiny_vit, "resnet": tiny_resnet, "timm-resnet": tiny_timm_resnet, "distilbert": tiny_distilbert,
            "patchtst": tiny_patchtst, "patchtsmixer": tiny_patchtsmixer}  # fmt: skip
KINDS = {"distilbert": "text", "patchtst": "timeseries", "patchtsmixer": "timeseries"}  # the others: image
# What the frozen model may change: its new head (the checkpoint's was missing or of another size).
HEADS = {
    "vit": {"classifier.weight", "classifier.bias"},
    "resnet": {"classifier.1.weight", "classifier.1.bias"},
    "timm-resnet": {"fc.weight", "fc.bias"},  # timm checkpoints are saved without the wrapper's prefix
}
QUICK = ["--num_train_epochs", "1", "--latency_samples", "2", "--top_losses", "2", "--seed", "3"]


def readme_commands() -> dict[str, list[str]]:
    """The README's commands that name a Hub model with ``--model_name_or_path``, by that id, as words."""
    commands = {}
    for block in re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if "--model_name_or_path" in words:
                commands[words[words.index("--model_name_or_path") + 1]] = words
    return commands


def tweets_like_csv(path: Path) -> Path:
    """The columns of the disaster-tweets file (keyword, text, target), filled from the sentiment rows."""
    rows = [{"id": r["id"], "keyword": "" if r["id"] % 5 == 0 else r["review"].split()[2], "text": r["review"],
             "target": int(r["sentiment"] == "positive")} for r in sentiment_data()]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def as_test_command(words: list[str], replacements: dict[str, str]) -> list[str]:
    """The README command with ``replacements`` (flag -> value) applied; its accelerate from this venv."""
    assert words[:3] == ["accelerate", "launch", "-q"], words
    words = [str(Path(sys.executable).parent / "accelerate"), *words[1:]]
    for flag, value in replacements.items():
        words[words.index(flag) + 1] = value
    assert not [w for w in words if "shared/data" in w], words  # every data path replaced
    return words + QUICK


@pytest.fixture(scope="module", params=list(HUB_IDS))
def run(request, hub, tmp_path_factory) -> dict:
    """One architecture: its stand-in published, its README command run; returns where everything is."""
    key = request.param
    tmp = tmp_path_factory.mktemp(key)
    repo_id = f"{HUB_ORG}/tiny-{key}"
    texts = [r["review"] for r in sentiment_data()] + [r["review"].split()[2] for r in sentiment_data()]
    stand_in = BUILDERS[key](tmp / "stand_in", texts) if key == "distilbert" else BUILDERS[key](tmp / "stand_in")
    hf = str(Path(sys.executable).parent / "hf")
    run_with_hub([hf, "upload", repo_id, str(stand_in), "."], hub_env(hub, tmp / "hf_home", token=hub.token), cwd=tmp)
    output = tmp / "out"
    replacements = {"--model_name_or_path": repo_id, "--output_dir": str(output)}
    if key == "distilbert":
        replacements["--train_file"] = str(tweets_like_csv(tmp / "tweets.csv"))
        extra = ["--max_seq_length", "32"]
    elif KINDS.get(key) == "timeseries":  # the README's archive dataset ships with aeon: no data to replace
        extra = []
    else:
        replacements["--train_dir"] = str(digit_folders(tmp / "train", per_class=16, size=64))
        extra = []
    command = as_test_command(readme_commands()[HUB_IDS[key]], replacements) + extra
    run_with_hub(command, hub_env(hub, tmp / "hf_home"), cwd=ROOT)  # as the README runs it
    models = {"text": ["transformer"], "timeseries": ["pretrained"]}.get(
        KINDS.get(key), ["pretrained-frozen", "pretrained"]
    )
    return {"key": key, "output": output, "stand_in": stand_in, "models": models, "repo_id": repo_id}


def test_the_readme_names_each_architecture():
    assert set(HUB_IDS.values()) <= set(readme_commands())


def test_each_model_trains_saves_and_reloads_through_its_card_in_a_fresh_process(run, tmp_path):
    import json

    for name in run["models"]:
        metrics = json.loads((run["output"] / name / "metrics.json").read_text())
        assert metrics["base_model"] == run["repo_id"] and 0 <= metrics["test"]["accuracy"] <= 1
        card = (run["output"] / name / "README.md").read_text()
        assert f"base_model: {run['repo_id']}" in card
        check_model_card(run["output"] / name, tmp_path)  # its usage snippet: pipeline(...) in a fresh process
    if run["key"] == "distilbert":
        dataset = json.loads((run["output"] / "dataset.json").read_text())
        assert dataset["input_fields"] == ["keyword", "text"]
        config = json.loads((run["output"] / "transformer" / "config.json").read_text())
        assert config["model_type"] == "distilbert" and config["architectures"] == [
            "DistilBertForSequenceClassification"
        ]
    if KINDS.get(run["key"]) == "timeseries":  # transformers' own model type, our subclass named for loading
        config = json.loads((run["output"] / "pretrained" / "config.json").read_text())
        assert config["model_type"] == run["key"] and config["auto_map"]["AutoModel"].startswith("modeling_ts_patch.")


def test_the_frozen_backbone_is_the_published_one_and_fine_tuning_changes_it(run):
    if run["key"] in KINDS:
        pytest.skip("the text and time-series lineups fine-tune their pretrained model end to end")
    published = load_file(run["stand_in"] / "model.safetensors")

    def changed(name: str) -> set[str]:
        saved = load_file(run["output"] / name / "model.safetensors")
        differ = set()
        for key, tensor in saved.items():
            # ViTForImageClassification saves "vit.embeddings...", the published ViTModel "embeddings...".
            source = next((published[k] for k in (key, key.split(".", 1)[-1]) if k in published), None)
            if source is None or source.shape != tensor.shape or not torch.equal(source, tensor):
                differ.add(key)
        return differ

    assert changed("pretrained-frozen") == HEADS[run["key"]]  # BatchNorm statistics included: unchanged
    assert len(changed("pretrained") - HEADS[run["key"]]) > 2


def test_the_space_predicts_and_explains_with_each_model(run, tmp_path):
    sys.path.insert(0, str(ROOT / "space"))
    import catalog
    from PIL import Image

    kind = KINDS.get(run["key"], "image")
    (section,) = catalog.load_sections({"text": [], "image": [], "timeseries": [], kind: [str(run["output"])]})
    assert [m.name for m in section.available] == run["models"]
    if kind == "text":
        value = "keyword: film | text: a superb film number 3"
        prediction, explanations = catalog.predict_text(section, value), catalog.explain_text(section, value)
    elif kind == "timeseries":
        value = catalog.series_text(str(run["output"] / "pretrained" / "example.csv"))
        prediction, explanations = catalog.predict_series(section, value), catalog.explain_series(section, value)
    else:
        Image.new("RGB", (70, 70), (200, 30, 30)).save(tmp_path / "red.png")
        value = str(tmp_path / "red.png")
        prediction, explanations = catalog.predict_image(section, value), catalog.explain_image(section, value)
    assert not prediction.errors and set(prediction.labels) == set(run["models"])
    assert not explanations.errors and set(explanations.shown) == set(run["models"])
