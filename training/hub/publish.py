"""Push the models of a finished run to the Hugging Face Hub: one repo per model.

    python -m training.publish outputs/text --namespace alice            # alice/text-scratch-simple, ...
    python -m training.publish outputs/image --namespace alice --dry_run # what would go where, nothing sent

Each repo gets the weights (safetensors only), config, tokenizer or image processor, the modeling
code of custom architectures (so ``from_pretrained(repo_id, trust_remote_code=True)`` works
anywhere), ``metrics.json``, the figures and the model card, re-rendered with the repo id in its
usage snippet. Everything is checked before the first byte is sent (token, namespace, complete
output directory); each repo is one commit, and the local outputs are never modified, so a failed
push can simply be run again. ``train_text.py``/``train_image.py --push_to_hub`` call the same code.
"""

import fnmatch
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from huggingface_hub import CommitOperationAdd, HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError
from transformers import HfArgumentParser

from training.core.errors import UserError, run_cli
from training.reporting.model_card import build_model_card

# What a model repo receives; anything else in the model folder (predictions.csv: it holds the whole test
# split) stays local. The top losses show a dozen test examples, as the card's example image shows one.
# No pickles: safetensors only.
UPLOADED = (
    "model.safetensors", "model-*.safetensors", "model.safetensors.index.json", "config.json",
    "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
    "preprocessor_config.json", "modeling_*.py", "configuration_*.py", "processing_*.py", "metrics.json",
    "confusion_matrix.png", "learning_curves.png", "example.png", "example.csv", "curves.png", "top_losses.png",
    "top_losses.md",
)  # fmt: skip
REQUIRED = ("config.json", "metrics.json")
# What a failed Hub call raises: the Hub's answer, the HTTP client's own errors, or the network's.
HUB_ERRORS = (HfHubHTTPError, httpx.HTTPError, OSError)

# huggingface_hub's HTTP client logs every request at INFO; the scripts log at INFO for their own news.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class PublishArguments:
    """Which run to push, and where."""

    output_dir: str = field(metadata={"help": "A finished run's output directory (the first argument)."})
    namespace: str | None = field(
        default=None, metadata={"help": "User or organisation to push to. Default: the token's user."}
    )
    repo_prefix: str | None = field(
        default=None,
        metadata={"help": "Repos are named <repo_prefix>-<model>. Default: the output directory's name."},
    )
    models: str = field(default="all", metadata={"help": "Comma-separated models of the run to push, or 'all'."})
    hub_token: str | None = field(
        default=None, metadata={"help": "Hub token with write access. Default: HF_TOKEN or `hf auth login`."}
    )
    private: bool = field(default=False, metadata={"help": "Create the repos as private."})
    license: str = field(default="apache-2.0", metadata={"help": "License in the model cards' metadata."})
    dry_run: bool = field(default=False, metadata={"help": "List what would be uploaded where; send nothing."})


@dataclass
class Upload:
    """One repo's worth: the files to send and the re-rendered card."""

    name: str
    repo_id: str
    files: list[Path]
    card: str


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_run(output_dir: Path, models: list[str] | None) -> tuple[dict, dict, list[str]]:
    """The run's results.json, dataset.json and the models to push, after checking that each is complete."""
    if not output_dir.is_dir():
        raise UserError(f"{output_dir} is not a directory. Give a run's --output_dir.")
    if not (output_dir / "results.json").is_file():
        raise UserError(
            f"{output_dir} has no results.json: it is not a finished run (training was interrupted, or this is not "
            "an output directory). Finish it with --resume_from_checkpoint true, then push."
        )
    results, description = _read_json(output_dir / "results.json"), _read_json(output_dir / "dataset.json")
    in_run = [m["name"] for m in results["models"]]
    names = models or in_run
    unknown = [name for name in names if name not in in_run]
    if unknown:
        raise UserError(f"model(s) {', '.join(unknown)} are not in this run. It has: {', '.join(in_run)}.")
    for name in names:
        model_dir = output_dir / name
        missing = [f for f in REQUIRED if not (model_dir / f).is_file()]
        if not list(model_dir.glob("*.safetensors")):
            missing.append("model.safetensors")
        if missing:
            raise UserError(f"{model_dir} is incomplete (missing {', '.join(missing)}); retrain this model.")
    return results, description, names


def model_files(model_dir: Path, extra: tuple[str, ...] = ()) -> list[Path]:
    """The files of a model folder that go to the Hub (``UPLOADED``, plus ``extra`` name patterns)."""
    patterns = (*UPLOADED, *extra)
    return sorted(p for p in model_dir.iterdir() if p.is_file() and any(fnmatch.fnmatch(p.name, g) for g in patterns))


def plan_uploads(
    output_dir: Path, run: tuple[dict, dict, list[str]], namespace: str, repo_prefix: str, license: str
) -> list[Upload]:
    """Each model's upload to ``namespace/<repo_prefix>-<model>``, its card rendered for that repo id."""
    results, description, names = run
    by_name = {m["name"]: m for m in results["models"]}
    uploads = []
    for name in names:
        model_dir, repo_id = output_dir / name, f"{namespace}/{repo_prefix}-{name}"
        card = build_model_card(by_name[name], description, results, model_dir, model_id=repo_id, license=license)
        uploads.append(Upload(name, repo_id, model_files(model_dir), str(card)))
    return uploads


def _writable_namespaces(api: HfApi, token: str) -> tuple[str, set[str]]:
    try:
        identity = api.whoami(token=token)
    except HfHubHTTPError as error:
        raise UserError(f"the Hub rejected the token ({error}). Create a write token and pass it with --hub_token, "
                        "HF_TOKEN or `hf auth login`.") from None  # fmt: skip
    except (httpx.HTTPError, OSError) as error:
        raise UserError(f"cannot reach the Hugging Face Hub at {api.endpoint}: {error}") from None
    role = identity.get("auth", {}).get("accessToken", {}).get("role")
    if role == "read":
        raise UserError("this token is read-only; pushing needs a token with write access.")
    orgs = {org["name"] for org in identity.get("orgs", []) if org.get("roleInOrg", "write") != "read"}
    return identity["name"], {identity["name"], *orgs}


def check_push_access(namespace: str | None, token: str | None) -> tuple[str, str]:
    """(namespace, token) after checking that the token exists and may write to the namespace
    (default: the token's user). Raises UserError before anything is uploaded."""
    token = token or get_token()
    if not token:
        raise UserError("no Hugging Face token: set HF_TOKEN, run `hf auth login`, or pass --hub_token.")
    user, writable = _writable_namespaces(HfApi(), token)
    namespace = namespace or user
    if namespace not in writable:
        raise UserError(
            f"the token of {user!r} cannot write to {namespace!r} (it can write to {', '.join(sorted(writable))})."
        )
    return namespace, token


def split_hub_model_id(hub_model_id: str | None) -> tuple[str | None, str | None]:
    """Trainer's ``--hub_model_id`` ("user/name" or "name") as (namespace, repo prefix)."""
    if not hub_model_id:
        return None, None
    namespace, _, prefix = hub_model_id.rpartition("/")
    return namespace or None, prefix


def publish_run(
    output_dir: Path,
    *,
    namespace: str | None,
    repo_prefix: str | None,
    models: list[str] | None = None,
    token: str | None = None,
    private: bool = False,
    license: str = "apache-2.0",
    dry_run: bool = False,
) -> list[str]:
    """Push the run's models (all, or ``models``) to ``namespace/<repo_prefix>-<model>``, one repo and one
    commit each; returns the repo ids. The local outputs are only read."""
    output_dir = Path(output_dir)
    run = load_run(output_dir, models)  # everything local is checked before the Hub is contacted
    if dry_run:
        namespace = namespace or "<your user name>"
    else:
        namespace, token = check_push_access(namespace, token)
    repo_prefix = repo_prefix or output_dir.resolve().name
    uploads = plan_uploads(output_dir, run, namespace, repo_prefix, license)
    for upload in uploads:
        for path in upload.files:
            print(f"{upload.repo_id}: {path.name} ({path.stat().st_size:,} bytes)")
        print(f"{upload.repo_id}: README.md (model card, {len(upload.card):,} characters)")
    if dry_run:
        print("Dry run: nothing was uploaded.")
        return [u.repo_id for u in uploads]
    api = HfApi()
    for done, upload in enumerate(uploads):
        try:
            api.create_repo(upload.repo_id, token=token, private=private, exist_ok=True)
            operations = [CommitOperationAdd(path.name, str(path)) for path in upload.files]
            operations.append(CommitOperationAdd("README.md", upload.card.encode("utf-8")))
            info = api.create_commit(
                upload.repo_id, operations, commit_message=f"Upload {upload.name} (classification-lab)", token=token
            )
        except HUB_ERRORS as error:
            # Each repo is one commit, so a failure leaves it as it was; the local files were only read.
            pushed = ", ".join(u.repo_id for u in uploads[:done]) or "none"
            raise UserError(
                f"pushing {upload.name} to {upload.repo_id} failed: {str(error).strip()}\nAlready pushed: {pushed}. "
                f"The output directory is unchanged; retry with `python -m training.publish {output_dir} "
                f"--namespace {namespace} --repo_prefix {repo_prefix}`"
                " (files already on the Hub are not sent again)."
            ) from None
        print(f"Pushed {upload.name} to {upload.repo_id} (commit {info.oid[:10]})")
    return [u.repo_id for u in uploads]


def main() -> None:
    argv = sys.argv[1:]
    if argv and not argv[0].startswith("-"):  # the output directory as first argument
        argv = ["--output_dir", argv[0], *argv[1:]]
    (args,) = HfArgumentParser(PublishArguments).parse_args_into_dataclasses(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    models = None if args.models.strip() == "all" else [m.strip() for m in args.models.split(",") if m.strip()]
    publish_run(
        Path(args.output_dir), namespace=args.namespace, repo_prefix=args.repo_prefix, models=models,
        token=args.hub_token, private=args.private, license=args.license, dry_run=args.dry_run,
    )  # fmt: skip


if __name__ == "__main__":
    run_cli(main)
