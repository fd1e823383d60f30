"""Publishing, the fast part: the loopback Hub behaves like the Hub for the real clients, and every
bad push (no token, a namespace the token cannot write, a read-only token, an incomplete output
directory, a wrong repo id) fails with one clear message before anything is uploaded.
The round trips with trained models are in test_publish_integration.py."""

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import HUB_USER, ROOT, hub_env, run_with_hub

PUBLISH = [sys.executable, "-m", "training.hub.publish"]


def publish(hub, tmp_path: Path, args: list[str], token: str | None, expect: int):
    return run_with_hub([*PUBLISH, *args], hub_env(hub, tmp_path / "hf_home", token), cwd=ROOT, expect=expect)


@pytest.fixture
def finished_run(tmp_path) -> Path:
    """The files a finished run's checks look at (not a trainable model: these pushes must stop first)."""
    output = tmp_path / "run"
    (output / "tiny").mkdir(parents=True)
    (output / "results.json").write_text(json.dumps({"models": [{"name": "tiny"}]}))
    (output / "dataset.json").write_text("{}")
    for name in ("config.json", "metrics.json", "model.safetensors"):
        (output / "tiny" / name).write_text("{}")
    return output


# Run in a subprocess: the tests run offline (conftest), and huggingface_hub reads that once, at import.
PROTOCOL = r"""
import os, sys
from pathlib import Path
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

token, bob_token = sys.argv[1:3]
api = HfApi(token=token)
assert api.whoami()["name"] == "alice"
api.create_repo("alice/protocol")
api.create_repo("alice/protocol", exist_ok=True)
first = api.create_commit("alice/protocol", [CommitOperationAdd("a.txt", b"one"),
                          CommitOperationAdd("sub/b.txt", b"bee")], commit_message="first")
second = api.upload_file(path_or_fileobj=b"two", path_in_repo="a.txt", repo_id="alice/protocol")
assert second.oid != first.oid and api.model_info("alice/protocol").sha == second.oid
assert sorted(api.list_repo_files("alice/protocol")) == ["a.txt", "sub/b.txt"]
assert [f.path for f in api.list_repo_tree("alice/protocol")] == ["sub", "a.txt"]
assert [f.path for f in api.get_paths_info("alice/protocol", ["a.txt", "sub", "nope"])] == ["a.txt", "sub"]
download = lambda name, **kwargs: Path(hf_hub_download("alice/protocol", name, **kwargs)).read_bytes()
assert download("a.txt") == b"two" and download("a.txt", revision=first.oid) == b"one"
assert download("sub/b.txt") == b"bee"
with pytest.raises(EntryNotFoundError):
    download("missing.txt")
with pytest.raises(RevisionNotFoundError):
    download("a.txt", revision="0" * 40)
with pytest.raises(RepositoryNotFoundError):
    api.model_info("alice/no-such-repo")
assert not api.file_exists("alice/protocol", "missing.txt") and not api.repo_exists("alice/no-such-repo")
# A private repo is invisible to others; nobody may write to another user's namespace.
api.create_repo("alice/secret", private=True)
with pytest.raises(RepositoryNotFoundError):
    HfApi(token=bob_token).model_info("alice/secret")
with pytest.raises(Exception, match="403"):
    HfApi(token=bob_token).upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="alice/protocol")
print("ok")
"""


def test_hub_server_speaks_the_protocol_of_the_real_client(hub, tmp_path):
    """Create, commit twice, read back by branch and by commit, list, and the clients' own errors."""
    command = [sys.executable, "-c", PROTOCOL, hub.token, hub.bob_token]
    result = run_with_hub(command, hub_env(hub, tmp_path / "hf_home"), cwd=tmp_path)
    assert result.stdout.strip() == "ok"
    assert hub.file(f"{HUB_USER}/protocol", "a.txt") == b"two"


def test_wrong_repo_id_gives_the_clients_not_found_error(hub, tmp_path):
    code = (
        "from transformers import pipeline\n"
        "try:\n    pipeline('text-classification', model='alice/no-such-model')\n"
        "except OSError as error:\n    print(type(error).__name__, error)\n"
    )
    result = run_with_hub([sys.executable, "-c", code], hub_env(hub, tmp_path / "hf_home"), cwd=tmp_path)
    assert "alice/no-such-model is not a local folder and is not a valid model identifier" in result.stdout


@pytest.mark.parametrize(
    "token_name, args, message",
    [
        (None, [], "no Hugging Face token: set HF_TOKEN, run `hf auth login`, or pass --hub_token"),
        ("token", ["--namespace", "bob"], "cannot write to 'bob' (it can write to alice, lab)"),
        ("read_token", [], "this token is read-only"),
        ("bad", [], "the Hub rejected the token"),
    ],
)
def test_push_without_write_access_stops_before_uploading(hub, tmp_path, finished_run, token_name, args, message):
    token = {"token": hub.token, "read_token": hub.read_token, "bad": "hf_not_a_real_token"}.get(token_name)
    writes = len(hub.writes())
    result = publish(hub, tmp_path, [str(finished_run), *args], token, expect=2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(hub.writes()) == writes


def test_incomplete_output_dir_is_refused_before_the_hub_is_contacted(hub, tmp_path, finished_run):
    requests = len(hub.requests)
    (finished_run / "tiny" / "model.safetensors").unlink()
    result = publish(hub, tmp_path, [str(finished_run)], hub.token, expect=2)
    assert "run/tiny is incomplete (missing model.safetensors); retrain this model" in result.stderr
    (finished_run / "results.json").unlink()
    result = publish(hub, tmp_path, [str(finished_run)], hub.token, expect=2)
    assert "has no results.json: it is not a finished run" in result.stderr
    result = publish(hub, tmp_path, [str(tmp_path / "nowhere")], hub.token, expect=2)
    assert "is not a directory" in result.stderr
    assert len(hub.requests) == requests


def test_train_script_checks_the_token_before_training(hub, tmp_path):
    output = tmp_path / "out"
    args = ["--output_dir", str(output), "--push_to_hub", "--hub_model_id", "bob/news"]
    command = [sys.executable, str(ROOT / "training" / "train_text.py"), *args]
    result = run_with_hub(command, hub_env(hub, tmp_path / "hf_home", hub.token), cwd=tmp_path, expect=2)
    assert "cannot write to 'bob'" in result.stderr and "Traceback" not in result.stderr
    assert not output.exists()
